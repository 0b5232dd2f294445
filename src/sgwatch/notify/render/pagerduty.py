"""PagerDuty Events API v2 ``trigger`` event: one incident per (account, event, rules), deduplicated by PagerDuty."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sgwatch.model import Alert, Severity
from sgwatch.notify.outcome import Digest
from sgwatch.notify.render import facts
from sgwatch.serialize import format_time

SUMMARY_MAX = 1024
DEDUP_MAX = 255
BODY_MAX = 512 * 1024 - 4096  # the Events API refuses a bigger request body; room for the HTTP client's encoding
SEVERITY = {
    Severity.CRITICAL: "critical",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "info",
    Severity.INFO: "info",
}
_PLAIN = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")


def dedup_key(alert: Alert) -> str:
    """``sgwatch:<account>:<event id>:<rule>``: the rule id when the alert has one rule, else a hash of all."""
    keys = sorted({j.change.rule_key for j in alert.judgements})
    if len(keys) == 1 and _PLAIN.match(keys[0]):
        rule = keys[0]
    else:
        rule = "h" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:24]
    key = f"sgwatch:{alert.account_id or 'unknown'}:{alert.event_id}:{rule}"
    if len(key) > DEDUP_MAX:
        key = "sgwatch:h" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _event(
    routing_key: str,
    dedup: str,
    summary: str,
    severity: Severity,
    *,
    source: str,
    timestamp: str,
    component: str | None,
    group: str | None,
    klass: str,
    details: dict[str, Any],
    links: list[dict[str, str]],
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "summary": facts.truncate(summary, SUMMARY_MAX, "…"),
        "source": source,
        "severity": SEVERITY[severity],
        "timestamp": timestamp,
        "class": klass,
        "custom_details": details,
    }
    if component:
        payload["component"] = component
    if group:
        payload["group"] = group
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": payload,
        "client": "sgwatch",
    }
    if links:
        event["links"] = links
    return event


def pagerduty_alert(alert: Alert, routing_key: str) -> dict[str, Any]:
    """The enqueue body for one alert."""
    details: dict[str, Any] = dict(facts.alert_facts(alert))
    details["Changes"] = [
        " | ".join(
            [
                f"{facts.severity_label(j.severity)} {facts.change_line(j.change)}",
                *(f"{k}: {v}" for k, v in facts.rule_details(j.change)),
                *facts.finding_lines(j),
            ]
        )
        for j in alert.judgements
    ]
    details["Findings"] = sorted({fid for j in alert.judgements for fid in j.finding_ids})
    enrichment = facts.enrichment_lines(alert)
    if enrichment:
        details["Group context"] = list(enrichment)
    remediation = facts.remediation_lines(alert)
    if remediation:
        details["Remediation"] = list(remediation)
    ids = facts.group_ids(alert)
    changes = details["Changes"]
    shown = len(changes)
    while True:  # the Events API refuses a body over 512 KB: list fewer changes (saying so) until it fits
        if shown < len(changes):
            details["Changes"] = [*changes[:shown], f"… {len(changes) - shown} more changes not listed"]
        event = _event(
            routing_key,
            dedup_key(alert),
            facts.summary_line(alert),
            alert.severity,
            source=f"aws:{alert.account_id or 'unknown'}:{alert.region or 'unknown'}",
            timestamp=format_time(alert.event_time),
            component=ids[0] if ids else None,
            group=alert.account_id,
            klass=alert.event_name,
            details=details,
            links=[
                {"href": url, "text": f"Security group {gid} in the AWS console"}
                for gid, url in facts.group_links(alert)
            ],
        )
        if shown == 0 or len(json.dumps(event, ensure_ascii=False).encode()) <= BODY_MAX:
            return event
        shown = shown * 3 // 4


def pagerduty_digest(digest: Digest, routing_key: str) -> dict[str, Any]:
    alerts = sorted(digest.alerts, key=lambda a: (-a.severity, a.event_time))
    accounts = sorted({a.account_id or "unknown" for a in alerts})
    return _event(
        routing_key,
        f"sgwatch:{digest.digest_id}",
        "sgwatch digest: " + facts.digest_title(alerts),
        digest.severity,
        source="sgwatch",
        timestamp=format_time(digest.last_time),
        component=None,
        group=accounts[0] if len(accounts) == 1 else None,
        klass="digest",
        details={
            "Window": f"{format_time(digest.first_time)} to {format_time(digest.last_time)}",
            "Alerts": [facts.digest_line(a) for a in alerts[:200]],
            "Not listed": max(0, len(alerts) - 200),
        },
        links=[],
    )
