"""Row <-> model conversions: the inverse of serialize.change_row, through JSON and through the store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgwatch.audit.query import HistoryFilter
from sgwatch.audit.rows import change_from_row, judgement_from_row, parse_stored_time, row_line, store_time
from sgwatch.audit.store import AuditStore
from sgwatch.model import (
    Action,
    Actor,
    Direction,
    Finding,
    Judgement,
    Outcome,
    PeerKind,
    RuleChange,
    Severity,
)
from sgwatch.serialize import change_row, judgement_row

text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
maybe = st.none() | text
ports = st.none() | st.integers(-1, 65535)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))])
)  # fmt: skip

# A JSON row keeps milliseconds (CloudTrail has seconds); the store keeps every microsecond.
ms_times = times.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000))


def change_strategy(event_times: st.SearchStrategy[datetime]) -> st.SearchStrategy[RuleChange]:
    return st.builds(
        RuleChange,
        event_id=text.filter(bool),
        event_name=text.filter(bool),
        event_time=event_times,
        account_id=maybe,
        region=maybe,
        actor=st.builds(Actor, arn=maybe, type=maybe),
        source_ip=maybe,
        user_agent=maybe,
        outcome=st.sampled_from(Outcome),
        error_code=maybe,
        error_message=maybe,
        action=st.sampled_from(Action),
        group_id=maybe,
        group_name=maybe,
        vpc_id=maybe,
        direction=st.none() | st.sampled_from(Direction),
        protocol=st.sampled_from([None, "tcp", "udp", "icmp", "icmpv6", "-1", "50", "132"]),
        from_port=ports,
        to_port=ports,
        peer=maybe,
        peer_kind=st.none() | st.sampled_from(PeerKind),
        peer_account_id=maybe,
        rule_id=maybe,
        description=maybe,
        target=maybe,
        rule_index=st.integers(0, 50),
        origin=text,
    )


findings = st.builds(Finding, finding_id=text.filter(bool), title=text, severity=st.sampled_from(Severity), reason=text)


def judgement_strategy(event_times: st.SearchStrategy[datetime]) -> st.SearchStrategy[Judgement]:
    return st.builds(
        Judgement,
        change=change_strategy(event_times),
        findings=st.lists(findings, max_size=3).map(tuple),
        severity=st.sampled_from(Severity),
        allowed_by=maybe,
        suppressed=st.booleans(),
    )


@given(change=change_strategy(ms_times))
def test_change_from_row_inverts_change_row(change: RuleChange) -> None:
    row = json.loads(json.dumps(change_row(change)))
    rebuilt = change_from_row(row)
    assert change_row(rebuilt) == change_row(change)
    assert rebuilt.actor == Actor(arn=change.actor.arn, type=change.actor.type)
    assert rebuilt.protocol == change.protocol
    assert rebuilt.event_time.tzinfo is not None


@given(judgement=judgement_strategy(ms_times))
def test_judgement_from_row_inverts_judgement_row(judgement: Judgement) -> None:
    row = json.loads(json.dumps(judgement_row(judgement)))
    rebuilt = judgement_from_row(row, judgement.findings)
    assert judgement_row(rebuilt) == judgement_row(judgement)
    assert rebuilt.findings == judgement.findings


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(judgement_strategy(times), min_size=1, max_size=4))
def test_store_round_trip_is_lossless(tmp_path_factory: pytest.TempPathFactory, items: list[Judgement]) -> None:
    with AuditStore.open(tmp_path_factory.mktemp("rows") / "audit.sqlite") as store:
        store.record_judgements(items)
        records = {r.judgement.change.dedup_key: r for r in store.records(HistoryFilter())}
    got = {key: r.judgement for key, r in records.items()}
    expected = {j.change.dedup_key: j for j in reversed(items)}  # the first of equal keys wins
    assert got.keys() == expected.keys()
    for key, mine in got.items():
        theirs = expected[key]
        assert judgement_row(mine) == judgement_row(theirs)
        assert records[key].row_json == row_line(judgement_row(theirs))
        assert mine.findings == theirs.findings
        assert mine.suppressed == theirs.suppressed
        assert mine.change.event_time == theirs.change.event_time  # full precision, not just the row's
        for name in ("error_message", "vpc_id", "peer_account_id", "rule_index", "origin"):
            assert getattr(mine.change, name) == getattr(theirs.change, name)


@given(moment=times)
def test_stored_time_text_sorts_like_time(moment: datetime) -> None:
    later = moment + timedelta(microseconds=1)
    assert store_time(moment) < store_time(later)
    assert parse_stored_time(store_time(moment)) == moment
    assert len(store_time(moment)) == len("2024-05-01T10:00:00.000000Z")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store_time(datetime(2024, 5, 1))
