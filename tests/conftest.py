"""Fixtures shared by every test area: golden-file comparison (regenerate with ``make golden``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"


def json_text(value: Any) -> str:
    """How golden JSON is stored: sorted keys, two-space indent, UTF-8, a final newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_golden(path: Path, text: str) -> None:
    """``text`` equals the file at ``path``; SGWATCH_REGEN_GOLDEN=1 writes it instead."""
    if os.environ.get("SGWATCH_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing: run `make golden` and review it")
    assert text == path.read_text(encoding="utf-8"), f"differs from {path} (make golden to update)"


@pytest.fixture(scope="session")
def golden_file() -> Callable[[Path, Any], None]:
    """``golden_file(path, value)``: strings are compared as they are, other values as golden JSON."""
    return lambda path, value: check_golden(path, value if isinstance(value, str) else json_text(value))
