"""Test alerts built directly from the model types, and a manual clock (shared by unit and e2e tests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sgwatch.model import (
    Action,
    Actor,
    Alert,
    Direction,
    Finding,
    GroupInfo,
    Judgement,
    Outcome,
    PeerKind,
    Remediation,
    RemediationStatus,
    RevokePlan,
    RuleChange,
    Severity,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
ACTOR = Actor(
    arn="arn:aws:sts::111122223333:assumed-role/Admin/alice",
    type="AssumedRole",
    account_id="111122223333",
    user_name="alice",
    session_issuer_arn="arn:aws:iam::111122223333:role/Admin",
    mfa_authenticated=True,
)


def change(**over: Any) -> RuleChange:
    base: dict[str, Any] = {
        "event_id": "0f1e2d3c-aaaa-bbbb-cccc-000000000001",
        "event_name": "AuthorizeSecurityGroupIngress",
        "event_time": T0,
        "account_id": "111122223333",
        "region": "eu-west-1",
        "actor": ACTOR,
        "source_ip": "203.0.113.7",
        "user_agent": "aws-cli/2.15.0 Python/3.11",
        "outcome": Outcome.SUCCESS,
        "action": Action.ADDED,
        "group_id": "sg-0abc1234def567890",
        "group_name": "web-frontend",
        "vpc_id": "vpc-0123abcd",
        "direction": Direction.INGRESS,
        "protocol": "tcp",
        "from_port": 22,
        "to_port": 22,
        "peer": "0.0.0.0/0",
        "peer_kind": PeerKind.IPV4,
        "rule_id": "sgr-0aaa1111bbbb2222c",
    }
    base.update(over)
    return RuleChange(**base)


def finding(finding_id: str, severity: Severity, title: str, reason: str) -> Finding:
    return Finding(finding_id=finding_id, title=title, severity=severity, reason=reason)


SSH_WORLD = finding(
    "WORLD_ADMIN_PORT_INGRESS", Severity.CRITICAL, "Admin or database port open to the world", "tcp/22 from 0.0.0.0/0"
)
RDP_WORLD = finding("WORLD_INGRESS", Severity.HIGH, "Port open to the world", "tcp/3389 from ::/0")
WIDE_RANGE = finding(
    "PUBLIC_HOST_ADMIN_PORT_INGRESS",
    Severity.LOW,
    "Admin or database port open to a narrow public range",
    "tcp/22 from 198.51.100.7/32",
)


def judgement(c: RuleChange, *findings: Finding, **over: Any) -> Judgement:
    severity = max((f.severity for f in findings), default=Severity.INFO)
    return Judgement(change=c, findings=findings, severity=over.pop("severity", severity), **over)


def alert_of(*judgements: Judgement, **over: Any) -> Alert:
    first = judgements[0].change
    base: dict[str, Any] = {
        "event_id": first.event_id,
        "event_name": first.event_name,
        "event_time": first.event_time,
        "account_id": first.account_id,
        "region": first.region,
        "actor": first.actor,
        "source_ip": first.source_ip,
        "user_agent": first.user_agent,
        "judgements": judgements,
    }
    base.update(over)
    return Alert(**base)


def critical_ssh() -> Alert:
    c = change(description="temporary access for debugging")
    plan = RevokePlan(
        event_id=c.event_id,
        rule_key=c.rule_key,
        group_id="sg-0abc1234def567890",
        direction=Direction.INGRESS,
        rule_id=c.rule_id,
        reason="WORLD_ADMIN_PORT_INGRESS",
    )
    return alert_of(
        judgement(c, SSH_WORLD),
        group=GroupInfo(
            group_id="sg-0abc1234def567890",
            group_name="web-frontend",
            vpc_id="vpc-0123abcd",
            is_default=False,
            owner="team-web",
            interface_count=3,
            instance_ids=("i-0aaa", "i-0bbb", "i-0ccc"),
            exposed_now=True,
            tags={"sgwatch:owner": "team-web"},
        ),
        remediations=(
            Remediation(
                plan=plan,
                status=RemediationStatus.REVERTED,
                dry_run=False,
                detail="RevokeSecurityGroupIngress succeeded",
            ),
        ),
    )


def multi_rule() -> Alert:
    eid = "0f1e2d3c-aaaa-bbbb-cccc-000000000002"
    return alert_of(
        judgement(change(event_id=eid, rule_id="sgr-01"), SSH_WORLD),
        judgement(
            change(
                event_id=eid,
                rule_id="sgr-02",
                from_port=3389,
                to_port=3389,
                peer="::/0",
                peer_kind=PeerKind.IPV6,
                rule_index=1,
            ),
            RDP_WORLD,
        ),
        judgement(
            change(
                event_id=eid,
                rule_id="sgr-03",
                protocol="udp",
                from_port=1000,
                to_port=2000,
                peer="10.0.0.0/8",
                rule_index=2,
            ),
            WIDE_RANGE,
            allowed_by="cidr 10.0.0.0/8: internal (netops)",
        ),
        judgement(
            change(
                event_id=eid,
                rule_id="sgr-04",
                protocol="-1",
                from_port=None,
                to_port=None,
                peer="sg-0fedcba987654321",
                peer_kind=PeerKind.GROUP,
                peer_account_id="444455556666",
                rule_index=3,
            ),
            finding(
                "CROSS_ACCOUNT_GROUP",
                Severity.MEDIUM,
                "Cross-account group",
                "all traffic from a group in account 444455556666",
            ),
        ),
        enrichment_error="DescribeSecurityGroups: UnauthorizedOperation",
    )


MALICIOUS_DESCRIPTION = "<!channel> <https://evil.example|click>"


def malicious() -> Alert:
    evil_actor = dataclasses.replace(
        ACTOR, arn="arn:aws:sts::111122223333:assumed-role/Admin/<@U024BE7LH>", user_name="<@U024BE7LH>"
    )
    c = change(
        event_id="0f1e2d3c-aaaa-bbbb-cccc-000000000003",
        description=MALICIOUS_DESCRIPTION,
        group_name="web & <db> [x](https://evil.example)",
        actor=evil_actor,
        user_agent="<script>alert(1)</script> & [click](https://evil.example)",
    )
    return alert_of(judgement(c, SSH_WORLD))


def minimal() -> Alert:
    c = change(
        event_id="0f1e2d3c-aaaa-bbbb-cccc-000000000004",
        event_name="AuthorizeSecurityGroupEgress",
        account_id=None,
        region=None,
        actor=Actor(principal_id="AIDAEXAMPLE"),
        source_ip=None,
        user_agent=None,
        outcome=Outcome.FAILURE,
        error_code="UnauthorizedOperation",
        error_message="You are not authorized to perform this operation.",
        group_id=None,
        direction=Direction.EGRESS,
        protocol="-1",
        from_port=None,
        to_port=None,
        rule_id=None,
    )
    return alert_of(
        judgement(c, finding("EGRESS_ALL_OPEN", Severity.HIGH, "All egress opened", "all traffic to 0.0.0.0/0"))
    )


def icmp_and_created() -> Alert:
    eid = "0f1e2d3c-aaaa-bbbb-cccc-000000000005"
    created = change(
        event_id=eid,
        event_name="CreateSecurityGroup",
        action=Action.CREATED,
        direction=None,
        protocol=None,
        from_port=None,
        to_port=None,
        peer=None,
        peer_kind=None,
        rule_id=None,
        group_id="sg-0123456789abcdef0",
        group_name="scratch",
    )
    icmp = change(
        event_id=eid,
        group_id="sg-0123456789abcdef0",
        group_name="scratch",
        protocol="icmp",
        from_port=8,
        to_port=-1,
        peer="pl-0abc1234",
        peer_kind=PeerKind.PREFIX_LIST,
        rule_id="sgr-0icmp",
        rule_index=1,
    )
    plan = RevokePlan(
        event_id=eid,
        rule_key=icmp.rule_key,
        group_id="sg-0123456789abcdef0",
        direction=Direction.INGRESS,
        rule_id="sgr-0icmp",
    )
    return alert_of(
        judgement(created, finding("GROUP_CREATED", Severity.INFO, "Security group created", "new group")),
        judgement(
            icmp,
            finding(
                "ICMP_FROM_PREFIX_LIST", Severity.MEDIUM, "ICMP from a prefix list", "icmp type 8 from pl-0abc1234"
            ),
        ),
        remediations=(
            Remediation(plan=plan, status=RemediationStatus.PLANNED, dry_run=True, detail="dry run"),
            Remediation(plan=None, status=RemediationStatus.FAILED, dry_run=False, detail="AccessDenied"),
        ),
    )


LEGACY_GROUP = "sg-ff6aba8ab7ef60f61"


def legacy_revert() -> Alert:
    """A legacy AuthorizeSecurityGroupIngress (no rule id in the record), reverted by its exact permission."""
    c = change(
        event_id="0f1e2d3c-aaaa-bbbb-cccc-000000000006",
        group_id=LEGACY_GROUP,
        group_name=None,
        from_port=3389,
        to_port=3389,
        rule_id=None,
    )
    plan = RevokePlan(
        event_id=c.event_id,
        rule_key=c.rule_key,
        group_id=LEGACY_GROUP,
        direction=Direction.INGRESS,
        ip_permission={"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        reason="revoke the exact permission the request added (no rule id recorded)",
    )
    rdp = finding(
        "WORLD_ADMIN_PORT_INGRESS", Severity.CRITICAL, "Admin port open to the world", "tcp/3389 from 0.0.0.0/0"
    )
    return alert_of(
        judgement(c, rdp),
        remediations=(
            Remediation(
                plan=plan,
                status=RemediationStatus.REVERTED,
                dry_run=False,
                detail="revoked",
            ),
        ),
    )


def burst(count: int, *, step: float = 1.0, severity: Severity = Severity.HIGH) -> list[Alert]:
    out = []
    for i in range(count):
        c = change(
            event_id=f"burst-{i:04d}",
            event_time=T0 + timedelta(seconds=i * step),
            rule_id=f"sgr-{i:04d}",
            group_id=f"sg-{i:017x}",
        )
        top = dataclasses.replace(SSH_WORLD, severity=severity)
        out.append(alert_of(judgement(c, top)))
    return out


CASES: dict[str, Callable[[], Alert]] = {
    "critical_ssh": critical_ssh,
    "multi_rule": multi_rule,
    "malicious": malicious,
    "minimal": minimal,
    "icmp_and_created": icmp_and_created,
    "legacy_revert": legacy_revert,
}


class ManualClock:
    """A clock that only moves when slept on (or advanced); records every sleep."""

    def __init__(self, start: datetime = T0) -> None:
        self.start = start
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.elapsed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += max(0.0, seconds)
