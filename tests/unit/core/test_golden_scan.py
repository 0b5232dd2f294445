"""Every CloudTrail fixture against its golden rows: a new fixture file is a new test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sgwatch.serialize import judgement_row

from .conftest import FIXTURES, GOLDEN, judge_file

CASES = sorted((FIXTURES / "cloudtrail").glob("*.json"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_rows(path: Path, golden_file: Callable[[Path, Any], None]) -> None:
    judgements, problems = judge_file(path)
    assert not problems
    rows = [judgement_row(j) for j in judgements]
    for row, judgement in zip(rows, judgements, strict=True):
        row["reasons"] = [f.reason for f in judgement.findings]
    golden_file(GOLDEN / "scan" / f"{path.stem}.json", rows)


def test_every_event_name_has_a_fixture() -> None:
    from sgwatch.normalize import SG_EVENT_NAMES

    covered = {p.stem.split("__")[0] for p in CASES}
    assert set(SG_EVENT_NAMES) <= covered


def test_every_row_field_has_one_json_type_across_all_fixtures() -> None:
    """A SIEM maps a field to one type: ``protocol`` is ``"47"`` like ``"tcp"`` and ``"-1"``, never 47."""
    types: dict[str, set[str]] = {}
    for path in CASES:
        for judgement in judge_file(path)[0]:
            for key, value in judgement_row(judgement).items():
                if value is not None:
                    types.setdefault(key, set()).add(type(value).__name__)
    assert {key: kinds for key, kinds in types.items() if len(kinds) > 1} == {}
    assert types["protocol"] == {"str"}
