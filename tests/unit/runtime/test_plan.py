"""remediate.plan: exactly the rule the event added, never anything else; the safety rules."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sgwatch.model import (
    Action,
    Actor,
    Direction,
    GroupInfo,
    Outcome,
    PeerKind,
    RemediationStatus,
    RevokePlan,
    RuleChange,
)
from sgwatch.policy import Policy
from sgwatch.policy.schema import parse_policy
from sgwatch.remediate.config import RemediationConfig
from sgwatch.remediate.plan import (
    describe_plan,
    exact_permission,
    in_scope,
    outcome_text,
    own_change_reason,
    plan_revert,
    rule_request,
    skip_reason,
)
from sgwatch.yamlsrc import load_yaml_text

ON = RemediationConfig(enabled=True, dry_run=False)


def test_added_rule_with_id_is_revoked_by_id(judged: Any) -> None:
    (j,) = judged("AuthorizeSecurityGroupIngress__items_world_ssh")
    assert in_scope(j, ON)
    assert skip_reason(j, ON) is None
    plan = plan_revert(j)
    assert isinstance(plan, RevokePlan)
    assert (plan.group_id, plan.direction, plan.rule_id, plan.ip_permission) == (
        "sg-0a1b2c3d4e5f60718", Direction.INGRESS, "sgr-0111aaaa2222bbbb3", None,
    )  # fmt: skip
    assert plan.event_id == j.change.event_id
    assert plan.rule_key == "sgr-0111aaaa2222bbbb3"


def test_added_rule_without_id_is_the_exact_permission(judged: Any) -> None:
    judgements = judged("AuthorizeSecurityGroupIngress__pre_rule_ids_all_traffic_v4_v6")
    plans = [plan_revert(j) for j in judgements]
    permissions = [p.ip_permission for p in plans if isinstance(p, RevokePlan)]
    assert permissions == [
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
    ]
    assert all(p.rule_id is None for p in plans if isinstance(p, RevokePlan))


def test_each_peer_kind_has_its_one_permission() -> None:
    base = _change(protocol="tcp", from_port=22, to_port=22)
    assert exact_permission(replace(base, peer="pl-1234", peer_kind=PeerKind.PREFIX_LIST)) == {
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "PrefixListIds": [{"PrefixListId": "pl-1234"}],
    }  # fmt: skip
    group = replace(base, peer="sg-0abc", peer_kind=PeerKind.GROUP, peer_account_id="444455556666")
    assert exact_permission(group)["UserIdGroupPairs"] == [{"GroupId": "sg-0abc", "UserId": "444455556666"}]  # type: ignore[index]
    by_name = replace(base, peer="legacy-web", peer_kind=PeerKind.GROUP)
    assert exact_permission(by_name)["UserIdGroupPairs"] == [{"GroupName": "legacy-web"}]  # type: ignore[index]
    icmp = replace(base, protocol="icmp", from_port=-1, to_port=-1)
    assert exact_permission(icmp) == {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1,
                                      "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}  # fmt: skip
    assert (
        exact_permission(replace(base, from_port=None, to_port=None)) == "the record names no port range for this rule"
    )
    assert exact_permission(replace(base, peer=None, peer_kind=None)) == "the record names no peer for this rule"


def _change(**fields: Any) -> RuleChange:
    import datetime as dt

    values: dict[str, Any] = {
        "event_id": "e-1", "event_name": "AuthorizeSecurityGroupIngress",
        "event_time": dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "account_id": "111122223333", "region": "eu-west-1",
        "actor": Actor(arn="arn:aws:sts::111122223333:assumed-role/Admin/alice", type="AssumedRole",
                       user_name="alice", session_issuer_arn="arn:aws:iam::111122223333:role/Admin"),
        "source_ip": "198.51.100.1", "user_agent": "aws-cli/2.15", "outcome": Outcome.SUCCESS, "action": Action.ADDED,
        "group_id": "sg-1", "direction": Direction.INGRESS, "protocol": "tcp", "from_port": 22, "to_port": 22,
        "peer": "0.0.0.0/0", "peer_kind": PeerKind.IPV4,
    }  # fmt: skip
    values.update(fields)
    return RuleChange(**values)


@given(
    protocol=st.sampled_from(["tcp", "udp", "icmp", "-1", "50"]),
    ports=st.tuples(st.integers(-1, 65535), st.integers(-1, 65535)),
    peer=st.sampled_from(
        [
            ("0.0.0.0/0", PeerKind.IPV4),
            ("::/0", PeerKind.IPV6),
            ("pl-0aa", PeerKind.PREFIX_LIST),
            ("sg-0bb", PeerKind.GROUP),
            ("10.0.0.0/8", PeerKind.IPV4),
        ]
    ),
)
def test_a_permission_names_only_the_change_itself(protocol: str, ports: tuple[int, int], peer: Any) -> None:
    change = _change(protocol=protocol, from_port=ports[0], to_port=ports[1], peer=peer[0], peer_kind=peer[1])
    permission = exact_permission(change)
    assert isinstance(permission, dict)
    peers = [key for key in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs") if key in permission]
    assert len(peers) == 1
    assert len(permission[peers[0]]) == 1
    assert permission["IpProtocol"] == protocol
    if protocol == "-1":
        assert "FromPort" not in permission
        assert "ToPort" not in permission
    else:
        assert (permission["FromPort"], permission["ToPort"]) == ports
    assert peer[0] in str(permission[peers[0]][0].values())


def test_failed_allowlisted_and_removed_changes_are_never_acted_on(judged: Any) -> None:
    for denied in judged("AuthorizeSecurityGroupIngress__denied"):
        assert str(skip_reason(denied, ON)).startswith("the call failed (")
    policy = parse_policy(
        load_yaml_text("allowlist:\n  - cidr: 0.0.0.0/0\n    reason: test\n    owner: sec\n", "p.yaml", ValueError),
        "p.yaml",
    )
    (allowed,) = judged("AuthorizeSecurityGroupIngress__items_world_ssh", policy)
    assert str(skip_reason(allowed, ON)).startswith("allowlisted by policy:")
    removed = judged("RevokeSecurityGroupIngress__items")[0]
    assert "only added or modified" in str(skip_reason(removed, ON))


def test_changes_in_another_account_are_left_alone(judged: Any) -> None:
    (j,) = judged("AuthorizeSecurityGroupIngress__items_world_ssh")
    assert skip_reason(j, ON, own_account="111122223333") is None
    assert skip_reason(j, ON, own_account="999988887777") == (
        "the change is in account 111122223333; sgwatch acts in account 999988887777 only"
    )


def test_principal_allowlist_matches_actor_or_session_issuer(judged: Any) -> None:
    (j,) = judged("AuthorizeSecurityGroupIngress__items_world_ssh")
    config = replace(ON, allowlist=("arn:aws:iam::*:role/Admin",))
    assert "principal arn:aws:iam::111122223333:role/Admin is in the remediation allowlist" in str(
        skip_reason(j, config)
    )
    assert skip_reason(j, replace(ON, allowlist=("arn:aws:iam::*:role/Other",))) is None


def test_loop_guard_recognises_sgwatch_own_changes() -> None:
    own = replace(ON, own_role_arns=("arn:aws:iam::111122223333:role/sgwatch-*",))
    by_role = _change(actor=Actor(arn="arn:aws:sts::111122223333:assumed-role/sgwatch-fn/x", type="AssumedRole",
                                  session_issuer_arn="arn:aws:iam::111122223333:role/sgwatch-fn", user_name="x"))  # fmt: skip
    assert "sgwatch's own role" in str(own_change_reason(by_role, own))
    assert own_change_reason(by_role, ON) is None
    by_agent = _change(user_agent="Boto3/1.34 md/Botocore#1.34 sgwatch/0.1.0")
    assert "user agent" in str(own_change_reason(by_agent, ON))
    assert own_change_reason(_change(user_agent="sgwatcher-cli/2.0"), ON) is None
    by_session = _change(
        actor=Actor(arn="arn:aws:sts::1:assumed-role/r/fn-name", type="AssumedRole", user_name="fn-name")
    )
    assert own_change_reason(by_session, ON) is None
    assert "session 'fn-name'" in str(own_change_reason(by_session, ON, own_session_names=("fn-name",)))
    assert str(skip_reason(_judgement(by_agent), ON)).startswith("loop guard:")
    # With sgwatch's role known, only the role counts: a name or a user agent is the caller's to choose.
    assert own_change_reason(by_agent, own) is None
    assert own_change_reason(by_session, own, own_session_names=("fn-name",)) is None


def _judgement(change: RuleChange) -> Any:
    from sgwatch.policy import evaluate

    return evaluate(change, Policy())


def test_scope_is_enabled_and_min_severity() -> None:
    j = _judgement(_change())
    assert not in_scope(j, RemediationConfig())
    assert in_scope(j, ON)
    web = _judgement(_change(from_port=443, to_port=443))
    assert not in_scope(web, ON)


def test_modified_rule_is_restored_to_its_previous_definition(judged: Any) -> None:
    (j,) = judged("ModifySecurityGroupRules__object")
    previous = replace(j.change, peer="10.0.0.0/8", description="ssh from the office", direction=Direction.INGRESS)
    plan = plan_revert(j, previous=previous)
    assert isinstance(plan, RevokePlan)
    assert plan.restore_to == {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/8",
                               "Description": "ssh from the office"}  # fmt: skip
    assert plan.rule_id == "sgr-0ccc00000000aaaa1"
    assert plan.ip_permission is None
    assert describe_plan(plan) == "sg-0a1b2c3d4e5f60718 ingress sgr-0ccc00000000aaaa1 back to tcp/22 from 10.0.0.0/8"
    assert plan_revert(j, previous=j.change) == "the rule already has its previous definition"


def test_modified_rule_without_history_is_revoked_only_when_world_open(judged: Any) -> None:
    group = GroupInfo(group_id="sg-0a1b2c3d4e5f60718", rule_direction=Direction.INGRESS)
    (j,) = judged("ModifySecurityGroupRules__object", group=group)
    plan = plan_revert(j, group=group)
    assert isinstance(plan, RevokePlan)
    assert (plan.rule_id, plan.restore_to, plan.direction) == ("sgr-0ccc00000000aaaa1", None, Direction.INGRESS)
    assert "now open to the world, so it is revoked" in plan.reason
    assert "direction is unknown" in str(plan_revert(j))
    private = replace(j, change=replace(j.change, peer="10.0.0.0/8"), findings=())
    assert "not open to the world: left as is" in str(plan_revert(private, group=group))


def test_rule_request_cannot_express_a_group_named_by_name() -> None:
    assert rule_request(_change(peer="web", peer_kind=PeerKind.GROUP)) is None
    assert rule_request(_change(protocol="-1", from_port=None, to_port=None)) == {
        "IpProtocol": "-1", "FromPort": -1, "ToPort": -1, "CidrIpv4": "0.0.0.0/0",
    }  # fmt: skip


def test_modified_egress_rule_to_the_world_is_not_revoked_without_history(judged: Any) -> None:
    group = GroupInfo(group_id="sg-0a1b2c3d4e5f60718", rule_direction=Direction.EGRESS)
    (j,) = judged("ModifySecurityGroupRules__object", group=group)
    assert set(j.finding_ids) == {"RULE_MODIFIED", "WORLD_EGRESS"}
    assert j.change.peer == "0.0.0.0/0"
    assert (
        plan_revert(j, group=group) == "previous definition unknown and the rule is not open to the world: left as is"
    )
    previous = replace(j.change, peer="10.0.0.0/8", direction=Direction.EGRESS)
    restore = plan_revert(j, previous=previous, group=group)  # a known previous definition is still restored
    assert isinstance(restore, RevokePlan)
    assert (restore.direction, restore.restore_to["CidrIpv4"]) == (Direction.EGRESS, "10.0.0.0/8")  # type: ignore[index]


def test_world_open_follows_the_policy_world_threshold_not_the_default(judged: Any, record: Any) -> None:
    rec = record("ModifySecurityGroupRules__object")
    rec["requestParameters"]["ModifySecurityGroupRulesRequest"]["SecurityGroupRule"]["SecurityGroupRule"][
        "CidrIpv4"
    ] = "1.0.0.0/8"
    group = GroupInfo(group_id="sg-0a1b2c3d4e5f60718", rule_direction=Direction.INGRESS)
    (default,) = judged(rec, group=group)
    assert "WORLD_ADMIN_PORT_INGRESS" in default.finding_ids  # /8 is the world by default
    assert isinstance(plan_revert(default, group=group), RevokePlan)
    strict = parse_policy(load_yaml_text("world: {ipv4_prefix: 0}\n", "p.yaml", ValueError), "p.yaml")
    (j,) = judged(rec, strict, group=group)
    assert "PUBLIC_RANGE_ADMIN_PORT_INGRESS" in j.finding_ids
    assert (
        plan_revert(j, group=group) == "previous definition unknown and the rule is not open to the world: left as is"
    )


def test_a_plan_by_permission_reads_like_every_other_rule() -> None:
    def plan(**permission: Any) -> RevokePlan:
        return RevokePlan(event_id="e", rule_key="k", group_id="sg-1", direction=Direction.INGRESS,
                          ip_permission=permission)  # fmt: skip

    ssh = plan(IpProtocol="tcp", FromPort=22, ToPort=22, IpRanges=[{"CidrIp": "0.0.0.0/0"}])
    assert describe_plan(ssh) == "sg-1 ingress tcp/22 from 0.0.0.0/0"
    everything = plan(IpProtocol="-1", Ipv6Ranges=[{"CidrIpv6": "::/0"}], PrefixListIds=[{"PrefixListId": "pl-1"}])
    assert describe_plan(everything) == "sg-1 ingress all traffic from ::/0, pl-1"
    ping = plan(IpProtocol="icmp", FromPort=8, ToPort=-1, UserIdGroupPairs=[{"GroupId": "sg-2"}])
    assert describe_plan(ping) == "sg-1 ingress icmp type 8 (all codes) from sg-2"


def test_an_egress_plan_reads_to_its_peer() -> None:
    by_permission = RevokePlan(event_id="e", rule_key="k", group_id="sg-1", direction=Direction.EGRESS,
                               ip_permission={"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]})  # fmt: skip
    assert describe_plan(by_permission) == "sg-1 egress all traffic to ::/0"
    restore = RevokePlan(event_id="e", rule_key="k", group_id="sg-1", direction=Direction.EGRESS, rule_id="sgr-1",
                         restore_to={"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv4": "10.0.0.0/8"})  # fmt: skip
    assert describe_plan(restore) == "sg-1 egress sgr-1 back to tcp/443 to 10.0.0.0/8"
    assert outcome_text(restore, RemediationStatus.RESTORED) == "restored to tcp/443 to 10.0.0.0/8"


def test_the_outcome_says_what_was_done_not_the_rule_again() -> None:
    by_id = RevokePlan(event_id="e", rule_key="sgr-2", group_id="sg-1", direction=Direction.INGRESS, rule_id="sgr-2",
                       reason="revoke the added rule by id")  # fmt: skip
    assert outcome_text(by_id, RemediationStatus.REVERTED) == "revoked"
    assert outcome_text(by_id, RemediationStatus.PLANNED) == "would revoke the added rule by id"
    restore = replace(by_id, restore_to={"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/8"},
                      reason="restore the rule's previous definition")  # fmt: skip
    assert outcome_text(restore, RemediationStatus.PLANNED) == (
        "would restore the rule's previous definition: tcp/22 from 10.0.0.0/8"
    )


def test_a_modified_rule_that_changed_again_since_is_left_as_is(judged: Any) -> None:
    group = GroupInfo(group_id="sg-0a1b2c3d4e5f60718", rule_direction=Direction.INGRESS)
    (j,) = judged("ModifySecurityGroupRules__object", group=group)
    as_recorded = replace(j.change, direction=Direction.INGRESS, description="changed since: harmless")
    assert isinstance(plan_revert(j, group=group, current=as_recorded), RevokePlan)  # still what the event made
    previous = replace(as_recorded, peer="10.0.0.0/8")
    assert isinstance(plan_revert(j, previous=previous, group=group, current=as_recorded), RevokePlan)
    for later in (previous, replace(as_recorded, from_port=2222, to_port=2222)):  # put back, or changed again
        assert plan_revert(j, previous=previous, group=group, current=later) == (
            f"the rule no longer has the definition this event gave it (it is now ingress {ports(later)}): left as is"
        )


def ports(rule: RuleChange) -> str:
    return f"tcp/{rule.from_port} from {rule.peer}"
