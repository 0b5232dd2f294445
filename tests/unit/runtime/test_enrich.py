"""enrich: the pure merge and the Enricher's caching, failure and ignore handling (an in-memory port)."""

from __future__ import annotations

from typing import Any

from sgwatch.enrich import Enricher, GroupFacts, InterfaceFacts, RuleFacts, is_ignored, merge_group_info
from sgwatch.enrich.aws import interface_facts, rule_facts
from sgwatch.errors import EnrichError
from sgwatch.model import Direction, PeerKind

from .conftest import load_fixture


class MemoryEc2:
    """An Ec2Describer over dicts, counting calls; names in ``failing`` raise EnrichError."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.groups = {"sg-0a1b2c3d4e5f60718": GroupFacts(group_id="sg-0a1b2c3d4e5f60718", group_name="default",
                                                          vpc_id="vpc-1", tags={"sgwatch:owner": "team-web"})}  # fmt: skip
        self.enis = {"sg-0a1b2c3d4e5f60718": (InterfaceFacts(interface_id="eni-1", instance_id="i-1", public_ip="203.0.113.7"),
                                              InterfaceFacts(interface_id="eni-2", instance_id="i-1"))}  # fmt: skip
        self.rules = {"sgr-0ccc00000000aaaa1": RuleFacts(rule_id="sgr-0ccc00000000aaaa1", direction=Direction.INGRESS,
                                                         protocol="tcp", from_port=22, to_port=22, peer="0.0.0.0/0",
                                                         peer_kind=PeerKind.IPV4)}  # fmt: skip
        self.failing = failing
        self.calls: list[str] = []

    def _check(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing:
            raise EnrichError(f"eu-west-1: {name}: UnauthorizedOperation: denied")

    def group(self, region: str | None, group_id: str) -> GroupFacts | None:
        self._check("group")
        return self.groups.get(group_id)

    def rule(self, region: str | None, rule_id: str) -> RuleFacts | None:
        self._check("rule")
        return self.rules.get(rule_id)

    def interfaces(self, region: str | None, group_id: str) -> tuple[InterfaceFacts, ...]:
        self._check("interfaces")
        return self.enis.get(group_id, ())

    def prefix_list_cidrs(self, region: str | None, prefix_list_id: str) -> tuple[str, ...] | None:
        self._check("prefix_list")
        return ("0.0.0.0/0",) if prefix_list_id == "pl-0123456789abcdef0" else None


def test_merge_reads_default_owner_and_exposure() -> None:
    ec2 = MemoryEc2()
    info = merge_group_info("sg-0a1b2c3d4e5f60718", group=ec2.groups["sg-0a1b2c3d4e5f60718"],
                            interfaces=ec2.enis["sg-0a1b2c3d4e5f60718"])  # fmt: skip
    assert (info.is_default, info.owner, info.interface_count, info.instance_ids, info.exposed_now) == (
        True, "team-web", 2, ("i-1",), True,
    )  # fmt: skip
    unknown = merge_group_info("sg-x", group=None)
    assert (unknown.is_default, unknown.exposed_now, unknown.interface_count) == (None, None, None)


def test_ignore_tag() -> None:
    assert is_ignored(merge_group_info("sg-1", group=GroupFacts(group_id="sg-1", tags={"sgwatch:ignore": " TRUE "})))
    assert not is_ignored(merge_group_info("sg-1", group=GroupFacts(group_id="sg-1", tags={"sgwatch:ignore": "no"})))
    assert not is_ignored(None)


def test_enrichment_raises_severity_and_describes_each_group_once(judged: Any) -> None:
    plain = judged("AuthorizeSecurityGroupIngress__items_world_ssh")[0]
    ec2 = MemoryEc2()
    enricher = Enricher(ec2)
    results = _judge_with("AuthorizeSecurityGroupIngress__web_ports_world", enricher)
    assert len(results) == 3
    world = [j for j in results if "WORLD_ADMIN_PORT_INGRESS" in j.finding_ids or "WORLD_INGRESS" in j.finding_ids]
    assert world
    assert all("GROUP_EXPOSED_NOW" in j.finding_ids for j in world)
    assert "GROUP_EXPOSED_NOW" not in plain.finding_ids
    assert ec2.calls.count("group") == 1
    assert ec2.calls.count("interfaces") == 1
    change = results[0].change
    assert enricher.info_for(change).owner == "team-web"  # type: ignore[union-attr]
    assert enricher.error_for(change) is None
    enricher.begin_batch()
    assert enricher.info_for(change) is None


def test_modify_gets_its_direction_and_prefix_lists_their_cidrs(judged: Any) -> None:
    enricher = Enricher(MemoryEc2())
    (j,) = _judge_with("ModifySecurityGroupRules__object", enricher)
    assert enricher.info_for(j.change).rule_direction is Direction.INGRESS  # type: ignore[union-attr]
    (pl,) = _judge_with("AuthorizeSecurityGroupIngress__prefix_list", enricher)
    assert enricher.info_for(pl.change).prefix_list_cidrs == {"pl-0123456789abcdef0": ("0.0.0.0/0",)}  # type: ignore[union-attr]
    assert "PREFIX_LIST_WORLD_INGRESS" in pl.finding_ids


def test_failures_are_remembered_and_partial_results_kept() -> None:
    ec2 = MemoryEc2(failing=("interfaces",))
    enricher = Enricher(ec2)
    (j,) = _judge_with("AuthorizeSecurityGroupIngress__items_world_ssh", enricher)
    info = enricher.info_for(j.change)
    assert info is not None
    assert info.owner == "team-web"
    assert info.exposed_now is None
    assert enricher.error_for(j.change) == "eu-west-1: interfaces: UnauthorizedOperation: denied"
    ec2.groups.clear()
    enricher.begin_batch()
    (j,) = _judge_with("AuthorizeSecurityGroupIngress__items_world_ssh", enricher)
    assert "group not found in eu-west-1" in str(enricher.error_for(j.change))


def test_groups_of_another_account_are_not_described() -> None:
    ec2 = MemoryEc2()
    enricher = Enricher(ec2, account_id="999988887777")
    (j,) = _judge_with("AuthorizeSecurityGroupIngress__items_world_ssh", enricher)
    assert ec2.calls == []
    assert enricher.info_for(j.change) is None
    assert enricher.error_for(j.change) == (
        "sg-0a1b2c3d4e5f60718 is in account 111122223333; enrichment describes account 999988887777 only"
    )


def test_aws_shapes_are_read() -> None:
    rule = rule_facts({"SecurityGroupRuleId": "sgr-1", "GroupId": "sg-1", "IsEgress": True, "IpProtocol": "-1",
                       "FromPort": -1, "ToPort": -1, "ReferencedGroupInfo": {"GroupId": "sg-2", "UserId": "1"}})  # fmt: skip
    assert (rule.direction, rule.protocol, rule.from_port, rule.peer, rule.peer_kind) == (
        Direction.EGRESS, "-1", None, "sg-2", PeerKind.GROUP,
    )  # fmt: skip
    eni = interface_facts({"NetworkInterfaceId": "eni-1", "Ipv6Addresses": [{"Ipv6Address": "2001:db8::1"}]})
    assert eni.public_ip == "2001:db8::1"
    assert eni.instance_id is None


def _judge_with(name: str, enricher: Enricher) -> list[Any]:
    from sgwatch.pipeline import judge
    from sgwatch.policy import Policy
    from sgwatch.sources import RawRecord

    return list(judge([RawRecord(data=load_fixture(name), origin="t")], Policy(), lookup=enricher))


def test_a_rule_describe_is_reported_once_per_batch_however_many_changes_reuse_it() -> None:
    from sgwatch.pipeline import judge
    from sgwatch.policy import Policy
    from sgwatch.sources import RawRecord

    ec2 = MemoryEc2()
    seen: list[tuple[str, str]] = []
    enricher = Enricher(ec2, on_rule=lambda change, rule: seen.append((change.event_id, rule.rule_id)))
    records = [{**load_fixture("ModifySecurityGroupRules__object"), "eventID": f"ev-{i}"} for i in range(10)]

    def batch() -> list[Any]:
        enricher.begin_batch()
        return list(judge([RawRecord(data=r, origin=f"t{i}") for i, r in enumerate(records)], Policy(),
                          lookup=enricher))  # fmt: skip

    assert len(batch()) == 10
    assert seen == [("ev-0", "sgr-0ccc00000000aaaa1")]
    assert ec2.calls.count("rule") == 1
    batch()  # a new batch describes (and reports) the rule again
    assert seen == [("ev-0", "sgr-0ccc00000000aaaa1")] * 2
    ec2.failing = ("rule",)
    batch()  # a failed describe reports nothing
    assert len(seen) == 2
