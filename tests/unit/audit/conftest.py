"""Fixtures for the audit tests: a settable clock, stores in tmp_path, the CloudTrail fixture records
(the scenario, ``sc``, is the root conftest's)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from sgwatch.audit.store import AuditStore
from tests.conftest import support_module

load_fixture = support_module("support/cloudtrail.py").load_fixture


class Clock:
    """A settable UTC clock for recorded_at / at stamps."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """The audit tests' clock (in place of the root's ManualClock): stamps rows from 2024-05-20 12:00 UTC."""
    return Clock(datetime(2024, 5, 20, 12, 0, tzinfo=UTC))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "audit.sqlite"


@pytest.fixture
def store(db_path: Path, clock: Clock) -> Iterator[AuditStore]:
    with AuditStore.open(db_path, now=clock) as opened:
        yield opened


@pytest.fixture
def filled(store: AuditStore, sc: ModuleType, clock: Clock) -> AuditStore:
    """The store with the whole scenario: changes, deliveries and remediations."""
    judgements = sc.scenario()
    assert store.record_judgements(judgements) == len(judgements)
    store.record_deliveries(sc.deliveries())
    for change, remediation in sc.remediations(judgements):
        clock.advance(minutes=1)
        store.record_remediation(change, remediation)
    return store
