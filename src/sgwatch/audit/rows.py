"""Model <-> stored-row conversions (pure): the inverse of ``serialize.change_row`` lives here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sgwatch.model import (
    Action,
    Actor,
    Delivery,
    Direction,
    Finding,
    Judgement,
    Outcome,
    PeerKind,
    RemediationStatus,
    RevokePlan,
    RuleChange,
    Severity,
)
from sgwatch.serialize import judgement_row


def store_time(value: datetime) -> str:
    """Fixed-width ISO 8601 UTC text (``2024-05-01T10:00:00.000000Z``): sorts as it compares."""
    if value.tzinfo is None:
        raise ValueError(f"timezone-aware datetime required, got naive {value.isoformat()}")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stored_time(text: str) -> datetime:
    """Inverse of :func:`store_time` (any ISO 8601 text with an offset or ``Z``)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"stored time {text!r} has no timezone")
    return value.astimezone(UTC)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def change_from_row(row: Mapping[str, Any]) -> RuleChange:
    """Rebuild a RuleChange from a ``serialize.change_row`` dict (extra stored columns are used when present).

    The actor comes back with ``arn`` and ``type`` only: that is all a row keeps.
    """
    direction = row.get("direction")
    peer_kind = row.get("peer_kind")
    return RuleChange(
        event_id=str(row["event_id"]),
        event_name=str(row["event_name"]),
        event_time=parse_stored_time(str(row["event_time"])),
        account_id=_str_or_none(row.get("account_id")),
        region=_str_or_none(row.get("region")),
        actor=Actor(arn=_str_or_none(row.get("actor")), type=_str_or_none(row.get("actor_type"))),
        source_ip=_str_or_none(row.get("source_ip")),
        user_agent=_str_or_none(row.get("user_agent")),
        outcome=Outcome(row["outcome"]),
        error_code=_str_or_none(row.get("error_code")),
        error_message=_str_or_none(row.get("error_message")),
        action=Action(row["action"]),
        group_id=_str_or_none(row.get("group_id")),
        group_name=_str_or_none(row.get("group_name")),
        vpc_id=_str_or_none(row.get("vpc_id")),
        direction=None if direction is None else Direction(direction),
        protocol=_str_or_none(row.get("protocol")),
        from_port=_int_or_none(row.get("from_port")),
        to_port=_int_or_none(row.get("to_port")),
        peer=_str_or_none(row.get("peer")),
        peer_kind=None if peer_kind is None else PeerKind(peer_kind),
        peer_account_id=_str_or_none(row.get("peer_account_id")),
        rule_id=_str_or_none(row.get("rule_id")),
        description=_str_or_none(row.get("description")),
        target=_str_or_none(row.get("target")),
        rule_index=int(row.get("rule_index") or 0),
        origin=str(row.get("origin") or ""),
    )


def judgement_from_row(row: Mapping[str, Any], findings: tuple[Finding, ...]) -> Judgement:
    """Rebuild a Judgement from its ``changes`` row and its ``findings`` rows."""
    return Judgement(
        change=change_from_row(row),
        findings=findings,
        severity=Severity.parse(str(row["severity"])),
        allowed_by=_str_or_none(row.get("allowed_by")),
        suppressed=bool(row.get("suppressed") or False),
    )


def row_line(row: Mapping[str, Any]) -> str:
    """A ``judgement_row`` as one JSON line (no newline): what ``scan --format jsonl`` prints.

    The store keeps this very text as ``row_json``, so ``history`` can print a change as it was judged.
    """
    return json.dumps(row, ensure_ascii=False)


def change_columns(judgement: Judgement, recorded_at: datetime) -> dict[str, Any]:
    """Column values of one ``changes`` row."""
    change = judgement.change
    row = judgement_row(judgement)
    columns: dict[str, Any] = dict(row)
    columns.update(
        event_time=store_time(change.event_time),
        protocol=change.protocol,
        findings=json.dumps(row["findings"]),
        rule_key=change.rule_key,
        severity_rank=int(judgement.severity),
        error_message=change.error_message,
        vpc_id=change.vpc_id,
        peer_account_id=change.peer_account_id,
        rule_index=change.rule_index,
        suppressed=int(judgement.suppressed),
        row_json=row_line(row),
        recorded_at=store_time(recorded_at),
        origin=change.origin,
    )
    return columns


def finding_from_row(row: Mapping[str, Any]) -> Finding:
    return Finding(
        finding_id=str(row["finding_id"]),
        title=str(row["title"]),
        severity=Severity.parse(str(row["severity"])),
        reason=str(row["reason"]),
    )


def plan_json(plan: RevokePlan | None) -> str | None:
    """The revoke plan as JSON text (mappings kept as given)."""
    if plan is None:
        return None
    doc = {
        "event_id": plan.event_id,
        "rule_key": plan.rule_key,
        "group_id": plan.group_id,
        "direction": str(plan.direction),
        "rule_id": plan.rule_id,
        "ip_permission": None if plan.ip_permission is None else dict(plan.ip_permission),
        "restore_to": None if plan.restore_to is None else dict(plan.restore_to),
        "reason": plan.reason,
    }
    return json.dumps(doc, sort_keys=True, default=str)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedChange:
    """A judged change as recorded: rebuilt from its columns, with the JSON line recorded with it."""

    judgement: Judgement  # what filters, group state, tables and the report work on
    row_json: str  # the ``scan --format jsonl`` line as it was judged, kept verbatim


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedDelivery:
    """A delivery outcome as recorded, with the time it was recorded."""

    delivery: Delivery
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRemediation:
    """A remediation outcome as recorded for one change."""

    event_id: str
    rule_key: str
    group_id: str | None
    status: RemediationStatus
    dry_run: bool
    detail: str
    plan: Mapping[str, Any] | None
    at: datetime
