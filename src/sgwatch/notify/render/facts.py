"""Plain-text pieces every format shares: what changed, who, where, enrichment, remediation, links.

Everything here returns unescaped text; each format escapes event-derived values its own way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sgwatch.model import (
    Action,
    Actor,
    Alert,
    Direction,
    Judgement,
    Remediation,
    RemediationStatus,
    RevokePlan,
    RuleChange,
    Severity,
)
from sgwatch.ruletext import GROUP_EVENTS, failure_text, format_ports, rule_text
from sgwatch.serialize import format_time

UNKNOWN = "unknown"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_GROUP_ID = re.compile(r"^sg-[0-9a-f]{1,32}$")
_VERBS = {
    Action.ADDED: "added",
    Action.REMOVED: "removed",
    Action.MODIFIED: "modified",
    Action.DESCRIPTION_CHANGED: "changed the description of",
    Action.CREATED: "created",
    Action.DELETED: "deleted",
    Action.ATTACHED: "attached",
}
# The peers of an EC2 IpPermission (a revert plan without a rule id): list key, the fields naming a peer.
_PERMISSION_PEERS = (
    ("IpRanges", ("CidrIp",)),
    ("Ipv6Ranges", ("CidrIpv6",)),
    ("PrefixListIds", ("PrefixListId",)),
    ("UserIdGroupPairs", ("GroupId", "GroupName")),
)


def severity_label(severity: Severity) -> str:
    return str(severity).upper()


def console_url(region: str | None, group_id: str | None) -> str | None:
    """The EC2 console page of a security group, when region and id are known."""
    if not region or not group_id or not _REGION.match(region) or not _GROUP_ID.match(group_id):
        return None
    return f"https://{region}.console.aws.amazon.com/ec2/home?region={region}#SecurityGroup:groupId={group_id}"


def group_ids(alert: Alert) -> tuple[str, ...]:
    """Distinct group ids of the alert, the enriched group first."""
    ids: list[str] = []
    candidates = [alert.group.group_id if alert.group else None] + [j.change.group_id for j in alert.judgements]
    for group_id in candidates:
        if group_id and group_id not in ids:
            ids.append(group_id)
    return tuple(ids)


def group_links(alert: Alert) -> tuple[tuple[str, str], ...]:
    """(group id, console URL) for every group the alert names."""
    out = []
    for group_id in group_ids(alert):
        url = console_url(alert.region, group_id)
        if url:
            out.append((group_id, url))
    return tuple(out)


def group_name(alert: Alert, group_id: str | None) -> str | None:
    if alert.group and alert.group.group_id == group_id and alert.group.group_name:
        return alert.group.group_name
    for judgement in alert.judgements:
        if judgement.change.group_id == group_id and judgement.change.group_name:
            return judgement.change.group_name
    return None


def group_label(alert: Alert) -> str:
    """``sg-0abc (web-frontend)``, several groups comma-separated, or ``unknown group``."""
    ids = group_ids(alert)
    if not ids:
        names = {j.change.group_name for j in alert.judgements if j.change.group_name}
        return ", ".join(sorted(names)) or "unknown group"
    labels = []
    for group_id in ids:
        name = group_name(alert, group_id)
        labels.append(f"{group_id} ({name})" if name else group_id)
    return ", ".join(labels)


def change_line(change: RuleChange) -> str:
    """One sentence in ``ruletext``'s wording: ``added ingress tcp/22 from 0.0.0.0/0 on sg-0abc``,
    ``created security group sg-0abc (web)``, ``attached security group sg-0abc to eni-0abc``, a failed call
    followed by ``(the call failed: UnauthorizedOperation)``."""
    verb = _VERBS.get(change.action, str(change.action))
    text = f"{verb} {rule_text(change)}"
    if change.action not in GROUP_EVENTS:
        text += f" on {change.group_id or change.group_name or 'a group'}"
    failure = failure_text(change)
    return f"{text} {failure}" if failure else text


def rule_details(change: RuleChange) -> tuple[tuple[str, str], ...]:
    """Label/value pairs below a change line."""
    pairs = []
    if change.rule_id:
        pairs.append(("Rule", change.rule_id))
    if change.description:
        pairs.append(("Description", change.description))
    if change.target and change.action is not Action.ATTACHED:
        pairs.append(("Target", change.target))
    if change.error_message:
        pairs.append(("Error", change.error_message))
    return tuple(pairs)


def finding_lines(judgement: Judgement) -> tuple[str, ...]:
    lines = [f"{f.finding_id} ({f.severity}): {f.reason}" for f in judgement.findings]
    if judgement.allowed_by:
        lines.append(f"allowed by {judgement.allowed_by}")
    return tuple(lines)


def actor_text(actor: Actor) -> str:
    return actor.arn or actor.user_name or actor.principal_id or UNKNOWN


def actor_type_text(actor: Actor) -> str:
    parts = [actor.type or UNKNOWN]
    if actor.invoked_by:
        parts.append(f"via {actor.invoked_by}")
    if actor.mfa_authenticated is not None:
        parts.append("MFA" if actor.mfa_authenticated else "no MFA")
    return ", ".join(parts)


def alert_facts(alert: Alert) -> tuple[tuple[str, str], ...]:
    """The label/value pairs shown for every alert (values unescaped)."""
    return (
        ("Account", alert.account_id or UNKNOWN),
        ("Region", alert.region or UNKNOWN),
        ("Group", group_label(alert)),
        ("Actor", actor_text(alert.actor)),
        ("Actor type", actor_type_text(alert.actor)),
        ("Source IP", alert.source_ip or UNKNOWN),
        ("User agent", alert.user_agent or UNKNOWN),
        ("Time", format_time(alert.event_time)),
        ("Event", f"{alert.event_name} {alert.event_id}"),
    )


def enrichment_lines(alert: Alert) -> tuple[str, ...]:
    """What enrichment learned, or why it could not."""
    lines: list[str] = []
    group = alert.group
    if group is not None:
        about = [f"{group.group_id}" + (f" ({group.group_name})" if group.group_name else "")]
        if group.vpc_id:
            about.append(f"in {group.vpc_id}")
        if group.is_default:
            about.append("(the VPC's default group)")
        lines.append(" ".join(about))
        if group.owner:
            lines.append(f"Owner: {group.owner}")
        if group.interface_count is not None:
            used = f"Used by {group.interface_count} network interface(s)"
            if group.instance_ids:
                shown = ", ".join(group.instance_ids[:5])
                more = f" and {len(group.instance_ids) - 5} more" if len(group.instance_ids) > 5 else ""
                used += f" on {shown}{more}"
            lines.append(used)
        if group.exposed_now is not None:
            lines.append(
                "Exposed now: an interface using it has a public IP"
                if group.exposed_now
                else "Exposed now: no interface using it has a public IP"
            )
    if alert.enrichment_error:
        lines.append(f"Enrichment failed: {alert.enrichment_error}")
    return tuple(lines)


def remediation_target(remediation: Remediation, changes: Sequence[RuleChange]) -> str:
    """The rule a remediation acted on, in ``ruletext``'s wording: ``ingress tcp/22 from 0.0.0.0/0 on sg-0abc``.

    From the alert's change the plan was made for (``changes``); from the plan itself when the alert does not
    carry that change (a channel that was sent only some of the rules); ``the change`` without a plan.
    """
    plan = remediation.plan
    if plan is None:
        return "the change"
    for change in changes:
        if (change.event_id, change.rule_key) == (plan.event_id, plan.rule_key):
            return f"{rule_text(change)} on {plan.group_id}"
    return f"{_plan_rule(plan)} on {plan.group_id}"


def _plan_rule(plan: RevokePlan) -> str:
    """``ingress rule sgr-0abc``, ``ingress tcp/22 from 0.0.0.0/0`` (the EC2 permission), ``ingress rule``."""
    if plan.rule_id or plan.ip_permission is None:
        return " ".join(filter(None, (str(plan.direction), "rule", plan.rule_id)))
    permission = plan.ip_permission
    protocol = permission.get("IpProtocol")
    ports = format_ports(
        None if protocol is None else str(protocol), permission.get("FromPort"), permission.get("ToPort")
    )
    peers = [
        str(peer)
        for key, fields in _PERMISSION_PEERS
        for entry in permission.get(key, ())
        if (peer := next((entry[name] for name in fields if entry.get(name)), None))
    ]
    words = [str(plan.direction), ports or "rule"]
    if peers:
        words.append(("to " if plan.direction is Direction.EGRESS else "from ") + ", ".join(peers))
    return " ".join(words)


def remediation_line(remediation: Remediation, changes: Sequence[RuleChange]) -> str:
    """``reverted ingress tcp/22 from 0.0.0.0/0 on sg-0abc: <what remediation recorded>``."""
    target = remediation_target(remediation, changes)
    status = remediation.status
    if status is RemediationStatus.PLANNED or remediation.dry_run:
        text = f"would revert {target} (dry run)"
    elif status is RemediationStatus.REVERTED:
        text = f"reverted {target}"
    elif status is RemediationStatus.RESTORED:
        text = f"restored {target} to its previous definition"
    elif status is RemediationStatus.ALREADY_REVERTED:
        text = f"{target} was already gone"
    elif status is RemediationStatus.SKIPPED:
        text = f"left {target} in place"
    else:
        text = f"FAILED to revert {target}"
    return f"{text}: {remediation.detail}" if remediation.detail else text


REMEDIATION_LINES_MAX = 10  # more outcomes than this read as one line per outcome, with how many rules had it
_OUTCOME_WORDS = {
    RemediationStatus.REVERTED: "reverted",
    RemediationStatus.RESTORED: "restored to their previous definition",
    RemediationStatus.ALREADY_REVERTED: "already gone",
    RemediationStatus.SKIPPED: "left in place",
}


def _outcome(remediation: Remediation) -> str:
    """What happened, without the rule: ``reverted: revoked``, ``FAILED to revert: <why>``."""
    if remediation.status is RemediationStatus.PLANNED or remediation.dry_run:
        words = "would be reverted (dry run)"
    else:
        words = _OUTCOME_WORDS.get(remediation.status, "FAILED to revert")
    return f"{words}: {remediation.detail}" if remediation.detail else words


def remediation_lines(alert: Alert) -> tuple[str, ...]:
    """One line per revert; for a call that changed many rules, one line per distinct outcome (``60 rules
    FAILED to revert: RevokeSecurityGroupIngress … refused: UnauthorizedOperation``), at most
    ``REMEDIATION_LINES_MAX``: a message must stay within what Teams, SNS and PagerDuty accept, and the
    rules themselves are listed above it (the webhook and SNS documents and the audit trail keep each one)."""
    changes = tuple(judgement.change for judgement in alert.judgements)
    if len(alert.remediations) <= REMEDIATION_LINES_MAX:
        return tuple(remediation_line(r, changes) for r in alert.remediations)
    counts: dict[str, int] = {}
    for remediation in alert.remediations:
        outcome = _outcome(remediation)
        counts[outcome] = counts.get(outcome, 0) + 1
    lines = [f"{n} rule{'s' if n != 1 else ''} {outcome}" for outcome, n in counts.items()]
    if len(lines) > REMEDIATION_LINES_MAX:
        rest = sum(list(counts.values())[REMEDIATION_LINES_MAX - 1 :])
        kept = lines[: REMEDIATION_LINES_MAX - 1]
        lines = [*kept, f"{rest} more rules with {len(lines) - len(kept)} other outcomes (listed in the audit trail)"]
    return tuple(lines)


def summary_line(alert: Alert) -> str:
    """One line for subjects, fallbacks and digests."""
    where = f"{alert.account_id or UNKNOWN}/{alert.region or UNKNOWN}"
    return (
        f"{severity_label(alert.severity)}: {alert.title} — {alert.event_name} on {group_label(alert)} "
        f"in {where} by {actor_text(alert.actor)}"
    )


def rule_count_text(alert: Alert) -> str:
    count = len(alert.judgements)
    return "1 rule" if count == 1 else f"{count} rules"


def digest_title(alerts: Sequence[Alert]) -> str:
    top = max((a.severity for a in alerts), default=Severity.INFO)
    return f"{len(alerts)} security group alerts (highest: {severity_label(top)})"


def digest_line(alert: Alert) -> str:
    return f"{format_time(alert.event_time)} {summary_line(alert)}"


def truncate_bytes(text: str, limit: int, marker: str = "… (truncated)") -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, visibly, never inside a character."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: max(0, limit - len(marker.encode()))].decode("utf-8", "ignore") + marker


def truncate(text: str, limit: int, marker: str = "… (truncated)") -> str:
    """``text`` cut to at most ``limit`` characters, visibly."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(marker))] + marker
