"""Shared helpers for the core unit tests: fixture paths and golden-file comparison."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from sgwatch.model import Judgement
from sgwatch.pipeline import judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, read_source

TESTS = Path(__file__).resolve().parents[2]
FIXTURES = TESTS / "fixtures"
GOLDEN = TESTS / "golden"
TODAY = dt.date(2026, 6, 1)


def regen() -> bool:
    return os.environ.get("SGWATCH_REGEN_GOLDEN") == "1"


def assert_golden(path: Path, actual: Any) -> None:
    """Compare with sorted, indented JSON on disk; SGWATCH_REGEN_GOLDEN=1 rewrites it."""
    text = json.dumps(actual, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if regen() or not path.exists():
        if not regen():
            pytest.fail(f"golden file {path} is missing: run `make golden` and review it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert json.loads(path.read_text(encoding="utf-8")) == actual, f"differs from {path} (make golden to update)"


def judge_file(path: Path, policy: Policy | None = None) -> tuple[list[Judgement], list[Problem]]:
    judgements: list[Judgement] = []
    problems: list[Problem] = []
    for item in judge(read_source(path), policy or Policy(), today=TODAY):
        (problems if isinstance(item, Problem) else judgements).append(item)  # type: ignore[arg-type]
    return judgements, problems


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "cloudtrail" / f"{name}.json").read_text())
    return data
