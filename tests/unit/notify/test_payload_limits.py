"""One API call can change hundreds of rules, each with a revert outcome: every channel's message must still be
accepted by its service (Teams 28 KB, SNS 256 KB in bytes, PagerDuty 512 KB) and still list rules."""

from __future__ import annotations

import dataclasses
import json
from types import ModuleType

import pytest

from sgwatch.model import Alert, Direction, Remediation, RemediationStatus, RevokePlan, Severity
from sgwatch.notify.render.documents import sns_publish
from sgwatch.notify.render.facts import REMEDIATION_LINES_MAX, remediation_lines
from sgwatch.notify.render.pagerduty import pagerduty_alert
from sgwatch.notify.render.teams import card_size, teams_alert

DENIED = (
    "RevokeSecurityGroupIngress in eu-west-1 refused: UnauthorizedOperation: You are not authorized to perform "
    "this operation. User: arn:aws:sts::111122223333:assumed-role/sgwatch-fn-role/sgwatch-fn is not authorized "
    "to perform: ec2:RevokeSecurityGroupIngress (the role needs it: deploy with --remediation); nothing was changed"
)
TEAMS_MAX, SNS_MAX, PAGERDUTY_MAX = 28 * 1024, 256 * 1024, 512 * 1024


def big_call(alerts: ModuleType, rules: int, description: str, status: RemediationStatus, detail: str) -> Alert:
    """One AuthorizeSecurityGroupIngress listing ``rules`` world-open rules, each with a revert outcome."""
    judgements, remediations = [], []
    for i in range(rules):
        change = alerts.change(event_id="ev-big", rule_id=f"sgr-{i:017x}", from_port=1000 + i, to_port=1000 + i,
                               description=description, rule_index=i)  # fmt: skip
        found = alerts.finding("WORLD_INGRESS", Severity.HIGH, "Port open to the world", f"tcp/{1000 + i}")
        judgements.append(alerts.judgement(change, found))
        plan = RevokePlan(event_id="ev-big", rule_key=change.rule_key, group_id=change.group_id,
                          direction=Direction.INGRESS, rule_id=change.rule_id, reason="WORLD_INGRESS")  # fmt: skip
        remediations.append(Remediation(plan=plan, status=status, dry_run=False, detail=detail))
    alert: Alert = alerts.alert_of(*judgements, remediations=tuple(remediations))
    return alert


@pytest.mark.parametrize("rules", [44, 60, 300])
def test_teams_cards_fit_and_still_list_rules(alerts: ModuleType, rules: int) -> None:
    card = teams_alert(big_call(alerts, rules, "", RemediationStatus.FAILED, DENIED))
    assert card_size(card) < TEAMS_MAX
    assert len(json.dumps(card, ensure_ascii=False).encode()) < TEAMS_MAX
    text = json.dumps(card)
    assert text.count("tcp/1") >= min(rules, 20)  # the rules are shown, not crowded out by outcomes
    assert f"{rules} rules FAILED to revert" in text


@pytest.mark.parametrize("description", ["x" * 255, "\U0001f512" * 255])
def test_sns_messages_fit_in_bytes(alerts: ModuleType, description: str) -> None:
    publish = sns_publish(big_call(alerts, 320, description, RemediationStatus.FAILED, DENIED))
    assert len(publish["Message"].encode()) <= SNS_MAX
    variants = json.loads(publish["Message"])
    document = json.loads(variants["default"])
    assert document["data"]["changes"]  # machines still get rules, marked as cut
    assert document["data"]["truncated"] is True


def test_pagerduty_bodies_fit(alerts: ModuleType) -> None:
    event = pagerduty_alert(big_call(alerts, 1500, "x" * 255, RemediationStatus.FAILED, DENIED), "R" * 32)
    assert len(json.dumps(event, ensure_ascii=False).encode()) <= PAGERDUTY_MAX
    changes = event["payload"]["custom_details"]["Changes"]
    assert changes[-1].endswith("more changes not listed")
    assert len(changes) > 100


def test_many_outcomes_read_as_one_line_per_outcome(alerts: ModuleType) -> None:
    few = remediation_lines(big_call(alerts, REMEDIATION_LINES_MAX, "", RemediationStatus.REVERTED, "revoked"))
    assert len(few) == REMEDIATION_LINES_MAX
    assert few[0].startswith("reverted ingress tcp/1000")
    many = big_call(alerts, 60, "", RemediationStatus.REVERTED, "revoked")
    assert remediation_lines(many) == ("60 rules reverted: revoked",)
    mixed = many.remediations[:30] + tuple(
        Remediation(plan=r.plan, status=RemediationStatus.FAILED, dry_run=False, detail=f"refused {i}")
        for i, r in enumerate(many.remediations[30:])
    )
    lines = remediation_lines(dataclasses.replace(many, remediations=mixed))
    assert len(lines) == REMEDIATION_LINES_MAX
    assert lines[0] == "30 rules reverted: revoked"
    assert lines[-1] == "22 more rules with 22 other outcomes (listed in the audit trail)"
