"""Group state reconstruction and world exposure (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgwatch.audit.describe import actor_name
from sgwatch.audit.state import RuleSet, chronological, exposes_world, is_world_open, replay
from sgwatch.model import Action, Direction, Judgement, Outcome, RuleChange, Severity


def rules_after(changes: Iterable[RuleChange], group_id: str = "sg-1") -> tuple[RuleChange, ...]:
    """The group's rules after replaying every change in the order they happened: by time, then as given."""
    judged = [Judgement(change=change, findings=(), severity=Severity.INFO) for change in changes]
    return tuple(j.change for j in replay(judged).states.get(group_id, ()))


@pytest.mark.parametrize(
    ("peer", "world"),
    [
        ("0.0.0.0/0", True),
        ("::/0", True),
        ("11.0.0.0/8", True),
        ("0.0.0.0/1", True),
        ("2000::/3", True),
        ("2001:db8::/16", True),
        ("11.0.0.0/9", False),
        ("10.0.0.0/8", False),  # private
        ("fc00::/7", False),  # unique local
        ("203.0.113.0/24", False),
        ("2001:db8::/32", False),
        ("sg-123", False),
        ("pl-123", False),
        (None, False),
        ("", False),
    ],
)
def test_is_world_open(peer: str | None, world: bool) -> None:
    assert is_world_open(peer) is world


@pytest.mark.parametrize(
    ("peer", "world", "expected"),
    [
        ("198.51.100.0/24", (8, 16), False),
        ("198.51.100.0/24", (24, 16), True),
        ("198.51.100.0/25", (24, 16), False),
        ("10.0.0.0/8", (32, 128), False),  # private stays private whatever the thresholds
        ("2001:db8::/32", (8, 32), True),
        ("2001:db8::/33", (8, 32), False),
    ],
)
def test_world_thresholds_come_from_the_policy(peer: str, world: tuple[int, int], expected: bool) -> None:
    assert is_world_open(peer, world) is expected


def test_exposes_world_is_not_egress(sc: ModuleType) -> None:
    rule = sc.change("e", "2024-05-01T00:00:00", sc.ALICE, Action.ADDED, "sg-1", ports=(22, 22), peer="0.0.0.0/0")
    assert exposes_world(rule)
    assert not exposes_world(replace(rule, direction=Direction.EGRESS))
    assert exposes_world(replace(rule, direction=None))  # unknown: judged as ingress, like the policy does
    assert not exposes_world(replace(rule, peer="10.0.0.0/8"))


def test_remove_matches_by_shape_whatever_spelling_aws_recorded(sc: ModuleType) -> None:
    """Protocol spellings are made one by sgwatch.normalize; peers are kept as recorded and compared canonically."""
    (add,) = sc.from_cloudtrail("AuthorizeSecurityGroupIngress", "a", "2024-05-01T00:00:00",
                                sc.permission("6", ("22", "22"), "10.0.0.1/8"))  # fmt: skip
    (remove,) = sc.from_cloudtrail("RevokeSecurityGroupIngress", "r", "2024-05-02T00:00:00",
                                   sc.permission("TCP", (22, 22), "10.0.0.0/8"))  # fmt: skip
    assert (add.protocol, add.from_port, add.peer) == ("tcp", 22, "10.0.0.1/8")
    assert rules_after([add]) == (add,)
    assert rules_after([remove, add]) == ()


SECOND = "2024-05-02T10:00:00"
# Event ids are random: the add's sorts after the revoke's, and before it.
ID_ORDERS = [("ffff-add", "0000-revoke"), ("0000-add", "ffff-revoke")]


def world_ssh(sc: ModuleType, event_name: str, event_id: str, when: str = SECOND) -> RuleChange:
    (change,) = sc.from_cloudtrail(event_name, event_id, when, sc.permission("tcp", (22, 22), "0.0.0.0/0"))
    return change


@pytest.mark.parametrize(("add_id", "revoke_id"), ID_ORDERS)
def test_same_second_changes_apply_in_recorded_order(sc: ModuleType, add_id: str, revoke_id: str) -> None:
    """CloudTrail times have one-second resolution: within one second, the order recorded is the order done."""
    add = world_ssh(sc, "AuthorizeSecurityGroupIngress", add_id)
    revoke = world_ssh(sc, "RevokeSecurityGroupIngress", revoke_id)
    assert rules_after([add, revoke]) == ()  # opened, then closed (an automatic revert, a script)
    assert rules_after([revoke, add]) == (add,)  # a revoke of nothing, then opened
    earlier = world_ssh(sc, "AuthorizeSecurityGroupIngress", "5555-earlier", "2024-05-02T09:59:59")
    assert rules_after([earlier, revoke, add]) == (add,)  # closed and opened again: open, by the add
    assert rules_after([revoke, add, earlier]) == (add,)  # recorded later, but a second earlier: time comes first


def test_chronological_keeps_an_event_together_in_rule_order(sc: ModuleType) -> None:
    c = sc.change
    first_0 = c("zz-first", SECOND, sc.ALICE, Action.ADDED, "sg-1", ports=(22, 22), peer="0.0.0.0/0")
    first_1 = replace(first_0, peer="::/0", rule_index=1)
    second = c("aa-second", SECOND, sc.ALICE, Action.REMOVED, "sg-1", ports=(22, 22), peer="0.0.0.0/0")
    sooner = c("mm-sooner", "2024-05-02T09:00:00", sc.ALICE, Action.ADDED, "sg-1", ports=(80, 80), peer="::/0")
    judged = [Judgement(change=x, findings=(), severity=Severity.INFO) for x in (first_1, second, first_0, sooner)]
    ordered = chronological(judged, lambda j: j.change)
    assert [(j.change.event_id, j.change.rule_index) for j in ordered] == [
        ("mm-sooner", 0), ("zz-first", 0), ("zz-first", 1), ("aa-second", 0)
    ]  # fmt: skip
    # Recorded again later (a re-scan): the event keeps the place of its first recording.
    again = chronological([*judged, judged[0], judged[2]], lambda j: j.change)
    assert [j.change.event_id for j in again] == ["mm-sooner", *["zz-first"] * 4, "aa-second"]
    assert [r.peer for r in rules_after([first_1, second, first_0])] == ["::/0"]


@pytest.mark.parametrize("ports", [None, (0, 0), (-1, -1), ("0", "65535")])
def test_all_traffic_removes_match_whatever_ports_aws_recorded(sc: ModuleType, ports: tuple[object, object]) -> None:
    (add,) = sc.from_cloudtrail("AuthorizeSecurityGroupIngress", "a", "2024-05-01T00:00:00",
                                sc.permission(-1, ports, "0.0.0.0/0"))  # fmt: skip
    (remove,) = sc.from_cloudtrail("RevokeSecurityGroupIngress", "r", "2024-05-02T00:00:00",
                                   sc.permission("-1", None, "0.0.0.0/0"))  # fmt: skip
    assert (add.protocol, add.from_port, add.to_port) == ("-1", None, None)
    assert rules_after([add, remove]) == ()


def test_remove_by_rule_id_and_direction_matters(sc: ModuleType) -> None:
    c = sc.change
    ingress = c("a", "2024-05-01T00:00:00", sc.ALICE, Action.ADDED, "sg-1", protocol="-1", peer="0.0.0.0/0",
                rule_id="sgr-in")  # fmt: skip
    egress = c("b", "2024-05-01T00:00:01", sc.ALICE, Action.ADDED, "sg-1", direction=Direction.EGRESS, protocol="-1",
               peer="0.0.0.0/0", rule_id="sgr-out")  # fmt: skip
    revoke_egress = c("c", "2024-05-02T00:00:00", sc.ALICE, Action.REMOVED, "sg-1", direction=Direction.EGRESS,
                      protocol="-1", peer="0.0.0.0/0")  # fmt: skip
    revoke_by_id = c("d", "2024-05-03T00:00:00", sc.ALICE, Action.REMOVED, "sg-1", protocol=None, rule_id="sgr-in")
    assert [r.rule_id for r in rules_after([ingress, egress, revoke_egress])] == ["sgr-in"]
    assert rules_after([ingress, egress, revoke_egress, revoke_by_id]) == ()


def test_failed_calls_and_unknown_removes_change_nothing(sc: ModuleType) -> None:
    add = sc.change("a", "2024-05-01T00:00:00", sc.ALICE, Action.ADDED, "sg-1", ports=(80, 80), peer="0.0.0.0/0")
    failed_remove = replace(add, event_id="b", action=Action.REMOVED, outcome=Outcome.FAILURE,
                            event_time=sc.at("2024-05-02T00:00:00"))  # fmt: skip
    other_remove = replace(failed_remove, event_id="c", outcome=Outcome.SUCCESS, from_port=81, to_port=81)
    assert rules_after([add, failed_remove, other_remove]) == (add,)


def test_create_and_delete_start_over(sc: ModuleType) -> None:
    c = sc.change
    add = c("a", "2024-05-01T00:00:00", sc.ALICE, Action.ADDED, "sg-1", ports=(80, 80), peer="0.0.0.0/0")
    deleted = c("b", "2024-05-02T00:00:00", sc.ALICE, Action.DELETED, "sg-1", direction=None, protocol=None)
    created = c("c", "2024-05-03T00:00:00", sc.ALICE, Action.CREATED, "sg-1", direction=None, protocol=None)
    attached = c("d", "2024-05-04T00:00:00", sc.ALICE, Action.ATTACHED, "sg-1", direction=None, protocol=None)
    assert rules_after([add, deleted]) == ()
    later = replace(add, event_id="e", event_time=sc.at("2024-05-05T00:00:00"))
    assert rules_after([add, deleted, created, attached, later]) == (later,)


def test_modify_of_an_unknown_rule_is_learned_and_reports_no_before(sc: ModuleType) -> None:
    modify = sc.change("m", "2024-05-01T00:00:00", sc.ALICE, Action.MODIFIED, "sg-1", direction=None,
                       ports=(443, 443), peer="0.0.0.0/0", rule_id="sgr-x")  # fmt: skip
    rules = RuleSet()
    assert rules.apply(modify) is None
    assert rules.find("sgr-x") == modify
    assert exposes_world(modify)  # direction unknown: counted as ingress, as the policy judged it


def test_replay_reports_before_for_modifies_and_description_changes(sc: ModuleType) -> None:
    result = replay(sc.scenario())
    before = {event_id: rule for (event_id, _), rule in result.before.items()}
    assert sorted(before) == ["ev-07", "ev-11"]
    assert (before["ev-07"].event_id, before["ev-07"].peer) == ("ev-06", "203.0.113.0/24")
    assert (before["ev-11"].event_id, before["ev-11"].description) == ("ev-02", None)
    assert sorted(result.states) == ["sg-bastion", "sg-db", "sg-web"]
    assert [j.change.rule_id for j in result.states["sg-bastion"]] == ["sgr-b2"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    ports=st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(sorted),
    prefix=st.integers(0, 32),
    spellings=st.sampled_from([("tcp", "6"), ("6", "TCP"), (6, "tcp"), ("udp", "17"), (17, "UDP")]),
    string_ports=st.booleans(),
)
def test_add_then_remove_by_shape_restores_the_state(
    sc: ModuleType, ports: list[int], prefix: int, spellings: tuple[str | int, str | int], string_ports: bool
) -> None:
    keep = sc.change("k", "2024-05-01T00:00:00", sc.ALICE, Action.ADDED, "sg-1", ports=(22, 22),
                     peer="192.0.2.0/24", rule_id="sgr-keep")  # fmt: skip
    added, removed = spellings
    recorded = (str(ports[0]), str(ports[1])) if string_ports else (ports[0], ports[1])
    (add,) = sc.from_cloudtrail("AuthorizeSecurityGroupIngress", "a", "2024-05-02T00:00:00",
                                sc.permission(added, recorded, f"198.51.100.0/{prefix}"))  # fmt: skip
    (remove,) = sc.from_cloudtrail("RevokeSecurityGroupIngress", "r", "2024-05-03T00:00:00",
                                   sc.permission(removed, (ports[0], ports[1]), f"198.51.100.0/{prefix}"))  # fmt: skip
    assert rules_after([keep, add]) == (keep, add)
    assert rules_after([keep, add, remove]) == (keep,)


@pytest.mark.parametrize(
    ("arn", "name"),
    [
        ("arn:aws:sts::1:assumed-role/Admin/bob", "assumed-role/Admin/bob"),
        ("arn:aws:iam::111122223333:root", "root"),
        ("arn:aws-us-gov:iam::1:user/division/alice", "user/division/alice"),
        ("arn:aws:sts::1:federated-user/carol:extra", "federated-user/carol:extra"),  # the resource keeps colons
        ("AWSService", "AWSService"),  # not an ARN: as it is
        ("arn:aws:iam::1:", "arn:aws:iam::1:"),  # no resource: the whole text
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_actor_name(arn: str | None, name: str) -> None:
    assert actor_name(arn) == name
