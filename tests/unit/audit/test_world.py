"""`history --world` and the report's exposed groups count what the policy judges as world ingress."""

from __future__ import annotations

from typing import Any

from sgwatch.audit.state import exposes_world
from sgwatch.decode import decode_record
from sgwatch.normalize import normalize
from sgwatch.policy import Policy, evaluate

from .conftest import load_fixture


def _modify(cidr: str) -> dict[str, Any]:
    record: dict[str, Any] = load_fixture("ModifySecurityGroupRules__object")
    rules = record["requestParameters"]["ModifySecurityGroupRulesRequest"]["SecurityGroupRule"]
    rules["SecurityGroupRule"]["CidrIpv4"] = cidr
    return record


def test_a_modify_of_unknown_direction_to_the_world_is_exposed_as_the_policy_judges_it() -> None:
    (change,) = normalize(decode_record(_modify("0.0.0.0/0"), "modify.json"))
    assert change.direction is None  # ModifySecurityGroupRules names the rule, not its direction
    assert any(f.finding_id.startswith("WORLD") for f in evaluate(change, Policy()).findings)
    assert exposes_world(change)
    (private,) = normalize(decode_record(_modify("10.0.0.0/8"), "modify.json"))
    assert not exposes_world(private)
