"""Fixtures shared by every test area: golden-file comparison (regenerate with ``make golden``) and the
test-support modules (tests run in importlib mode, so they cannot import one another)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"


def load_module(path: Path, name: str) -> ModuleType:
    """The Python file at ``path`` as module ``name``, loaded once per session."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file runs
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def support() -> Callable[[str], ModuleType]:
    """``support("unit/notify/alerts.py")``: a test-support module by its path under tests/."""
    return lambda relative: load_module(
        TESTS / relative, "sgwatch_test_" + Path(relative).with_suffix("").as_posix().replace("/", "_")
    )


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
