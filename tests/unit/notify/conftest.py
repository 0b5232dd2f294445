"""Fixtures for the notify unit tests: test alerts, a manual clock, golden-file comparison."""

from __future__ import annotations

import importlib.util
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


@pytest.fixture
def golden(golden_file: Callable[[Path, Any], None]) -> Callable[[str, Any], None]:
    """``golden(name, value)``: JSON values are stored sorted and indented, strings as they are."""
    return lambda name, value: golden_file(GOLDEN / name, value)
