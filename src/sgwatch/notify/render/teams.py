"""Microsoft Teams (Workflows webhook) message: one Adaptive Card, kept under 28 KB.

Adaptive Card text is Markdown; event-derived values have ``&``, ``<``, ``>`` written as entities (no
``<at>`` mentions, no HTML) and ``[``/``]`` backslash-escaped (no ``[label](url)`` links).
"""

from __future__ import annotations

import json
from typing import Any

from sgwatch.model import Alert, Severity
from sgwatch.notify.outcome import Digest
from sgwatch.notify.render import facts
from sgwatch.serialize import format_time

CARD_MAX_BYTES = 28 * 1024 - 512  # Teams rejects messages of 28 KB or more; keep some room
CARD_VERSION = "1.4"
TEXT_MAX = 2000
_COLORS = {Severity.CRITICAL: "Attention", Severity.HIGH: "Attention", Severity.MEDIUM: "Warning"}


def escape(text: str) -> str:
    """Neutralize mentions, HTML and Markdown links in a value that came from the event."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("[", "\\[").replace("]", "\\]")


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": facts.truncate(text, TEXT_MAX), "wrap": True, **style}


def _message(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def card_size(message: dict[str, Any]) -> int:
    """Bytes on the wire, as sent."""
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode())


def _judgement_container(alert: Alert, index: int) -> dict[str, Any]:
    judgement = alert.judgements[index]
    items = [
        _text(
            f"**{index + 1}. {facts.severity_label(judgement.severity)}** {escape(facts.change_line(judgement.change))}"
        ),
    ]
    details = [{"title": label, "value": escape(value)} for label, value in facts.rule_details(judgement.change)]
    if details:
        items.append({"type": "FactSet", "facts": details})
    items += [_text(f"- {escape(line)}", spacing="None") for line in facts.finding_lines(judgement)]
    return {"type": "Container", "separator": True, "items": items}


def _fit(
    head: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    tail: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    what: str,
) -> dict[str, Any]:
    """Drop rows from the end until the message fits, saying how many were left out."""
    shown = len(rows)
    while True:
        note = [] if shown == len(rows) else [_text(f"_… {len(rows) - shown} more {what} not shown (truncated)_")]
        message = _message(head + rows[:shown] + note + tail, actions)
        if card_size(message) <= CARD_MAX_BYTES or shown == 0:
            return message
        shown = max(0, shown - max(1, (shown + 9) // 10))


def teams_alert(alert: Alert) -> dict[str, Any]:
    title = f"{facts.severity_label(alert.severity)}: {alert.title}"
    head: list[dict[str, Any]] = [
        _text(escape(title), size="Large", weight="Bolder", color=_COLORS.get(alert.severity, "Default")),
        _text(
            f"**{escape(alert.event_name)}** by {escape(facts.actor_text(alert.actor))} changed "
            f"{facts.rule_count_text(alert)} on {escape(facts.group_label(alert))}"
        ),
        {"type": "FactSet", "facts": [{"title": k, "value": escape(v)} for k, v in facts.alert_facts(alert)]},
    ]
    rows = [_judgement_container(alert, i) for i in range(len(alert.judgements))]
    tail: list[dict[str, Any]] = []
    enrichment = facts.enrichment_lines(alert)
    if enrichment:
        tail.append(_text("**Group context**", separator=True))
        tail += [_text(escape(line), spacing="None") for line in enrichment]
    remediation = facts.remediation_lines(alert)
    if remediation:
        tail.append(_text("**Remediation**", separator=True))
        tail += [_text(f"- {escape(line)}", spacing="None") for line in remediation]
    tail.append(_text(f"sgwatch · {escape(alert.alert_id)}", isSubtle=True, size="Small"))
    actions = [
        {"type": "Action.OpenUrl", "title": f"Open {gid} in the AWS console", "url": url}
        for gid, url in facts.group_links(alert)
    ]
    return _fit(head, rows, tail, actions, "rule(s)")


def teams_digest(digest: Digest) -> dict[str, Any]:
    alerts = sorted(digest.alerts, key=lambda a: (-a.severity, a.event_time))
    window = f"{format_time(digest.first_time)} to {format_time(digest.last_time)}"
    head = [
        _text(
            "Digest: " + escape(facts.digest_title(alerts)),
            size="Large",
            weight="Bolder",
            color=_COLORS.get(digest.severity, "Default"),
        ),
        _text(f"{len(alerts)} alerts arrived within the burst window ({window})."),
    ]
    rows = [_text(f"- {escape(facts.digest_line(alert))}", spacing="None") for alert in alerts]
    tail = [_text(f"sgwatch · {escape(digest.digest_id)}", isSubtle=True, size="Small")]
    return _fit(head, rows, tail, [], "alert(s)")
