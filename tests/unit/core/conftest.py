"""Shared helpers for the core unit tests: fixture paths, the CloudTrail fixture records and judging a file."""

from __future__ import annotations

from pathlib import Path

from sgwatch.model import Judgement
from sgwatch.pipeline import judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, read_source
from tests.conftest import GOLDEN, TESTS, support_module

_cloudtrail = support_module("support/cloudtrail.py")
FIXTURES: Path = _cloudtrail.FIXTURES
TODAY = _cloudtrail.TODAY
load_fixture = _cloudtrail.load_fixture
__all__ = ["FIXTURES", "GOLDEN", "TESTS", "TODAY", "judge_file", "load_fixture"]


def judge_file(path: Path, policy: Policy | None = None) -> tuple[list[Judgement], list[Problem]]:
    judgements: list[Judgement] = []
    problems: list[Problem] = []
    for item in judge(read_source(path), policy or Policy(), today=TODAY):
        (problems if isinstance(item, Problem) else judgements).append(item)  # type: ignore[arg-type]
    return judgements, problems
