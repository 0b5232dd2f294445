"""Golden outputs of the audit store for the shared scenario (regenerate with SGWATCH_REGEN_GOLDEN=1)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sgwatch.audit.query import HistoryFilter
from sgwatch.audit.render import render_report
from sgwatch.audit.report import collect_report
from sgwatch.audit.store import AuditStore
from sgwatch.serialize import judgement_row

GOLDEN = Path(__file__).parents[2] / "golden" / "audit"


@pytest.fixture
def check_golden(golden_file: Callable[[Path, Any], None]) -> Callable[[str, Any], None]:
    return lambda name, value: golden_file(GOLDEN / name, value)


def test_golden_history_rows(filled: AuditStore, check_golden: Callable[[str, Any], None]) -> None:
    check_golden("history.json", [judgement_row(j) for j in filled.query(HistoryFilter())])


def test_golden_group_states(filled: AuditStore, sc: ModuleType, check_golden: Callable[[str, Any], None]) -> None:
    states = {
        when or "latest": {
            group: [judgement_row(j) for j in filled.group_state(group, None if when is None else sc.at(when))]
            for group in filled.group_ids()
        }
        for when in ("2024-05-04T12:00:00", None)
    }
    check_golden("group_states.json", states)


def test_golden_report_facts(filled: AuditStore, check_golden: Callable[[str, Any], None]) -> None:
    since, until = datetime(2024, 4, 25, tzinfo=UTC), datetime(2024, 5, 25, tzinfo=UTC)
    data = collect_report(filled, since, until, until)
    html = render_report(data)
    facts = {
        "changes": [f"{j.change.event_id}/{j.change.rule_index} {j.severity}" for j in data.changes],
        "before": {f"{k[0]} {k[1]}": v.event_id for k, v in data.before.items()},
        "exposed": {g.group_id: [j.change.rule_key for j in g.rules] for g in data.exposed},
        "remediations": [f"{r.rule_key} {r.status} dry_run={r.dry_run}" for r in data.remediations],
        "deliveries": [f"{d.delivery.channel} {d.delivery.status}" for d in data.deliveries],
        "ids": sorted(set(re.findall(r' id="([a-z0-9_-]+)"', html))),
    }
    check_golden("report_facts.json", facts)
