"""A month of security-group history built from model types, shared by the audit tests.

Groups: sg-web (web), sg-bastion (bastion), sg-db (db). Expected state after everything:
sg-web: 443 from the world (described), egress all to the world, 8080 from sg-lb;
sg-bastion: 22 from ::/0 (20-25 was revoked); sg-db: all traffic from 10/8, 5432 from 198.51.100.7/32
(modified from 203.0.113.0/24), udp 53 from 10.1/16. The failed 22-to-the-world call changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sgwatch.decode import decode_record
from sgwatch.model import (
    Action,
    Actor,
    Delivery,
    DeliveryStatus,
    Direction,
    Finding,
    Judgement,
    Outcome,
    PeerKind,
    Remediation,
    RemediationStatus,
    RevokePlan,
    RuleChange,
    Severity,
)
from sgwatch.normalize import normalize

ACCOUNT = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob"
SGWATCH = f"arn:aws:sts::{ACCOUNT}:assumed-role/sgwatch-remediate/sgwatch"
CI = f"arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/github"
MALLORY = f"arn:aws:iam::{ACCOUNT}:user/mallory"
NAMES = {"sg-web": "web", "sg-bastion": "bastion", "sg-db": "db"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def change(
    event: str,
    when: str,
    actor: str,
    action: Action,
    group_id: str,
    *,
    event_name: str = "AuthorizeSecurityGroupIngress",
    direction: Direction | None = Direction.INGRESS,
    protocol: str | None = "tcp",
    ports: tuple[int | None, int | None] = (None, None),
    peer: str | None = None,
    rule_id: str | None = None,
    rule_index: int = 0,
    outcome: Outcome = Outcome.SUCCESS,
    error_code: str | None = None,
    description: str | None = None,
) -> RuleChange:
    peer_kind = None
    if peer:
        peer_kind = (
            PeerKind.GROUP
            if peer.startswith("sg-")
            else PeerKind.PREFIX_LIST
            if peer.startswith("pl-")
            else PeerKind.IPV6
            if ":" in peer
            else PeerKind.IPV4
        )
    return RuleChange(
        event_id=event,
        event_name=event_name,
        event_time=at(when),
        account_id=ACCOUNT,
        region="eu-west-1",
        actor=Actor(arn=actor, type="AssumedRole" if ":sts::" in actor else "IAMUser"),
        source_ip="198.51.100.200",
        user_agent="aws-cli/2.15.0",
        outcome=outcome,
        error_code=error_code,
        error_message="not authorized" if error_code else None,
        action=action,
        group_id=group_id,
        group_name=NAMES.get(group_id),
        vpc_id="vpc-0a1b2c",
        direction=direction,
        protocol=protocol,
        from_port=ports[0],
        to_port=ports[1],
        peer=peer,
        peer_kind=peer_kind,
        rule_id=rule_id,
        description=description,
        rule_index=rule_index,
        origin=f"fixture.json#{event}",
    )


def judged(rule: RuleChange, severity: Severity, *finding_ids: str, allowed_by: str | None = None) -> Judgement:
    findings = tuple(
        Finding(finding_id=fid, title=fid.replace("_", " ").capitalize(), severity=severity, reason=f"{fid} fired")
        for fid in finding_ids
    )
    return Judgement(change=rule, findings=findings, severity=severity, allowed_by=allowed_by)


def scenario() -> tuple[Judgement, ...]:
    """Thirteen judged changes over 2024-05-01 .. 2024-05-12 (in a shuffled order on purpose)."""
    c = change
    items = [
        judged(c("ev-13", "2024-05-12T09:00:00", BOB, Action.ADDED, "sg-db", protocol="udp", ports=(53, 53),
                 peer="10.1.0.0/16", rule_id="sgr-db3"), Severity.LOW),
        judged(c("ev-01", "2024-05-01T09:00:00", CI, Action.CREATED, "sg-web", event_name="CreateSecurityGroup",
                 direction=None, protocol=None), Severity.INFO),
        judged(c("ev-02", "2024-05-01T09:05:00", CI, Action.ADDED, "sg-web", ports=(443, 443), peer="0.0.0.0/0",
                 rule_id="sgr-web443"), Severity.MEDIUM, "INGRESS_WORLD_WEB_PORT",
               allowed_by="cidr 0.0.0.0/0 port 443: public site (web-team)"),
        judged(c("ev-03", "2024-05-02T10:00:00", ALICE, Action.ADDED, "sg-bastion", ports=(20, 25),
                 peer="0.0.0.0/0", rule_id="sgr-b1"), Severity.CRITICAL, "INGRESS_WORLD_ADMIN_PORT",
               "INGRESS_PORT_RANGE"),
        judged(c("ev-03", "2024-05-02T10:00:00", ALICE, Action.ADDED, "sg-bastion", ports=(22, 22), peer="::/0",
                 rule_id="sgr-b2", rule_index=1), Severity.CRITICAL, "INGRESS_WORLD_ADMIN_PORT"),
        judged(c("ev-05", "2024-05-03T12:00:00", BOB, Action.ADDED, "sg-db", protocol="-1", peer="10.0.0.0/8",
                 rule_id="sgr-db1"), Severity.MEDIUM, "INGRESS_ALL_TRAFFIC"),
        judged(c("ev-06", "2024-05-04T08:30:00", BOB, Action.ADDED, "sg-db", ports=(5432, 5432),
                 peer="203.0.113.0/24", rule_id="sgr-db2"), Severity.HIGH, "INGRESS_DATABASE_PORT_EXTERNAL"),
        judged(c("ev-07", "2024-05-05T15:00:00", ALICE, Action.MODIFIED, "sg-db",
                 event_name="ModifySecurityGroupRules", direction=None, ports=(5432, 5432),
                 peer="198.51.100.7/32", rule_id="sgr-db2"), Severity.MEDIUM, "RULE_MODIFIED"),
        judged(c("ev-08", "2024-05-06T11:00:00", SGWATCH, Action.REMOVED, "sg-bastion",
                 event_name="RevokeSecurityGroupIngress", ports=(20, 25), peer="0.0.0.0/0"), Severity.INFO),
        judged(c("ev-09", "2024-05-07T07:00:00", CI, Action.ADDED, "sg-web", event_name="AuthorizeSecurityGroupEgress",
                 direction=Direction.EGRESS, protocol="-1", peer="0.0.0.0/0", rule_id="sgr-webeg"), Severity.LOW),
        judged(c("ev-10", "2024-05-08T13:00:00", MALLORY, Action.ADDED, "sg-web", ports=(22, 22),
                 peer="0.0.0.0/0", outcome=Outcome.FAILURE, error_code="UnauthorizedOperation"), Severity.HIGH,
               "INGRESS_WORLD_ADMIN_PORT", "FAILED_ATTEMPT"),
        judged(c("ev-11", "2024-05-09T16:00:00", ALICE, Action.DESCRIPTION_CHANGED, "sg-web",
                 event_name="UpdateSecurityGroupRuleDescriptionsIngress", ports=(443, 443), peer="0.0.0.0/0",
                 description="public https"), Severity.INFO),
        judged(c("ev-12", "2024-05-10T10:00:00", CI, Action.ADDED, "sg-web", ports=(8080, 8080), peer="sg-lb",
                 rule_id="sgr-web8080"), Severity.LOW),
    ]  # fmt: skip
    return tuple(items)


def deliveries() -> tuple[Delivery, ...]:
    return (
        Delivery(channel="slack", alert_id=f"{ACCOUNT}:ev-03", status=DeliveryStatus.DELIVERED, attempts=1),
        Delivery(
            channel="pagerduty",
            alert_id=f"{ACCOUNT}:ev-03",
            status=DeliveryStatus.FAILED,
            attempts=3,
            detail="HTTP 400 invalid routing key",
        ),
        Delivery(channel="slack", alert_id=f"{ACCOUNT}:ev-06", status=DeliveryStatus.DELIVERED, attempts=2),
        Delivery(channel="email", alert_id=f"{ACCOUNT}:ev-13", status=DeliveryStatus.SKIPPED, detail="below threshold"),
    )


def remediations(items: tuple[Judgement, ...]) -> tuple[tuple[RuleChange, Remediation], ...]:
    """A dry-run plan for ev-06, and the bastion's 20-25 from the world reverted after one failure (ev-08)."""
    by_id = {(j.change.event_id, j.change.rule_index): j.change for j in items}
    db2, b1 = by_id[("ev-06", 0)], by_id[("ev-03", 0)]

    def plan(rule: RuleChange) -> RevokePlan:
        return RevokePlan(
            event_id=rule.event_id,
            rule_key=rule.rule_key,
            group_id=rule.group_id or "",
            direction=Direction.INGRESS,
            rule_id=rule.rule_id,
            reason="world-open admin port",
        )

    return (
        (db2, Remediation(plan=plan(db2), status=RemediationStatus.PLANNED, dry_run=True, detail="would revoke")),
        (b1, Remediation(plan=plan(b1), status=RemediationStatus.FAILED, dry_run=False, detail="throttled")),
        (b1, Remediation(plan=plan(b1), status=RemediationStatus.REVERTED, dry_run=False, detail="revoked sgr-b1")),
    )


def cloudtrail_record(event_name: str, event_id: str, when: str, *permissions: dict[str, Any]) -> dict[str, Any]:
    """One CloudTrail record of ``event_name`` on sg-1 at ``when`` (UTC), with ``ipPermissions`` spelled as given."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "arn": ALICE, "accountId": ACCOUNT},
        "eventTime": f"{when}Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": event_name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.200",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": list(permissions)}},
        "responseElements": {"_return": True},
        "eventID": event_id,
        "readOnly": False,
        "recipientAccountId": ACCOUNT,
    }


def from_cloudtrail(event_name: str, event_id: str, when: str, *permissions: dict[str, Any]) -> tuple[RuleChange, ...]:
    """The changes ``sgwatch.normalize`` makes of one record on sg-1, with ``ipPermissions`` spelled as given."""
    record = cloudtrail_record(event_name, event_id, when, *permissions)
    return normalize(decode_record(record, f"{event_id}.json"))


def permission(protocol: str | int, ports: tuple[Any, Any] | None, cidr: str) -> dict[str, Any]:
    """One ``ipPermissions`` item as CloudTrail records it (ports and protocol in any of AWS's spellings)."""
    item: dict[str, Any] = {"ipProtocol": protocol, "ipRanges": {"items": [{"cidrIp": cidr}]}}
    if ports is not None:
        item.update(fromPort=ports[0], toPort=ports[1])
    return item
