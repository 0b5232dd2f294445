"""Shared helpers for the core unit tests: fixture paths and golden-file comparison."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sgwatch.model import Judgement
from sgwatch.pipeline import judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, read_source

TESTS = Path(__file__).resolve().parents[2]
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"
TODAY = dt.date(2026, 6, 1)


def judge_file(path: Path, policy: Policy | None = None) -> tuple[list[Judgement], list[Problem]]:
    judgements: list[Judgement] = []
    problems: list[Problem] = []
    for item in judge(read_source(path), policy or Policy(), today=TODAY):
        (problems if isinstance(item, Problem) else judgements).append(item)  # type: ignore[arg-type]
    return judgements, problems


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "cloudtrail" / f"{name}.json").read_text())
    return data
