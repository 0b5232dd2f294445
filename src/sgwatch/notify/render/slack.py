"""Slack incoming-webhook message: Block Kit with a ``text`` fallback, within Slack's documented limits.

Every value that comes from the event is escaped (``&``, ``<``, ``>``) and mrkdwn objects are ``verbatim``,
so descriptions or session names cannot mention ``<!channel>``/``<@U…>`` or smuggle ``<url|label>`` links.
The message never names a ``channel``: the webhook decides where it goes.
"""

from __future__ import annotations

from typing import Any

from sgwatch.model import Alert
from sgwatch.notify.outcome import Digest
from sgwatch.notify.render import facts
from sgwatch.serialize import format_time

HEADER_MAX = 150
TEXT_MAX = 3000  # section text; also used for the fallback
FIELD_MAX = 2000
FIELDS_MAX = 10
BLOCKS_MAX = 50
CONTEXT_MAX = 10
# Not in the Block Kit reference, but reported for messages whose blocks hold more text than about 12,000
# characters in all (slackapi/bolt-js #2509, "msg_blocks_too_long"): stay under it rather than lose the alert.
TOTAL_TEXT_MAX = 11_000
MARKER = "… (truncated)"


def escape(text: str) -> str:
    """Slack's three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """Cut escaped mrkdwn to ``limit`` characters without splitting an entity or a ``<link|label>``."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(MARKER))]
    amp, semi = cut.rfind("&"), cut.rfind(";")
    if amp > semi:
        cut = cut[:amp]
    opened, closed = cut.rfind("<"), cut.rfind(">")
    if opened > closed:
        cut = cut[:opened]
    return cut + MARKER


def link(url: str, label: str) -> str:
    """A mrkdwn link to one of our own URLs (console); the label is escaped."""
    return f"<{url}|{escape(label)}>"


def _mrkdwn(text: str, limit: int = TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": fit(text, limit) or " ", "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": fit(text, HEADER_MAX), "emoji": False}}


def _group_field(alert: Alert) -> str:
    parts = []
    for group_id in facts.group_ids(alert):
        url = facts.console_url(alert.region, group_id)
        shown = link(url, group_id) if url else escape(group_id)
        name = facts.group_name(alert, group_id)
        parts.append(f"{shown} ({escape(name)})" if name else shown)
    return ", ".join(parts) or escape(facts.group_label(alert))


def _fields(alert: Alert) -> list[dict[str, Any]]:
    fields = []
    for label, value in facts.alert_facts(alert)[:FIELDS_MAX]:
        shown = _group_field(alert) if label == "Group" else escape(value)
        fields.append(_mrkdwn(f"*{label}*\n{shown}", FIELD_MAX))
    return fields


def _judgement_text(number: int, alert: Alert, index: int) -> str:
    judgement = alert.judgements[index]
    lines = [f"*{number}. {facts.severity_label(judgement.severity)}* {escape(facts.change_line(judgement.change))}"]
    lines += [f"_{label}:_ {escape(value)}" for label, value in facts.rule_details(judgement.change)]
    lines += [f"• {escape(line)}" for line in facts.finding_lines(judgement)]
    return "\n".join(lines)


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text)]}


def text_size(blocks: list[dict[str, Any]]) -> int:
    """Characters of text in ``blocks`` (headers, sections, their fields, context elements)."""
    size = 0
    for block in blocks:
        parts = [block.get("text"), *block.get("fields", ()), *block.get("elements", ())]
        size += sum(len(part.get("text", "")) for part in parts if isinstance(part, dict))
    return size


_MORE_ROOM = 100  # what the "… more not shown" section takes


def slack_alert(alert: Alert) -> dict[str, Any]:
    """The webhook body for one alert."""
    title = f"{facts.severity_label(alert.severity)}: {alert.title}"
    intro = (
        f"*{escape(alert.event_name)}* by {escape(facts.actor_text(alert.actor))} changed "
        f"{facts.rule_count_text(alert)} on {_group_field(alert)}"
    )
    head: list[dict[str, Any]] = [_header(escape(title)), {**_section(intro), "fields": _fields(alert)}]
    tail: list[dict[str, Any]] = []
    enrichment = facts.enrichment_lines(alert)
    if enrichment:
        tail.append(_section("*Group context*\n" + "\n".join(escape(line) for line in enrichment)))
    remediation = facts.remediation_lines(alert)
    if remediation:
        tail.append(_section("*Remediation*\n" + "\n".join(f"• {escape(line)}" for line in remediation)))
    links = facts.group_links(alert)
    if links:
        tail.append(_section(" · ".join(link(url, f"Open {gid} in the AWS console") for gid, url in links)))
    tail.append(_context(f"sgwatch · event {escape(alert.event_id)} · {escape(alert.alert_id)}"))
    room = BLOCKS_MAX - len(head) - len(tail)
    budget = TOTAL_TEXT_MAX - text_size(head + tail)
    count = len(alert.judgements)
    body: list[dict[str, Any]] = []
    for index in range(count):
        section = _section(_judgement_text(index + 1, alert, index))
        size = text_size([section])
        more = 0 if index == count - 1 else 1  # room for the "more not shown" section, unless this is the last
        if len(body) + 1 + more > room or size + more * _MORE_ROOM > budget:
            break
        body.append(section)
        budget -= size
    if len(body) < count:
        body.append(_section(f"_… {count - len(body)} more rule(s) not shown (truncated)_"))
    return {
        "text": fit(escape(facts.summary_line(alert)), TEXT_MAX),
        "blocks": head + body + tail,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def slack_digest(digest: Digest) -> dict[str, Any]:
    """One message standing for a burst of alerts."""
    alerts = sorted(digest.alerts, key=lambda a: (-a.severity, a.event_time))
    title = "Digest: " + facts.digest_title(alerts)
    window = f"{format_time(digest.first_time)} to {format_time(digest.last_time)}"
    head: list[dict[str, Any]] = [
        _header(escape(title)),
        _section(f"{len(alerts)} alerts arrived within the burst window ({window}); one line each below."),
    ]
    tail = [_context(f"sgwatch · {escape(digest.digest_id)}")]
    sections: list[dict[str, Any]] = []
    lines: list[str] = []
    size = 0
    room = BLOCKS_MAX - len(head) - len(tail) - 1
    budget = TOTAL_TEXT_MAX - text_size(head + tail) - _MORE_ROOM
    listed = 0
    for alert in alerts:
        groups = ", ".join(link(url, gid) for gid, url in facts.group_links(alert))
        line = fit(f"• {escape(facts.digest_line(alert))}" + (f" {groups}" if groups else ""), TEXT_MAX // 3)
        budget -= len(line) + 1
        if budget < 0:
            break
        if size + len(line) + 1 > TEXT_MAX:
            if len(sections) + 1 >= room:
                break
            sections.append(_section("\n".join(lines)))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
        listed += 1
    if lines:
        sections.append(_section("\n".join(lines)))
    if listed < len(alerts):
        sections.append(_section(f"_… {len(alerts) - listed} more alert(s) not shown (truncated)_"))
    return {
        "text": fit(escape(title), TEXT_MAX),
        "blocks": head + sections + tail,
        "unfurl_links": False,
        "unfurl_media": False,
    }
