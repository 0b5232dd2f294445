"""Microsoft Teams (Workflows / incoming webhook) adapter."""

from __future__ import annotations

import json

from sgwatch.model import Alert
from sgwatch.notify.config import TeamsConfig
from sgwatch.notify.outcome import Attempt, Message
from sgwatch.notify.render.teams import teams_alert, teams_digest
from sgwatch.notify.runtime import ChannelSender, fingerprint
from sgwatch.notify.transport import post_attempt


class TeamsSender(ChannelSender[TeamsConfig]):
    """Posts one Adaptive Card message per alert."""

    def destination(self) -> str:
        return fingerprint("teams", self.runtime.resolve_url(self.name, self.config.url))

    def send(self, message: Message) -> Attempt:
        url = self.runtime.resolve_url(self.name, self.config.url)
        payload = teams_alert(message) if isinstance(message, Alert) else teams_digest(message)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return post_attempt(
            self.runtime.http, url, body, {"content-type": "application/json"}, now=self.runtime.clock.now
        )
