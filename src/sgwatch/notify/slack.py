"""Slack incoming webhook adapter."""

from __future__ import annotations

import json

from sgwatch.model import Alert
from sgwatch.notify.config import SlackConfig
from sgwatch.notify.outcome import Attempt, Message
from sgwatch.notify.render.slack import slack_alert, slack_digest
from sgwatch.notify.runtime import ChannelSender, fingerprint
from sgwatch.notify.transport import post_attempt

# Webhook error strings that mean the webhook itself is unusable (every later message would fail too).
CHANNEL_WIDE_ERRORS = frozenset(
    {
        "no_service",
        "no_service_id",
        "no_team",
        "team_disabled",
        "invalid_token",
        "channel_not_found",
        "channel_is_archived",
        "action_prohibited",
        "posting_to_general_channel_denied",
        "user_not_found",
    }
)


class SlackSender(ChannelSender[SlackConfig]):
    """Posts Block Kit messages to one incoming webhook."""

    def destination(self) -> str:
        return fingerprint("slack", self.runtime.resolve_url(self.name, self.config.url))

    def send(self, message: Message) -> Attempt:
        url = self.runtime.resolve_url(self.name, self.config.url)
        payload = slack_alert(message) if isinstance(message, Alert) else slack_digest(message)
        body = json.dumps(payload, ensure_ascii=False).encode()
        return post_attempt(
            self.runtime.http,
            url,
            body,
            {"content-type": "application/json"},
            now=self.runtime.clock.now,
            channel_wide_bodies=CHANNEL_WIDE_ERRORS,
        )
