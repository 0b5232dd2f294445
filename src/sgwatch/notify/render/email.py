"""Email bodies: subject, plain text and HTML (every value HTML-escaped)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from sgwatch.model import Alert
from sgwatch.notify.outcome import Digest
from sgwatch.notify.render import facts
from sgwatch.notify.render.text import subject_alert, subject_digest, text_alert, text_digest
from sgwatch.serialize import format_time

_COLORS = {"CRITICAL": "#b00020", "HIGH": "#d9480f", "MEDIUM": "#b08800", "LOW": "#1c7ed6", "INFO": "#495057"}
_STYLE = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#212529"


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailBody:
    subject: str
    text: str
    html: str


def _page(title: str, color: str, parts: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>' + escape(title) + "</title></head>\n"
        f'<body style="{_STYLE}">\n'
        f'<h2 style="color:{color};margin:0 0 12px">{escape(title)}</h2>\n' + "\n".join(parts) + "\n</body></html>\n"
    )


def _table(pairs: tuple[tuple[str, str], ...]) -> str:
    rows = "".join(
        f'<tr><th style="text-align:left;padding:2px 12px 2px 0">{escape(k)}</th><td>{escape(v)}</td></tr>'
        for k, v in pairs
    )
    return f'<table style="border-collapse:collapse">{rows}</table>'


def _items(lines: tuple[str, ...] | list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def email_alert(alert: Alert, prefix: str = "[sgwatch]") -> EmailBody:
    label = facts.severity_label(alert.severity)
    title = f"{label}: {alert.title}"
    parts = [_table(facts.alert_facts(alert)), f"<h3>Changes ({escape(facts.rule_count_text(alert))})</h3>", "<ol>"]
    for judgement in alert.judgements:
        inner = [
            f"<b>{escape(facts.severity_label(judgement.severity))}</b> {escape(facts.change_line(judgement.change))}"
        ]
        details = facts.rule_details(judgement.change)
        if details:
            inner.append(_table(details))
        findings = facts.finding_lines(judgement)
        if findings:
            inner.append(_items(findings))
        parts.append("<li>" + "".join(inner) + "</li>")
    parts.append("</ol>")
    enrichment = facts.enrichment_lines(alert)
    if enrichment:
        parts += ["<h3>Group context</h3>", _items(enrichment)]
    remediation = facts.remediation_lines(alert)
    if remediation:
        parts += ["<h3>Remediation</h3>", _items(remediation)]
    for gid, url in facts.group_links(alert):
        parts.append(f'<p><a href="{escape(url)}">Open {escape(gid)} in the AWS console</a></p>')
    parts.append(f'<p style="color:#868e96;font-size:12px">sgwatch · {escape(alert.alert_id)}</p>')
    return EmailBody(
        subject=subject_alert(alert, prefix), text=text_alert(alert), html=_page(title, _COLORS[label], parts)
    )


def email_digest(digest: Digest, prefix: str = "[sgwatch]") -> EmailBody:
    alerts = sorted(digest.alerts, key=lambda a: (-a.severity, a.event_time))
    title = "Digest: " + facts.digest_title(alerts)
    window = f"{format_time(digest.first_time)} to {format_time(digest.last_time)}"
    rows = []
    for alert in alerts:
        links = " ".join(f'<a href="{escape(url)}">{escape(gid)}</a>' for gid, url in facts.group_links(alert))
        rows.append(f"<li>{escape(facts.digest_line(alert))} {links}</li>")
    parts = [
        f"<p>{len(alerts)} alerts arrived within the burst window ({escape(window)}).</p>",
        "<ul>" + "".join(rows) + "</ul>",
        f'<p style="color:#868e96;font-size:12px">sgwatch · {escape(digest.digest_id)}</p>',
    ]
    return EmailBody(
        subject=subject_digest(digest, prefix),
        text=text_digest(digest),
        html=_page(title, _COLORS[facts.severity_label(digest.severity)], parts),
    )
