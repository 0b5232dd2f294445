"""The run's scope: [since, until) on the event time, accounts and regions; judged per change."""

from __future__ import annotations

from datetime import UTC, datetime

from sgwatch.model import Judgement
from sgwatch.pipeline import ScanStats, Scope, judge
from sgwatch.policy import Policy
from sgwatch.sources import RawRecord

from .conftest import TODAY, load_fixture

SINCE, UNTIL = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)


def _record(when: str, account: str = "111122223333", region: str = "eu-west-1") -> RawRecord:
    data = load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")  # a fresh dict per call
    data.update(eventID=f"{when}-{account}-{region}", eventTime=when, recipientAccountId=account, awsRegion=region)
    return RawRecord(data=data, origin=when)


def _kept(scope: Scope, *records: RawRecord) -> tuple[list[str], ScanStats]:
    stats = ScanStats()
    out = judge(records, Policy(), stats=stats, today=TODAY, scope=scope)
    return [j.change.event_id for j in out if isinstance(j, Judgement)], stats


def test_time_window_is_half_open() -> None:
    inside, before, at_until = "2026-03-02T10:00:00Z", "2026-03-01T23:59:59Z", "2026-03-03T00:00:00Z"
    kept, stats = _kept(Scope(since=SINCE, until=UNTIL), _record(inside), _record(before), _record(at_until))
    assert [k.split("-1111")[0] for k in kept] == [inside]
    assert (stats.records, stats.candidates, stats.changes) == (3, 3, 1)
    first = _record("2026-03-02T00:00:00Z")  # since itself is in
    assert _kept(Scope(since=SINCE), first)[0] == [first.data["eventID"]]


def test_accounts_and_regions() -> None:
    records = [
        _record("2026-03-02T10:00:00Z", a, r)
        for a in ("111122223333", "444455556666")
        for r in ("eu-west-1", "us-east-1")
    ]
    kept, _ = _kept(Scope(accounts=("444455556666",), regions=("us-east-1",)), *records)
    assert kept == ["2026-03-02T10:00:00Z-444455556666-us-east-1"]
    assert len(_kept(Scope(), *records)[0]) == 4
