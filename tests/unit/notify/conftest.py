"""Fixtures for the notify unit tests: a manual clock over the test alerts, golden-file comparison."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "notify"


@pytest.fixture
def clock(alerts: ModuleType) -> Any:
    return alerts.ManualClock()


@pytest.fixture
def golden(golden_file: Callable[[Path, Any], None]) -> Callable[[str, Any], None]:
    """``golden(name, value)``: JSON values are stored sorted and indented, strings as they are."""
    return lambda name, value: golden_file(GOLDEN / name, value)
