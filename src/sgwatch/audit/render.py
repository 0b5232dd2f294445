"""Render :class:`ReportData` as one self-contained HTML page (pure string building, escaped)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from importlib import resources

from sgwatch import __version__
from sgwatch.audit.chart import bucket_days, bucket_unit, buckets, legend_html, timeline_svg
from sgwatch.audit.describe import UNKNOWN_ACTOR, actor_name
from sgwatch.audit.report import ReportData, top_actors
from sgwatch.model import Action, Delivery, DeliveryStatus, Judgement, Outcome, RemediationStatus, Severity
from sgwatch.ruletext import rule_text

_OK = {"reverted", "restored", "already_reverted", "delivered", "in_digest"}
IN_DIGEST = "in_digest"  # an alert delivered inside a digest message (recorded as skipped, "folded into digest:…")
_BAD = {"failed", "retryable"}


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _breakable(text: str) -> str:
    """Escaped text with optional line breaks before capitals and after underscores (long API names, ids)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=_)", "<wbr>", _e(text))


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _resource(name: str) -> str:
    return resources.files("sgwatch").joinpath("data", name).read_text(encoding="utf-8")


def _attrs(attrs: Mapping[str, object]) -> str:
    return "".join(f' {name}="{_e(value)}"' for name, value in attrs.items())


def _table(table_id: str, headers: Sequence[tuple[str, str]], rows: Sequence[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty-note" id="{table_id}-empty">{_e(empty)}</p>'
    head = "".join(f'<th scope="col" class="{cls}">{_e(label)}</th>' for label, cls in headers)
    return (
        f'<div class="table-wrap"><table id="{table_id}" data-rows="{len(rows)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _row(attrs: Mapping[str, object], cells: Iterable[tuple[str, str]]) -> str:
    body = "".join(f'<td class="{cls}">{html}</td>' if cls else f"<td>{html}</td>" for html, cls in cells)
    return f"<tr{_attrs(attrs)}>{body}</tr>"


def _badge(text: str, cls: str) -> str:
    return f'<span class="badge {cls}">{_e(text)}</span>'


def _status_badge(status: str) -> str:
    cls = "ok" if status in _OK else "bad" if status in _BAD else "neutral"
    return _badge(status.replace("_", " "), cls)


def _card(card_id: str, count: int, label: str, cls: str = "") -> str:
    return (
        f'<div class="card {cls}"><span class="num" id="{card_id}" data-count="{count}">{count}</span>'
        f'<span class="label">{_e(label)}</span></div>'
    )


def _counts(prefix: str, counts: Mapping[str, int]) -> str:
    items = "".join(
        f'<li id="{prefix}-{_e(name)}" data-count="{n}">{_e(name.replace("_", " "))}: <b>{n}</b></li>'
        for name, n in counts.items()
    )
    return f'<ul class="counts">{items}</ul>'


def _alarm(count: int) -> str:
    return "alarm" if count else ""


def _summary(data: ReportData) -> str:
    by_severity = Counter(j.severity for j in data.changes)
    failed_deliveries = sum(1 for d in data.deliveries if d.delivery.status == DeliveryStatus.FAILED)
    failed_remediations = sum(1 for r in data.remediations if r.status == RemediationStatus.FAILED)
    cards = [_card("count-changes", len(data.changes), "changes")]
    cards += [_card(f"count-{s}", by_severity[s], str(s), f"sev-{s}") for s in reversed(Severity)]
    actors = {j.change.actor.arn or UNKNOWN_ACTOR for j in data.changes}
    groups = {j.change.group_id for j in data.changes if j.change.group_id}
    cards += [
        _card("count-actors", len(actors), "actors"),
        _card("count-groups", len(groups), "groups changed"),
        _card("count-exposed-groups", len(data.exposed), "exposed groups", _alarm(len(data.exposed))),
        _card("count-remediations", len(data.remediations), "remediations"),
        _card("count-remediations-failed", failed_remediations, "remediations failed", _alarm(failed_remediations)),
        _card("count-deliveries", len(data.deliveries), "notifications"),
        _card("count-deliveries-failed", failed_deliveries, "notifications failed", _alarm(failed_deliveries)),
    ]
    return "".join(cards)


def _actors(data: ReportData) -> str:
    rows = [
        _row(
            {"data-actor": a.actor, "data-count": a.changes},
            [
                (_e(a.actor), "wrap mono"),
                (str(a.changes), "num"),
                (str(a.high_or_worse), "num"),
                (str(a.world_opened), "num"),
                (_badge(str(a.highest), f"sev-{a.highest}"), ""),
                (_e(_time(a.last_seen)), "time"),
            ],
        )
        for a in top_actors(data.changes, world=data.world)
    ]
    headers = [("Actor", ""), ("Changes", "num"), ("High or critical", "num"), ("World-open rules", "num"),
               ("Highest", ""), ("Last change (UTC)", "")]  # fmt: skip
    return _table("actors-table", headers, rows, "No changes in this period.")


def _group_cell(group_id: str | None, group_name: str | None) -> str:
    name = f'<br><span class="note">{_e(group_name)}</span>' if group_name else ""
    return f'<span class="mono nowrap">{_e(group_id or "-")}</span>{name}'


def _exposed(data: ReportData) -> str:
    rows = [
        _row(
            {"data-group-id": group.group_id, "data-rule-key": j.change.rule_key},
            [
                (_group_cell(group.group_id, group.group_name), "wrap"),
                (_e(rule_text(j.change)), "rule"),
                (f'<span title="{_e(j.change.actor.arn)}">{_e(actor_name(j.change.actor.arn))}</span>', "wrap"),
                (_e(_time(j.change.event_time)), "time"),
                (_badge(str(j.severity), f"sev-{j.severity}"), ""),
            ],
        )
        for group in data.exposed
        for j in group.rules
    ]
    headers = [("Group", ""), ("World-open rule", ""), ("Defined by", ""), ("Since (UTC)", ""), ("Severity", "")]
    rules = sum(len(g.rules) for g in data.exposed)
    lead = f'<p><span id="count-exposed-rules" data-count="{rules}">{rules}</span> world-open ingress rule(s).</p>'
    return lead + _table("exposed-table", headers, rows, "No group is open to the world.")


def _remediations(data: ReportData) -> str:
    counts = Counter(str(r.status) for r in data.remediations)
    summary = _counts("count-remediation", {str(s): counts[str(s)] for s in RemediationStatus})
    rows = [
        _row(
            {"data-event-id": r.event_id, "data-status": r.status, "data-dry-run": str(r.dry_run).lower()},
            [
                (_e(_time(r.at)), "time"),
                (_group_cell(r.group_id, None), ""),
                (f'<span class="mono">{_e(r.rule_key)}</span><br><span class="note mono">{_e(r.event_id)}</span>',
                 "wrap"),
                (_status_badge(str(r.status)), ""),
                ("dry run" if r.dry_run else "executed", ""),
                (_e(r.detail), "wrap"),
            ],
        )
        for r in data.remediations
    ]  # fmt: skip
    headers = [("Time (UTC)", ""), ("Group", ""), ("Rule / event", ""), ("Status", ""), ("Mode", ""),
               ("Detail", "")]  # fmt: skip
    return summary + _table("remediations-table", headers, rows, "No remediation in this period.")


def _shown_status(delivery: Delivery) -> str:
    """The delivery's status, except that an alert sent inside a digest message reads as ``in digest``."""
    if delivery.status is DeliveryStatus.SKIPPED and delivery.folded:
        return IN_DIGEST
    return str(delivery.status)


def _deliveries(data: ReportData) -> str:
    counts = Counter(_shown_status(d.delivery) for d in data.deliveries)
    names = [
        str(DeliveryStatus.DELIVERED),
        IN_DIGEST,
        *(str(s) for s in DeliveryStatus if s != DeliveryStatus.DELIVERED),
    ]
    summary = _counts("count-delivery", {name: counts[name] for name in names})
    rows = [
        _row(
            {
                "data-channel": d.delivery.channel,
                "data-alert-id": d.delivery.alert_id,
                "data-status": _shown_status(d.delivery),
            },
            [
                (_e(_time(d.at)), "time"),
                (_e(d.delivery.channel), ""),
                (f'<span class="mono">{_e(d.delivery.alert_id)}</span>', "wrap"),
                (_status_badge(_shown_status(d.delivery)), ""),
                (str(d.delivery.attempts), "num"),
                (_e(d.delivery.detail), "wrap"),
            ],
        )
        for d in data.deliveries
    ]  # fmt: skip
    headers = [("Time (UTC)", ""), ("Channel", ""), ("Alert", ""), ("Status", ""), ("Attempts", "num"),
               ("Detail", "")]  # fmt: skip
    return summary + _table("deliveries-table", headers, rows, "No notification in this period.")


def _change_cell(data: ReportData, j: Judgement) -> str:
    change = j.change
    parts = [f"<b>{_e(str(change.action).replace('_', ' '))}</b> "]
    before = data.before.get(change.dedup_key)
    if change.action == Action.DESCRIPTION_CHANGED:
        parts.append(_e(rule_text(change)))
        was = f" (was “{_e(before.description)}”)" if before is not None and before.description else ""
        parts.append(f'<div class="note">“{_e(change.description or "")}”{was}</div>')
        return "".join(parts)
    if before is not None:
        parts.append(f'<div class="before">{_e(rule_text(before))}</div>')
        if change.direction is None:
            change = replace(change, direction=before.direction)
    parts.append(_e(rule_text(change)))
    if change.description:
        parts.append(f'<div class="note">“{_e(change.description)}”</div>')
    return "".join(parts)


def _findings_cell(j: Judgement) -> str:
    parts = [f'<div class="mono" title="{_e(f.reason)}">{_breakable(f.finding_id)}</div>' for f in j.findings]
    if j.allowed_by:
        parts.append(f'<div class="note">allowed: {_e(j.allowed_by)}</div>')
    if j.suppressed:
        parts.append('<div class="note">suppressed</div>')
    return "".join(parts) or '<span class="note">-</span>'


def _changes(data: ReportData) -> str:
    rows = []
    for j in reversed(data.changes):
        change = j.change
        outcome = (
            _badge("success", "ok")
            if change.outcome == Outcome.SUCCESS
            else _badge(change.error_code or "failed", "bad")
        )
        rows.append(
            _row(
                {"data-event-id": change.event_id, "data-rule-key": change.rule_key, "data-severity": j.severity,
                 "data-action": change.action},
                [
                    (_e(_time(change.event_time)), "time"),
                    (_badge(str(j.severity), f"sev-{j.severity}"), ""),
                    (f'<span title="{_e(change.actor.arn)}">{_e(actor_name(change.actor.arn))}</span>', "wrap"),
                    (f'{_breakable(change.event_name)}<br><span class="note mono">{_e(change.event_id)}</span>', "wrap"),
                    (_group_cell(change.group_id, change.group_name), ""),
                    (_change_cell(data, j), "rule"),
                    (_findings_cell(j), ""),
                    (outcome, ""),
                ],
            )
        )  # fmt: skip
    headers = [("Time (UTC)", ""), ("Severity", ""), ("Actor", ""), ("Event", ""), ("Group", ""),
               ("Change", ""), ("Findings", ""), ("Outcome", "")]  # fmt: skip
    return _table("changes-table", headers, rows, "No changes in this period.")


def render_report(data: ReportData) -> str:
    """The whole report: inline CSS and SVG, no scripts, nothing loaded at view time."""
    step = bucket_days(data.since, data.until)
    series = buckets(((j.change.event_time, j.severity) for j in data.changes), data.since, data.until)
    days = (data.until - data.since).total_seconds() / 86400
    period = f"{_time(data.since)[:16]} – {_time(data.until)[:16]} UTC ({round(days, 1):g} days)"
    return string.Template(_resource("report.html")).substitute(
        version=_e(__version__),
        title=_e(f"sgwatch audit report {_time(data.since)[:10]} – {_time(data.until)[:10]}"),
        css=_resource("report.css"),
        period=_e(period),
        meta=_e(f"Generated {_time(data.generated_at)} UTC from {data.database}. All times are UTC."),
        summary=_summary(data),
        timeline_note=_e(f"Changes per {bucket_unit(step)}, stacked by severity."),
        timeline=timeline_svg(series, step),
        legend=legend_html(),
        actors=_actors(data),
        exposed_note=_e(
            f"Reconstructed from every recorded change up to {_time(data.until)} UTC: ingress rules from public "
            f"IPv4 ranges of /{data.world[0]} or wider, or public IPv6 ranges of /{data.world[1]} or wider."
        ),
        exposed=_exposed(data),
        remediations=_remediations(data),
        deliveries=_deliveries(data),
        changes=_changes(data),
        footer=_e(
            f"sgwatch {__version__} · newest change first · this file is self-contained and loads nothing "
            "from the network."
        ),
    )
