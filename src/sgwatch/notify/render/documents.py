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


def _fit_document(document: dict[str, Any], limit: int) -> str:
    """The ``default`` message within ``limit`` bytes, dropping list entries from the end (changes and
    remediations of an alert, alerts of a digest; ``truncated`` says so) if it would be too big."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False)
    data = dict(document["data"])
    keys = [key for key in ("changes", "remediations", "alerts") if isinstance(data.get(key), list)]
    while len(text.encode()) > limit and any(data[key] for key in keys):
        data = {**data, **{key: data[key][: len(data[key]) * 3 // 4] for key in keys}, "truncated": True}
        text = json.dumps({**document, "data": data}, sort_keys=True, ensure_ascii=False)
    return text


def _sns_message(document: dict[str, Any], email_text: str, sms: str) -> str:
    """The per-protocol ``Message`` within SNS's limit in bytes, as sent: the JSON document for machines, the
    text for email, one line for SMS (the first two are shortened together until the whole fits)."""
    doc_limit, email_limit = SNS_MESSAGE_MAX // 2, SNS_MESSAGE_MAX // 4
    while True:
        variants = {
            "default": _fit_document(document, doc_limit),
            "email": facts.truncate_bytes(email_text, email_limit),
            "sms": facts.truncate(sms, SMS_MAX, "..."),
        }
        message = json.dumps(variants, ensure_ascii=False)  # escaping makes it bigger than its parts
        if len(message.encode()) <= SNS_MESSAGE_MAX or doc_limit < 1024:
            return message
        doc_limit, email_limit = doc_limit * 3 // 4, email_limit * 3 // 4


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
    attributes: dict[str, Any] = {
        "severity": {"DataType": "String", "StringValue": severity},
        "account_id": {"DataType": "String.Array", "StringValue": json.dumps(accounts)},
    }
    if findings:
        attributes["finding_ids"] = {"DataType": "String.Array", "StringValue": json.dumps(findings)}
    return {
        "Subject": ascii_subject(subject),
        "Message": _sns_message(webhook_document(message), email_text, sms),
        "MessageStructure": "json",
        "MessageAttributes": attributes,
    }
