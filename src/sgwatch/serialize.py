"""Plain-JSON views of the model: one row per judged change (``scan --format jsonl``, history, webhooks)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sgwatch.model import Alert, Judgement, Remediation, RuleChange

ROW_KEYS: tuple[str, ...] = (
    "event_id",
    "event_name",
    "event_time",
    "account_id",
    "region",
    "actor",
    "actor_type",
    "source_ip",
    "user_agent",
    "outcome",
    "error_code",
    "group_id",
    "group_name",
    "direction",
    "action",
    "protocol",
    "from_port",
    "to_port",
    "peer",
    "peer_kind",
    "rule_id",
    "description",
    "target",
    "severity",
    "findings",
    "allowed_by",
)


def format_time(value: datetime) -> str:
    """ISO 8601 UTC with a ``Z`` suffix, seconds precision unless the record had more."""
    value = value.astimezone(UTC)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def change_row(change: RuleChange) -> dict[str, Any]:
    """The change's own fields (no verdict)."""
    return {
        "event_id": change.event_id,
        "event_name": change.event_name,
        "event_time": format_time(change.event_time),
        "account_id": change.account_id,
        "region": change.region,
        "actor": change.actor.arn,
        "actor_type": change.actor.type,
        "source_ip": change.source_ip,
        "user_agent": change.user_agent,
        "outcome": str(change.outcome),
        "error_code": change.error_code,
        "group_id": change.group_id,
        "group_name": change.group_name,
        "direction": None if change.direction is None else str(change.direction),
        "action": str(change.action),
        "protocol": change.protocol,  # always a string (``tcp``, ``-1``, ``47``): one JSON type per field
        "from_port": change.from_port,
        "to_port": change.to_port,
        "peer": change.peer,
        "peer_kind": None if change.peer_kind is None else str(change.peer_kind),
        "rule_id": change.rule_id,
        "description": change.description,
        "target": change.target,
    }


def judgement_row(judgement: Judgement) -> dict[str, Any]:
    """One ``scan --format jsonl`` row: the change plus severity, finding ids and any allowlist match."""
    row = change_row(judgement.change)
    row["severity"] = str(judgement.severity)
    row["findings"] = list(judgement.finding_ids)
    row["allowed_by"] = judgement.allowed_by
    return {key: row[key] for key in ROW_KEYS}


def remediation_json(remediation: Remediation) -> dict[str, Any]:
    plan = remediation.plan
    return {
        "status": str(remediation.status),
        "dry_run": remediation.dry_run,
        "detail": remediation.detail,
        "rule_key": plan.rule_key if plan else None,
        "rule_id": plan.rule_id if plan else None,
        "group_id": plan.group_id if plan else None,
    }


def alert_json(alert: Alert) -> dict[str, Any]:
    """The alert as one JSON document (webhook body, SNS message, audit)."""
    group = alert.group
    return {
        "alert_id": alert.alert_id,
        "title": alert.title,
        "severity": str(alert.severity),
        "event_id": alert.event_id,
        "event_name": alert.event_name,
        "event_time": format_time(alert.event_time),
        "account_id": alert.account_id,
        "region": alert.region,
        "actor": alert.actor.arn,
        "actor_type": alert.actor.type,
        "source_ip": alert.source_ip,
        "user_agent": alert.user_agent,
        "changes": [{**judgement_row(j), "finding_titles": [f.title for f in j.findings]} for j in alert.judgements],
        "group": None
        if group is None
        else {
            "group_id": group.group_id,
            "group_name": group.group_name,
            "vpc_id": group.vpc_id,
            "is_default": group.is_default,
            "owner": group.owner,
            "interface_count": group.interface_count,
            "instance_ids": list(group.instance_ids),
            "exposed_now": group.exposed_now,
        },
        "enrichment_error": alert.enrichment_error,
        "remediations": [remediation_json(r) for r in alert.remediations],
    }
