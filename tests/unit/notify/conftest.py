"""Fixtures for the notify unit tests: test alerts, a manual clock, golden-file comparison."""

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

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "notify"


def load_alerts_module() -> ModuleType:
    """``alerts.py`` beside this file, loaded by path (tests are imported in importlib mode)."""
    name = "sgwatch_notify_test_alerts"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("alerts.py"))
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def alerts() -> ModuleType:
    return load_alerts_module()


@pytest.fixture
def clock(alerts: ModuleType) -> Any:
    return alerts.ManualClock()


def _compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SGWATCH_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; run with SGWATCH_REGEN_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.fixture
def golden() -> Callable[[str, Any], None]:
    """``golden(name, value)``: JSON values are stored sorted and indented, strings as they are."""

    def check(name: str, value: Any) -> None:
        text = (
            value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
        _compare(name, text)

    return check
