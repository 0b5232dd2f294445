"""Helpers for the runtime unit tests: judge CloudTrail fixtures into Judgements (pure, no AWS)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sgwatch.model import GroupInfo, Judgement
from sgwatch.pipeline import judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, RawRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TODAY = dt.date(2026, 6, 1)


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "cloudtrail" / f"{name}.json").read_text())
    return data


@pytest.fixture
def record() -> Callable[[str], dict[str, Any]]:
    """A fresh (mutable) copy of a CloudTrail fixture record."""
    return lambda name: copy.deepcopy(_load(name))


Judge = Callable[..., list[Judgement]]


@pytest.fixture
def judged() -> Judge:
    """Judge one record (a fixture name or a dict) with an optional policy and group info."""

    def run(rec: str | dict[str, Any], policy: Policy | None = None, group: GroupInfo | None = None) -> list[Judgement]:
        data = _load(rec) if isinstance(rec, str) else rec
        out = []
        for item in judge([RawRecord(data=data, origin="test")], policy or Policy(), today=TODAY,
                          lookup=(lambda _c: group) if group else None):  # fmt: skip
            assert not isinstance(item, Problem), item
            out.append(item)
        return out

    return run
