"""PagerDuty Events API v2 adapter."""

from __future__ import annotations

import json

from sgwatch.model import Alert
from sgwatch.notify.config import PagerDutyConfig
from sgwatch.notify.outcome import Attempt, Message
from sgwatch.notify.render.pagerduty import pagerduty_alert, pagerduty_digest
from sgwatch.notify.runtime import ChannelSender, fingerprint
from sgwatch.notify.secretref import SecretRef
from sgwatch.notify.transport import HttpReply, post_attempt, short_body


def pagerduty_reason(reply: HttpReply) -> str:
    """``invalid event: Event object is invalid (…)`` from PagerDuty's JSON reply, else the body."""
    try:
        doc = json.loads(reply.text)
    except ValueError:
        return short_body(reply.text)
    if not isinstance(doc, dict):
        return short_body(reply.text)
    parts = [str(doc.get(key)) for key in ("status", "message") if doc.get(key)]
    errors = doc.get("errors")
    if isinstance(errors, list) and errors:
        parts.append("(" + "; ".join(str(e) for e in errors[:3]) + ")")
    return short_body(": ".join(parts[:2]) + (" " + parts[2] if len(parts) > 2 else ""))


class PagerDutySender(ChannelSender[PagerDutyConfig]):
    """Triggers one PagerDuty event per alert; the dedup key makes a repeated send harmless."""

    def destination(self) -> str:
        return fingerprint("pagerduty", self.runtime.secrets.resolve(self.config.routing_key))

    def send(self, message: Message) -> Attempt:
        routing_key = self.runtime.secrets.resolve(self.config.routing_key)
        url = self.runtime.resolve_url(self.name, SecretRef(kind="inline", ref=self.config.url))
        payload = (
            pagerduty_alert(message, routing_key)
            if isinstance(message, Alert)
            else pagerduty_digest(message, routing_key)
        )
        body = json.dumps(payload, ensure_ascii=False).encode()
        return post_attempt(
            self.runtime.http,
            url,
            body,
            {"content-type": "application/json"},
            now=self.runtime.clock.now,
            body_reason=pagerduty_reason,
        )
