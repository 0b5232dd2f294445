"""The CloudTrail records of tests/fixtures/cloudtrail/ (one record per file, ``<EventName>__<variant>.json``)
and the day the tests judge them on.

Test-support module: area conftests re-export ``TODAY`` and ``load_fixture`` for their test modules
(``support_module("support/cloudtrail.py")`` in tests/conftest.py loads it; the ``support`` fixture too).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLOUDTRAIL = FIXTURES / "cloudtrail"
TODAY = dt.date(2026, 6, 1)  # the day policy expiry is judged on: fixed, never the date of the run


def load_fixture(name: str) -> dict[str, Any]:
    """The record of tests/fixtures/cloudtrail/<name>.json, parsed anew on every call (callers may change it)."""
    data: dict[str, Any] = json.loads((CLOUDTRAIL / f"{name}.json").read_text())
    return data


def fixture_names() -> list[str]:
    """The name of every record file of tests/fixtures/cloudtrail/, in the order of their sorted paths."""
    return [path.stem for path in sorted(CLOUDTRAIL.glob("*.json"))]
