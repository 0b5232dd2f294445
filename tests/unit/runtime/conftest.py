"""Helpers for the runtime unit tests: judge CloudTrail fixtures into Judgements (pure, no AWS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sgwatch.model import GroupInfo, Judgement
from sgwatch.pipeline import judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, RawRecord
from tests.conftest import support_module

_cloudtrail = support_module("support/cloudtrail.py")
TODAY = _cloudtrail.TODAY
load_fixture = _cloudtrail.load_fixture


@pytest.fixture
def record() -> Callable[[str], dict[str, Any]]:
    """A fresh (mutable) copy of a CloudTrail fixture record."""
    fresh: Callable[[str], dict[str, Any]] = load_fixture  # parses the file anew on every call
    return fresh


Judge = Callable[..., list[Judgement]]


@pytest.fixture
def judged() -> Judge:
    """Judge one record (a fixture name or a dict) with an optional policy and group info."""

    def run(rec: str | dict[str, Any], policy: Policy | None = None, group: GroupInfo | None = None) -> list[Judgement]:
        data = load_fixture(rec) if isinstance(rec, str) else rec
        out = []
        for item in judge([RawRecord(data=data, origin="test")], policy or Policy(), today=TODAY,
                          lookup=(lambda _c: group) if group else None):  # fmt: skip
            assert not isinstance(item, Problem), item
            out.append(item)
        return out

    return run
