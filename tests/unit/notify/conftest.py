"""Fixtures for the notify unit tests: golden-file comparison (``clock``, the test alerts' manual clock, is the
root conftest's)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "notify"


@pytest.fixture
def golden(golden_file: Callable[[Path, Any], None]) -> Callable[[str, Any], None]:
    """``golden(name, value)``: JSON values are stored sorted and indented, strings as they are."""
    return lambda name, value: golden_file(GOLDEN / name, value)
