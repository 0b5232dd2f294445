"""The sample alert ``sgwatch notify test`` sends: realistic, and plainly marked as a test."""

from __future__ import annotations

from datetime import datetime

from sgwatch.model import Action, Actor, Alert, Direction, Finding, Judgement, Outcome, PeerKind, RuleChange, Severity

TEST_FINDING_ID = "SGWATCH_TEST"


def sample_alert(now: datetime) -> Alert:
    """A critical-looking test alert stamped ``now``; its ids are unique per second."""
    event_id = f"sgwatch-test-{now.strftime('%Y%m%dT%H%M%SZ')}"
    actor = Actor(
        arn="arn:aws:sts::123456789012:assumed-role/sgwatch-test/notify-test",
        type="AssumedRole",
        account_id="123456789012",
        user_name="notify-test",
    )
    change = RuleChange(
        event_id=event_id,
        event_name="AuthorizeSecurityGroupIngress",
        event_time=now,
        account_id="123456789012",
        region="us-east-1",
        actor=actor,
        source_ip="192.0.2.10",
        user_agent="sgwatch notify test",
        outcome=Outcome.SUCCESS,
        action=Action.ADDED,
        group_id="sg-0123456789abcdef0",
        group_name="sgwatch-test",
        direction=Direction.INGRESS,
        protocol="tcp",
        from_port=22,
        to_port=22,
        peer="0.0.0.0/0",
        peer_kind=PeerKind.IPV4,
        rule_id="sgr-0123456789abcdef0",
        description="sgwatch notify test (no real change was made)",
    )
    finding = Finding(
        finding_id=TEST_FINDING_ID,
        title="Test alert from sgwatch (no action needed)",
        severity=Severity.CRITICAL,
        reason="sent by `sgwatch notify test` to check this channel",
    )
    judgement = Judgement(change=change, findings=(finding,), severity=Severity.CRITICAL)
    return Alert(
        event_id=event_id,
        event_name=change.event_name,
        event_time=now,
        account_id=change.account_id,
        region=change.region,
        actor=actor,
        source_ip=change.source_ip,
        user_agent=change.user_agent,
        judgements=(judgement,),
    )
