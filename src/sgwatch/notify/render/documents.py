"""JSON documents for machines: the signed webhook body and the SNS message (with per-protocol variants)."""

from __future__ import annotations

import json
from typing import Any

from sgwatch.model import Alert
from sgwatch.notify.outcome import Digest
from sgwatch.notify.render import facts
from sgwatch.notify.render.text import one_line, subject_alert, subject_digest, text_alert, text_digest
from sgwatch.serialize import alert_json, format_time

SNS_MESSAGE_MAX = 256 * 1024 - 1024  # SNS caps a message at 256 KB; leave room for the envelope
SNS_SUBJECT_MAX = 99  # must be under 100 ASCII characters
SMS_MAX = 140


def webhook_document(message: Alert | Digest) -> dict[str, Any]:
    """Standard Webhooks payload shape: ``type``, ``timestamp`` and ``data``."""
    if isinstance(message, Alert):
        return {"type": "sgwatch.alert", "timestamp": format_time(message.event_time), "data": alert_json(message)}
    return {
        "type": "sgwatch.digest",
        "timestamp": format_time(message.last_time),
        "data": {
            "digest_id": message.digest_id,
            "severity": str(message.severity),
            "count": len(message.alerts),
            "alerts": [alert_json(a) for a in message.alerts],
        },
    }


def body_bytes(document: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def ascii_subject(text: str) -> str:
    """SNS subjects: ASCII, one line, under 100 characters."""
    ascii_text = one_line(text.replace("—", "-").replace("…", "...")).encode("ascii", "replace").decode()
    return facts.truncate(ascii_text, SNS_SUBJECT_MAX, "...")


def _fit_document(document: dict[str, Any]) -> str:
    """The ``default`` message, dropping list entries from the end (with a count) if it would be too big."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False)
    key = "changes" if "changes" in document.get("data", {}) else "alerts"
    items = list(document["data"].get(key, []))
    while len(text.encode()) > SNS_MESSAGE_MAX // 2 and items:
        items = items[: len(items) * 3 // 4]
        data = {**document["data"], key: items, "truncated": True}
        text = json.dumps({**document, "data": data}, sort_keys=True, ensure_ascii=False)
    return text


def sns_publish(message: Alert | Digest) -> dict[str, Any]:
    """Publish arguments (without TopicArn): JSON for machines, text for email, one line for SMS."""
    if isinstance(message, Alert):
        subject = subject_alert(message)
        email_text = text_alert(message)
        sms = one_line(facts.summary_line(message))
        severity = str(message.severity)
        findings = sorted({fid for j in message.judgements for fid in j.finding_ids})
        accounts = [message.account_id or "unknown"]
    else:
        subject = subject_digest(message)
        email_text = text_digest(message)
        sms = one_line(subject)
        severity = str(message.severity)
        findings = sorted({fid for a in message.alerts for j in a.judgements for fid in j.finding_ids})
        accounts = sorted({a.account_id or "unknown" for a in message.alerts})
    variants = {
        "default": _fit_document(webhook_document(message)),
        "email": facts.truncate(email_text, SNS_MESSAGE_MAX // 4),
        "sms": facts.truncate(sms, SMS_MAX, "..."),
    }
    attributes: dict[str, Any] = {
        "severity": {"DataType": "String", "StringValue": severity},
        "account_id": {"DataType": "String.Array", "StringValue": json.dumps(accounts)},
    }
    if findings:
        attributes["finding_ids"] = {"DataType": "String.Array", "StringValue": json.dumps(findings)}
    return {
        "Subject": ascii_subject(subject),
        "Message": json.dumps(variants, ensure_ascii=False),
        "MessageStructure": "json",
        "MessageAttributes": attributes,
    }
