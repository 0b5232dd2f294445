"""What remediation did reads, in every human format, with the rule in ``ruletext``'s wording, never an internal
rule key."""

from __future__ import annotations

import dataclasses
import json
from html import escape
from types import ModuleType

import pytest

from sgwatch.model import Alert, Direction, Remediation, RemediationStatus, RevokePlan, Severity
from sgwatch.notify.config import ConsoleConfig
from sgwatch.notify.render.documents import sns_publish
from sgwatch.notify.render.email import email_alert
from sgwatch.notify.render.facts import remediation_lines
from sgwatch.notify.render.pagerduty import pagerduty_alert
from sgwatch.notify.render.slack import slack_alert
from sgwatch.notify.render.teams import teams_alert
from sgwatch.notify.render.text import text_alert
from sgwatch.notify.routing import select


def human_texts(alert: Alert) -> dict[str, str]:
    """Every text a person reads, per format (the webhook and SNS ``default`` JSON are for machines)."""
    email = email_alert(alert)
    sns = json.loads(sns_publish(alert)["Message"])
    return {
        "console": text_alert(alert),
        "slack": json.dumps(slack_alert(alert), ensure_ascii=False),
        "teams": json.dumps(teams_alert(alert), ensure_ascii=False),
        "pagerduty": json.dumps(pagerduty_alert(alert, "R0UTINGKEY"), ensure_ascii=False),
        "email text": email.text,
        "email html": email.html,
        "sns email": sns["email"],
    }


def test_a_revert_without_rule_id_names_the_rule_in_every_format(alerts: ModuleType) -> None:
    alert = alerts.legacy_revert()
    (line,) = remediation_lines(alert)
    assert line == f"reverted ingress tcp/3389 from 0.0.0.0/0 on {alerts.LEGACY_GROUP}: revoked"
    key = alert.judgements[0].change.rule_key
    assert "|" in key  # the canonical key of a rule without an id
    for fmt, text in human_texts(alert).items():
        assert key not in text, fmt
        shown = escape(line, quote=False) if fmt == "email html" else line
        assert shown in text, fmt


def test_a_revert_by_rule_id_reads_as_the_rule(alerts: ModuleType) -> None:
    (line,) = remediation_lines(alerts.critical_ssh())
    assert (
        line == "reverted ingress tcp/22 from 0.0.0.0/0 on sg-0abc1234def567890: RevokeSecurityGroupIngress succeeded"
    )


def plan(alert: Alert, index: int, **over: object) -> RevokePlan:
    change = alert.judgements[index].change
    fields: dict[str, object] = {
        "event_id": change.event_id,
        "rule_key": change.rule_key,
        "group_id": "sg-0abc1234def567890",
        "direction": Direction.INGRESS,
    }
    return RevokePlan(**(fields | over))  # type: ignore[arg-type]


def test_a_channel_sent_only_some_rules_still_reads_every_remediation(alerts: ModuleType) -> None:
    """The alert a critical-only channel gets lacks the other rules: their remediations read from the plan."""
    multi = alerts.multi_rule()
    permission = {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}
    group = {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-0fedcba987654321"}]}
    done = (
        Remediation(plan=plan(multi, 0, rule_id="sgr-01"), status=RemediationStatus.REVERTED, dry_run=False),
        Remediation(plan=plan(multi, 1, ip_permission=permission), status=RemediationStatus.PLANNED, dry_run=True),
        Remediation(
            plan=plan(multi, 3, ip_permission=group),
            status=RemediationStatus.ALREADY_REVERTED,
            dry_run=False,
        ),
        Remediation(plan=plan(multi, 2, rule_id="sgr-03"), status=RemediationStatus.FAILED, dry_run=False),
    )
    alert = dataclasses.replace(multi, remediations=done)
    critical_only = ConsoleConfig(name="c", type="console", min_severity=Severity.CRITICAL)
    part, _ = select(alert, critical_only)
    assert part is not None
    assert len(part.judgements) == 1
    assert remediation_lines(part) == (
        "reverted ingress tcp/22 from 0.0.0.0/0 on sg-0abc1234def567890",
        "would revert ingress tcp/3389 from ::/0 on sg-0abc1234def567890 (dry run)",
        "ingress all traffic from sg-0fedcba987654321 on sg-0abc1234def567890 was already gone",
        "FAILED to revert ingress rule sgr-03 on sg-0abc1234def567890",
    )
    assert remediation_lines(alert)[1:] == (
        "would revert ingress tcp/3389 from ::/0 on sg-0abc1234def567890 (dry run)",
        "ingress all traffic from sg-0fedcba987654321 (account 444455556666) on sg-0abc1234def567890 was already gone",
        "FAILED to revert ingress udp/1000-2000 from 10.0.0.0/8 on sg-0abc1234def567890",
    )


@pytest.mark.parametrize(
    ("permission", "text"),
    [
        (
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            "egress tcp/443 to 0.0.0.0/0",
        ),
        ({"IpProtocol": "-1", "PrefixListIds": [{"PrefixListId": "pl-0abc"}]}, "egress all traffic to pl-0abc"),
        (
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "UserIdGroupPairs": [{"GroupName": "dns"}]},
            "egress udp/53 to dns",
        ),
        ({}, "egress rule"),
    ],
)
def test_a_plan_alone_reads_in_ruletext_wording(alerts: ModuleType, permission: dict[str, object], text: str) -> None:
    alert = alerts.minimal()
    done = Remediation(
        plan=plan(alert, 0, direction=Direction.EGRESS, ip_permission=permission, rule_key="other"),
        status=RemediationStatus.REVERTED,
        dry_run=False,
    )
    assert remediation_lines(dataclasses.replace(alert, remediations=(done,))) == (
        f"reverted {text} on sg-0abc1234def567890",
    )
