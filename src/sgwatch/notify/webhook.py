"""Generic webhook adapter: the alert JSON, signed per the Standard Webhooks specification."""

from __future__ import annotations

import base64
import hashlib
import hmac

from sgwatch.errors import DeliveryError
from sgwatch.model import Alert
from sgwatch.notify.config import WebhookConfig, webhook_key
from sgwatch.notify.outcome import Attempt, Message, message_id
from sgwatch.notify.render.documents import body_bytes, webhook_document
from sgwatch.notify.runtime import ChannelSender, fingerprint
from sgwatch.notify.transport import post_attempt


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_message_id(channel: str, message: Message) -> str:
    """Stable across retries and runs, so receivers can drop repeats: ``msg_<hash>``."""
    rules = sorted(j.change.rule_key for j in message.judgements) if isinstance(message, Alert) else []
    text = "\n".join([channel, message_id(message), *rules])
    return "msg_" + hashlib.sha256(text.encode()).hexdigest()[:32]


class WebhookSender(ChannelSender[WebhookConfig]):
    """POSTs JSON with ``webhook-id``, ``webhook-timestamp`` and (with a secret) ``webhook-signature``."""

    def destination(self) -> str:
        return fingerprint("webhook", self.runtime.resolve_url(self.name, self.config.url))

    def _key(self) -> bytes | None:
        if self.config.secret is None:
            return None
        try:
            return webhook_key(self.runtime.secrets.resolve(self.config.secret))
        except ValueError as exc:
            raise DeliveryError(f"channel {self.name}: secret {self.config.secret.describe()}: {exc}") from None

    def send(self, message: Message) -> Attempt:
        url = self.runtime.resolve_url(self.name, self.config.url)
        key = self._key()
        body = body_bytes(webhook_document(message))
        webhook_id = webhook_message_id(self.name, message)
        timestamp = int(self.runtime.clock.now().timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
        }
        if key is not None:
            headers["webhook-signature"] = sign(key, webhook_id, timestamp, body)
        return post_attempt(self.runtime.http, url, body, headers, now=self.runtime.clock.now)
