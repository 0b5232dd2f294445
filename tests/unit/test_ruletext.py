"""One wording per rule: ``sgwatch.ruletext`` and every place a user reads a rule (pure)."""

from __future__ import annotations

import ast
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import pytest

import sgwatch.ruletext
from sgwatch.audit.render import render_report
from sgwatch.audit.report import ReportData
from sgwatch.cli.output import change_text, write_history_table
from sgwatch.model import Action, Actor, Alert, Direction, Judgement, Outcome, PeerKind, RuleChange
from sgwatch.notify.render.email import email_alert
from sgwatch.notify.render.facts import change_line
from sgwatch.notify.render.pagerduty import pagerduty_alert
from sgwatch.notify.render.slack import slack_alert
from sgwatch.notify.render.teams import teams_alert
from sgwatch.notify.render.text import text_alert
from sgwatch.policy import Policy, evaluate
from sgwatch.ruletext import failure_text, format_ports, group_text, peer_text, ports_text, rule_text

T0 = datetime(2026, 3, 1, 10, 15, 30, tzinfo=UTC)
ACCOUNT = "111122223333"
BASE = RuleChange(
    event_id="ev-1",
    event_name="AuthorizeSecurityGroupIngress",
    event_time=T0,
    account_id=ACCOUNT,
    region="eu-west-1",
    actor=Actor(arn=f"arn:aws:iam::{ACCOUNT}:user/alice", type="IAMUser"),
    source_ip="198.51.100.23",
    user_agent="aws-cli/2.15.0",
    outcome=Outcome.SUCCESS,
    action=Action.ADDED,
    group_id="sg-0a1b2c3d4e5f60718",
    direction=Direction.INGRESS,
    protocol="tcp",
    from_port=22,
    to_port=22,
    peer="0.0.0.0/0",
    peer_kind=PeerKind.IPV4,
    rule_id="sgr-0111aaaa2222bbbb3",
)


@pytest.mark.parametrize(
    ("protocol", "low", "high", "text"),
    [
        ("tcp", 22, 22, "tcp/22"),
        ("udp", 1000, 2000, "udp/1000-2000"),
        ("tcp", 0, 65535, "tcp/0-65535"),  # as recorded
        ("tcp", -1, -1, "tcp (all ports)"),
        ("udp", None, None, "udp (no ports recorded)"),
        ("tcp", 22, None, "tcp/22-?"),
        ("tcp", None, 25, "tcp/?-25"),
        ("-1", None, None, "all traffic"),
        ("icmp", 8, 0, "icmp type 8 code 0"),
        ("icmp", 8, -1, "icmp type 8 (all codes)"),
        ("icmp", 3, None, "icmp type 3 (all codes)"),
        ("icmp", -1, -1, "icmp (all types)"),
        ("icmpv6", -1, -1, "icmpv6 (all types)"),
        ("icmpv6", None, None, "icmpv6 (all types)"),
        ("icmpv6", 128, 0, "icmpv6 type 128 code 0"),
        ("47", None, None, "protocol 47"),
        ("50", 0, 0, "protocol 50"),  # AWS opens every port of other protocols: recorded ports are not shown
        ("gre", None, None, "protocol gre"),  # an unknown name is kept as written
        (None, None, None, ""),
    ],
)
def test_format_ports(protocol: str | None, low: int | None, high: int | None, text: str) -> None:
    assert format_ports(protocol, low, high) == text
    assert ports_text(replace(BASE, protocol=protocol, from_port=low, to_port=high)) == text


@pytest.mark.parametrize(
    ("over", "text"),
    [
        ({}, "ingress tcp/22 from 0.0.0.0/0"),
        ({"direction": Direction.EGRESS, "from_port": 20, "to_port": 25}, "egress tcp/20-25 to 0.0.0.0/0"),
        ({"protocol": "-1", "from_port": None, "to_port": None, "peer": "::/0", "peer_kind": PeerKind.IPV6},
         "ingress all traffic from ::/0"),
        ({"protocol": "icmp", "from_port": 8, "to_port": -1}, "ingress icmp type 8 (all codes) from 0.0.0.0/0"),
        ({"protocol": "47", "from_port": None, "to_port": None}, "ingress protocol 47 from 0.0.0.0/0"),
        ({"direction": None}, "rule tcp/22 from 0.0.0.0/0"),  # ModifySecurityGroupRules names no direction
        ({"protocol": None, "from_port": None, "to_port": None, "peer": None, "peer_kind": None},
         "ingress rule sgr-0111aaaa2222bbbb3"),
        ({"direction": None, "protocol": None, "from_port": None, "to_port": None, "peer": None, "peer_kind": None},
         "rule sgr-0111aaaa2222bbbb3"),
        ({"protocol": None, "rule_id": None, "peer": None, "peer_kind": None}, "ingress rule"),
        ({"peer": "pl-0abc1234", "peer_kind": PeerKind.PREFIX_LIST}, "ingress tcp/22 from pl-0abc1234"),
        ({"peer": "sg-0fed", "peer_kind": PeerKind.GROUP, "peer_account_id": "444455556666"},
         "ingress tcp/22 from sg-0fed (account 444455556666)"),
        ({"action": Action.CREATED, "group_name": "web"}, "security group sg-0a1b2c3d4e5f60718 (web)"),
        ({"action": Action.DELETED, "group_id": None, "group_name": "web"}, "security group web"),
        ({"action": Action.ATTACHED, "target": "eni-0abc"}, "security group sg-0a1b2c3d4e5f60718 to eni-0abc"),
        ({"action": Action.ATTACHED, "target": "i-0abc"}, "security group sg-0a1b2c3d4e5f60718 to i-0abc"),
        ({"action": Action.ATTACHED}, "security group sg-0a1b2c3d4e5f60718 to an interface"),
    ],
)  # fmt: skip
def test_rule_text(over: dict[str, Any], text: str) -> None:
    assert rule_text(replace(BASE, **over)) == text


def test_group_text_names_the_group_as_recorded() -> None:
    assert group_text(replace(BASE, group_name="web")) == "security group sg-0a1b2c3d4e5f60718 (web)"
    assert group_text(BASE) == "security group sg-0a1b2c3d4e5f60718"
    assert group_text(replace(BASE, group_id=None, group_name="web")) == "security group web"  # deleted by name
    assert group_text(replace(BASE, group_id=None)) == "security group"


def test_failure_text_names_the_failed_call_and_its_code() -> None:
    failed = replace(BASE, outcome=Outcome.FAILURE, error_code="UnauthorizedOperation")
    assert failure_text(failed) == "(the call failed: UnauthorizedOperation)"
    assert failure_text(replace(failed, error_code=None)) == "(the call failed)"
    assert failure_text(BASE) == ""
    assert failure_text(replace(BASE, error_code="Client.Whatever")) == ""  # a code on a success is not a failure


def test_peer_text_names_the_owner_of_another_accounts_group_only() -> None:
    group = replace(BASE, peer="sg-0fed", peer_kind=PeerKind.GROUP, peer_account_id="444455556666")
    assert peer_text(group) == "sg-0fed (account 444455556666)"
    assert peer_text(replace(group, peer_account_id=ACCOUNT)) == "sg-0fed"
    assert peer_text(replace(group, account_id=None)) == "sg-0fed (account 444455556666)"
    assert peer_text(replace(group, peer_account_id=None)) == "sg-0fed"
    assert peer_text(replace(BASE, peer_account_id="444455556666")) == "0.0.0.0/0"  # a CIDR has no owner
    assert peer_text(replace(BASE, peer=None)) == ""


SURFACE_RULES = {
    "ssh_world": {},
    "icmp_world": {"protocol": "icmp", "from_port": 8, "to_port": -1},
    "icmpv6_all_types": {"protocol": "icmpv6", "from_port": -1, "to_port": -1, "peer": "::/0",
                         "peer_kind": PeerKind.IPV6},
    "gre": {"protocol": "47", "from_port": None, "to_port": None},
    "udp_range_private": {"protocol": "udp", "from_port": 1000, "to_port": 2000, "peer": "10.0.0.0/8"},
    "egress_all": {"direction": Direction.EGRESS, "protocol": "-1", "from_port": None, "to_port": None},
    "cross_account": {"peer": "sg-0fed", "peer_kind": PeerKind.GROUP, "peer_account_id": "444455556666"},
}  # fmt: skip


def _alert(judgement: Judgement) -> Alert:
    c = judgement.change
    return Alert(
        event_id=c.event_id,
        event_name=c.event_name,
        event_time=c.event_time,
        account_id=c.account_id,
        region=c.region,
        actor=c.actor,
        source_ip=c.source_ip,
        user_agent=c.user_agent,
        judgements=(judgement,),
    )


@pytest.mark.parametrize("over", SURFACE_RULES.values(), ids=SURFACE_RULES.keys())
def test_every_surface_words_the_rule_the_same(over: dict[str, Any]) -> None:
    change = replace(BASE, **over)
    judgement = evaluate(change, Policy(), today=T0.date())
    ports, rule = ports_text(change), rule_text(change)
    # finding reasons
    assert any(f.reason.startswith(ports) or f.reason.startswith(f"egress {ports}") for f in judgement.findings)
    # every alert format
    line = f"added {rule} on {change.group_id}"
    assert change_line(change) == line
    alert = _alert(judgement)
    assert line in text_alert(alert)
    for payload in (slack_alert(alert), teams_alert(alert), pagerduty_alert(alert, "R" * 32)):
        assert line in json.dumps(payload, ensure_ascii=False)
    email = email_alert(alert)
    assert line in email.text
    assert escape(line) in email.html
    # the scan table, the history table, the report
    assert change_text(judgement) == f"added {change.direction} {ports}"
    assert f"added: {rule}" in _history(judgement)
    assert f"</b> {escape(rule)}" in _report(judgement)


def _history(judgement: Judgement) -> str:
    out = io.StringIO()
    write_history_table([judgement], out, "history")
    return out.getvalue()


def _report(judgement: Judgement) -> str:
    return render_report(
        ReportData(
            since=T0.replace(day=1),
            until=T0.replace(day=2),
            generated_at=T0,
            database="audit.sqlite",
            changes=(judgement,),
            before={},
            exposed=(),
            remediations=(),
            deliveries=(),
        )
    )


NO_RULE = dict.fromkeys(("direction", "protocol", "from_port", "to_port", "peer", "peer_kind", "rule_id"))
GROUP_EVENTS = {
    "created": ({**NO_RULE, "action": Action.CREATED, "event_name": "CreateSecurityGroup", "group_name": "web"},
                "security group sg-0a1b2c3d4e5f60718 (web)"),
    "deleted": ({**NO_RULE, "action": Action.DELETED, "event_name": "DeleteSecurityGroup"},
                "security group sg-0a1b2c3d4e5f60718"),
    "deleted_by_name": ({**NO_RULE, "action": Action.DELETED, "event_name": "DeleteSecurityGroup", "group_id": None,
                         "group_name": "web"}, "security group web"),
    "attached": ({**NO_RULE, "action": Action.ATTACHED, "event_name": "ModifyNetworkInterfaceAttribute",
                  "target": "eni-0abc"}, "security group sg-0a1b2c3d4e5f60718 to eni-0abc"),
}  # fmt: skip


@pytest.mark.parametrize(("over", "text"), GROUP_EVENTS.values(), ids=GROUP_EVENTS.keys())
def test_a_change_to_the_group_reads_once_everywhere(over: dict[str, Any], text: str) -> None:
    """The action is said once: ``created: security group sg-0abc (web)``, never ``created: group created``."""
    change = replace(BASE, **over)
    assert rule_text(change) == text
    judgement = evaluate(change, Policy(), today=T0.date())
    action = str(change.action)
    history = _history(judgement)
    assert f"{action}: {text}" in history
    assert history.count(action) == 1
    report = _report(judgement)
    assert f"<b>{action}</b> {escape(text)}" in report
    assert f"{action}</b> group {action}" not in report
    line = f"{action} {text}"
    assert change_line(change) == line
    assert line in text_alert(_alert(judgement))


def test_a_failed_call_reads_the_same_in_the_scan_table_history_and_alerts() -> None:
    change = replace(
        BASE,
        direction=Direction.EGRESS,
        protocol="-1",
        from_port=None,
        to_port=None,
        outcome=Outcome.FAILURE,
        error_code="UnauthorizedOperation",
        error_message="You are not authorized to perform this operation.",
    )
    judgement = evaluate(change, Policy(), today=T0.date())
    failure = "(the call failed: UnauthorizedOperation)"
    rule = rule_text(change)
    assert change_text(judgement) == f"added egress all traffic {failure}"
    assert f"added: {rule} {failure}" in _history(judgement)
    assert change_line(change) == f"added {rule} on {change.group_id} {failure}"
    alert = _alert(judgement)
    for text in (text_alert(alert), json.dumps(slack_alert(alert), ensure_ascii=False), email_alert(alert).text):
        assert f"{rule} on {change.group_id} {failure}" in text
    # without a recorded code the call still reads as failed, on every surface
    bare = replace(judgement, change=replace(change, error_code=None))
    assert change_text(bare).endswith(" (the call failed)")
    assert f"added: {rule} (the call failed)" in _history(bare)
    assert change_line(bare.change).endswith(" (the call failed)")


def test_the_wording_module_imports_only_the_model() -> None:
    """Policy, notify, audit, remediation and the CLI import it: it must stay pure and pull nothing in."""
    tree = ast.parse(Path(sgwatch.ruletext.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported == {"__future__", "sgwatch.model"}


def test_a_reason_names_the_rule_when_the_event_names_no_protocol() -> None:
    bare = replace(BASE, protocol=None, from_port=None, to_port=None, peer=None, peer_kind=None)
    added = evaluate(bare, Policy(), today=T0.date())
    assert [f.reason for f in added.findings] == ["sgr-0111aaaa2222bbbb3: no peer recorded"]
    removed = evaluate(replace(bare, action=Action.REMOVED, rule_id=None), Policy(), today=T0.date())
    assert [f.reason for f in removed.findings] == ["rule revoked"]
    assert [f.reason for f in evaluate(replace(BASE, action=Action.REMOVED), Policy()).findings] == ["tcp/22 revoked"]
