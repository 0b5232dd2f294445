"""Plain text: the console channel, the text part of emails, SNS email subscribers."""

from __future__ import annotations

from sgwatch.model import Alert
from sgwatch.notify.outcome import Digest
from sgwatch.notify.render import facts
from sgwatch.serialize import format_time

SUBJECT_MAX = 180


def one_line(text: str) -> str:
    """Collapse control characters (header injection, log forging) to spaces."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def text_alert(alert: Alert) -> str:
    lines = [f"{facts.severity_label(alert.severity)}: {alert.title}", ""]
    width = max(len(label) for label, _ in facts.alert_facts(alert))
    lines += [f"{label + ':':<{width + 1}} {one_line(value)}" for label, value in facts.alert_facts(alert)]
    lines += ["", f"Changes ({facts.rule_count_text(alert)}):"]
    for number, judgement in enumerate(alert.judgements, 1):
        lines.append(
            f"  {number}. [{facts.severity_label(judgement.severity)}] {one_line(facts.change_line(judgement.change))}"
        )
        lines += [f"     {label}: {one_line(value)}" for label, value in facts.rule_details(judgement.change)]
        lines += [f"     - {one_line(line)}" for line in facts.finding_lines(judgement)]
    enrichment = facts.enrichment_lines(alert)
    if enrichment:
        lines += ["", "Group context:", *(f"  {one_line(line)}" for line in enrichment)]
    remediation = facts.remediation_lines(alert)
    if remediation:
        lines += ["", "Remediation:", *(f"  - {one_line(line)}" for line in remediation)]
    links = facts.group_links(alert)
    if links:
        lines += ["", *(f"Console ({gid}): {url}" for gid, url in links)]
    lines += ["", f"Alert id: {one_line(alert.alert_id)}"]
    return "\n".join(lines) + "\n"


def text_digest(digest: Digest) -> str:
    alerts = sorted(digest.alerts, key=lambda a: (-a.severity, a.event_time))
    lines = [
        "Digest: " + facts.digest_title(alerts),
        f"{len(alerts)} alerts arrived within the burst window "
        f"({format_time(digest.first_time)} to {format_time(digest.last_time)}):",
        "",
    ]
    for alert in alerts:
        lines.append(f"- {one_line(facts.digest_line(alert))}")
        lines += [f"  {url}" for _, url in facts.group_links(alert)]
    lines += ["", f"Digest id: {digest.digest_id}"]
    return "\n".join(lines) + "\n"


def subject_alert(alert: Alert, prefix: str = "[sgwatch]") -> str:
    """One line, no control characters: ``[sgwatch] CRITICAL: SSH open to the world on sg-0abc (1111…/us-east-1)``."""
    where = f"{alert.account_id or facts.UNKNOWN}/{alert.region or facts.UNKNOWN}"
    text = f"{prefix} {facts.severity_label(alert.severity)}: {alert.title} on {facts.group_label(alert)} ({where})"
    return facts.truncate(one_line(text), SUBJECT_MAX, "…")


def subject_digest(digest: Digest, prefix: str = "[sgwatch]") -> str:
    return facts.truncate(one_line(f"{prefix} digest: {facts.digest_title(digest.alerts)}"), SUBJECT_MAX, "…")
