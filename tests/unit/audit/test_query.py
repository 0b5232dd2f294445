"""Every history filter, through the store and as pure functions."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sgwatch.audit.query import HistoryFilter, actor_matches, parse_peer, parse_time, peer_overlaps
from sgwatch.audit.store import AuditStore
from sgwatch.model import Action, Severity


def keys(store: AuditStore, filters: HistoryFilter) -> list[str]:
    return [f"{j.change.event_id}/{j.change.rule_index}" for j in store.query(filters)]


def test_no_filter_returns_everything_oldest_first(filled: AuditStore) -> None:
    got = list(filled.query(HistoryFilter()))
    assert len(got) == 13
    assert [j.change.event_time for j in got] == sorted(j.change.event_time for j in got)


def test_port_covered_by_range_all_traffic_and_exact(filled: AuditStore) -> None:
    # 20-25 (ev-03/0 and its revoke ev-08), exact 22 (ev-03/1, failed ev-10), all traffic (ev-05, egress ev-09).
    assert keys(filled, HistoryFilter(port=22)) == ["ev-03/0", "ev-03/1", "ev-05/0", "ev-08/0", "ev-09/0", "ev-10/0"]
    assert keys(filled, HistoryFilter(port=20)) == ["ev-03/0", "ev-05/0", "ev-08/0", "ev-09/0"]
    assert keys(filled, HistoryFilter(port=26)) == ["ev-05/0", "ev-09/0"]
    # udp 53 counts; group events and description-only changes without ports on other ports do not.
    assert keys(filled, HistoryFilter(port=53)) == ["ev-05/0", "ev-09/0", "ev-13/0"]


def test_peer_overlap(filled: AuditStore) -> None:
    world_v4 = ["ev-02/0", "ev-03/0", "ev-08/0", "ev-09/0", "ev-10/0", "ev-11/0"]  # peers of 0.0.0.0/0
    # A host matches the rules whose peer contains it: 10.0.0.0/8 and the world.
    assert keys(filled, HistoryFilter(peer="10.2.3.4/32")) == sorted(["ev-05/0", *world_v4])
    # A network also matches the peers within it: 10.1.0.0/16.
    assert keys(filled, HistoryFilter(peer="10.0.0.0/8")) == sorted(["ev-05/0", "ev-13/0", *world_v4])
    assert keys(filled, HistoryFilter(peer="10.1.2.0/24")) == sorted(["ev-05/0", "ev-13/0", *world_v4])
    assert keys(filled, HistoryFilter(peer="203.0.113.9")) == sorted(["ev-06/0", *world_v4])
    assert keys(filled, HistoryFilter(peer="198.51.100.0/24")) == sorted(["ev-07/0", *world_v4])
    assert keys(filled, HistoryFilter(peer="2001:db8::/32")) == ["ev-03/1"]  # ::/0 contains it
    assert keys(filled, HistoryFilter(peer="sg-lb")) == ["ev-12/0"]
    assert keys(filled, HistoryFilter(peer="SG-LB")) == ["ev-12/0"]


def test_world_and_actions(filled: AuditStore) -> None:
    world = HistoryFilter(world=True)
    assert keys(filled, world) == ["ev-02/0", "ev-03/0", "ev-03/1", "ev-08/0", "ev-10/0", "ev-11/0"]  # no egress
    who_opened_22 = HistoryFilter(port=22, world=True, actions=(Action.ADDED,))
    assert {j.change.actor.arn for j in filled.query(who_opened_22)} == {
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:iam::111122223333:user/mallory",
    }
    assert keys(filled, HistoryFilter(actions=(Action.REMOVED, Action.MODIFIED))) == ["ev-07/0", "ev-08/0"]


def test_actor_glob_is_case_insensitive(filled: AuditStore) -> None:
    assert keys(filled, HistoryFilter(actor="*BOB")) == ["ev-05/0", "ev-06/0", "ev-13/0"]
    assert keys(filled, HistoryFilter(actor="*:user/*")) == ["ev-03/0", "ev-03/1", "ev-07/0", "ev-10/0", "ev-11/0"]
    assert keys(filled, HistoryFilter(actor="bob")) == []  # a glob, not a substring search
    assert keys(filled, HistoryFilter(actor="arn:aws:sts::*:assumed-role/ci-deploy/*")) == [
        "ev-01/0", "ev-02/0", "ev-09/0", "ev-12/0"
    ]  # fmt: skip


def test_since_until_window(filled: AuditStore, sc: ModuleType) -> None:
    window = HistoryFilter(since=sc.at("2024-05-05T15:00:00"), until=sc.at("2024-05-08T13:00:00"))
    assert keys(filled, window) == ["ev-07/0", "ev-08/0", "ev-09/0"]  # since inclusive, until exclusive
    assert keys(filled, HistoryFilter(since=sc.at("2024-05-11T00:00:00"))) == ["ev-13/0"]
    assert keys(filled, HistoryFilter(until=sc.at("2024-05-01T09:05:00"))) == ["ev-01/0"]
    # The window compares instants, whatever the offset it is given in.
    shifted = sc.at("2024-05-12T09:00:00").astimezone(UTC).astimezone(datetime.now().astimezone().tzinfo)
    assert keys(filled, HistoryFilter(since=shifted)) == ["ev-13/0"]


def test_severity_at_least(filled: AuditStore) -> None:
    assert keys(filled, HistoryFilter(min_severity=Severity.HIGH)) == ["ev-03/0", "ev-03/1", "ev-06/0", "ev-10/0"]
    assert keys(filled, HistoryFilter(min_severity=Severity.CRITICAL)) == ["ev-03/0", "ev-03/1"]
    assert len(keys(filled, HistoryFilter(min_severity=Severity.INFO))) == 13


def test_filters_combine(filled: AuditStore) -> None:
    combined = HistoryFilter(group_id="sg-db", port=5432, min_severity=Severity.MEDIUM, actor="*alice")
    assert keys(filled, combined) == ["ev-07/0"]
    assert keys(filled, HistoryFilter(group_id="sg-web", port=22)) == ["ev-09/0", "ev-10/0"]


NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("12h", NOW - timedelta(hours=12)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2W", NOW - timedelta(weeks=2)),
        ("now", NOW),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
    ],
)
def test_parse_time(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["7x", "yesterday", "", "-3d"])
def test_parse_time_rejects_with_examples(text: str) -> None:
    with pytest.raises(ValueError, match=r"--since: .* relative age \(7d"):
        parse_time(text, NOW, "--since")


def test_parse_time_age_before_year_one_is_an_error_not_a_crash() -> None:
    with pytest.raises(ValueError, match=r"--since: '99999999d' reaches before the year 1"):
        parse_time("99999999d", NOW, "--since")


def test_parse_peer() -> None:
    assert parse_peer("10.0.0.0/8") == "10.0.0.0/8"
    assert parse_peer("sg-123") == "sg-123"
    with pytest.raises(ValueError, match="not a CIDR"):
        parse_peer("10.0.0.0/33")


def test_actor_matches() -> None:
    assert actor_matches("*Alice*", "arn:aws:iam::1:user/alice")
    assert not actor_matches("*alice*", None)


@given(a=st.ip_addresses(v=4), pa=st.integers(0, 32), b=st.ip_addresses(v=4), pb=st.integers(0, 32))
def test_peer_overlap_is_symmetric_and_nested(a: object, pa: int, b: object, pb: int) -> None:
    na = ipaddress.IPv4Network(f"{a}/{pa}", strict=False)
    nb = ipaddress.IPv4Network(f"{b}/{pb}", strict=False)
    assert peer_overlaps(str(na), str(nb)) == peer_overlaps(str(nb), str(na))
    assert peer_overlaps(str(na), str(nb)) == (na.subnet_of(nb) or nb.subnet_of(na))
    assert not peer_overlaps(str(na), "::/0")
