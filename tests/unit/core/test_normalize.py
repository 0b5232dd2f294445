"""Normalization rules that golden files alone would not make explicit."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sgwatch.decode import decode_record
from sgwatch.errors import DecodeError
from sgwatch.model import Action, Direction, Outcome, PeerKind
from sgwatch.normalize import normalize

from .conftest import load_fixture


def changes(record: dict[str, Any]):  # type: ignore[no-untyped-def]
    return normalize(decode_record(record, "test.json"))


def test_request_and_response_never_count_a_rule_twice() -> None:
    record = load_fixture("AuthorizeSecurityGroupIngress__port_ranges_split_world")
    result = changes(record)
    assert [c.rule_id for c in result] == ["sgr-0444aaaa00000001", "sgr-0444aaaa00000002", "sgr-0444aaaa00000003"]
    assert [c.rule_index for c in result] == [0, 1, 2]


def test_response_rule_set_gives_the_group_id_when_the_request_named_the_group() -> None:
    (change,) = changes(load_fixture("AuthorizeSecurityGroupIngress__group_name_default_vpc"))
    assert change.group_id == "sg-0defa0170000000aa"
    assert change.group_name == "default"


def test_response_only_rules_are_kept() -> None:
    record = load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")
    record["requestParameters"]["ipPermissions"] = {}
    (change,) = changes(record)
    assert change.rule_id == "sgr-0111aaaa2222bbbb3"
    assert change.peer == "0.0.0.0/0"


def test_request_group_by_name_pairs_with_response_group_by_id() -> None:
    record = load_fixture("AuthorizeSecurityGroupIngress__cross_account_group")
    items = record["requestParameters"]["ipPermissions"]["items"][0]["groups"]["items"]
    items[1] = {"groupName": "app-servers", "userId": "111122223333"}
    result = changes(record)
    assert len(result) == 2
    assert result[1].peer == "sg-0f00dfeed00000002"
    assert result[1].rule_id == "sgr-0555aaaa00000002"


def test_failed_call_without_rules_is_one_line_per_event() -> None:
    record = load_fixture("AuthorizeSecurityGroupIngress__denied")
    record["requestParameters"] = None
    (change,) = changes(record)
    assert change.outcome is Outcome.FAILURE
    assert change.action is Action.ADDED
    assert change.direction is Direction.INGRESS
    assert change.peer is None


def test_failed_call_ignores_a_response_even_if_present() -> None:
    record = load_fixture("RevokeSecurityGroupEgress__failed_not_found")
    record["responseElements"] = {"securityGroupRuleSet": {"items": [{"securityGroupRuleId": "sgr-x"}]}}
    (change,) = changes(record)
    assert change.rule_id is None
    assert change.outcome is Outcome.FAILURE


def test_all_traffic_ports_are_null_whatever_aws_recorded() -> None:
    for ports in ((0, 0), (-1, -1), (None, None)):
        record = load_fixture("AuthorizeSecurityGroupEgress__world_all_traffic")
        permission = record["requestParameters"]["ipPermissions"]["items"][0]
        permission["fromPort"], permission["toPort"] = ports
        (change,) = changes(record)
        assert (change.protocol, change.from_port, change.to_port) == ("-1", None, None)


def test_modify_rules_has_no_direction() -> None:
    result = changes(load_fixture("ModifySecurityGroupRules__list"))
    assert all(c.direction is None and c.action is Action.MODIFIED for c in result)
    assert result[0].peer_kind is PeerKind.IPV6
    assert result[1].peer_kind is PeerKind.GROUP


def test_group_set_without_groups_still_reports_the_target() -> None:
    record = load_fixture("ModifyNetworkInterfaceAttribute__group_set")
    record["requestParameters"]["groupSet"] = {}
    (change,) = changes(record)
    assert change.action is Action.ATTACHED
    assert change.target == "eni-0a1b2c3d4e5f60718"
    assert change.group_id is None


def test_missing_event_id_gets_a_stable_synthetic_one() -> None:
    record = load_fixture("CreateSecurityGroup__vpc")
    del record["eventID"]
    first = decode_record(record, "x").event_id
    assert first.startswith("sha256:")
    assert first == decode_record(copy.deepcopy(record), "y").event_id


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda r: r["requestParameters"]["ipPermissions"]["items"][0].__setitem__("fromPort", {"v": 1}), "fromPort"),
        (lambda r: r["requestParameters"]["ipPermissions"].__setitem__("items", "x"), "ipPermissions.items"),
        (
            lambda r: r["requestParameters"]["ipPermissions"]["items"][0].__setitem__("ipProtocol", ["tcp"]),
            "ipProtocol",
        ),
        (lambda r: r["requestParameters"]["ipPermissions"]["items"][0].__setitem__("fromPort", "twenty"), "fromPort"),
        (lambda r: r.__setitem__("eventTime", 17), "$.eventTime"),
        (lambda r: r.__setitem__("eventTime", "yesterday"), "$.eventTime"),
        (lambda r: r.__setitem__("requestParameters", []), "$.requestParameters"),
        (lambda r: r.__setitem__("userIdentity", "root"), "$.userIdentity"),
    ],
)
def test_wrong_types_are_errors_with_record_and_json_path(mutate, path) -> None:  # type: ignore[no-untyped-def]
    record = load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")
    mutate(record)
    with pytest.raises(DecodeError) as info:
        changes(record)
    message = str(info.value)
    assert message.startswith("test.json (eventID 5f1b2c3d-")
    assert path in message
