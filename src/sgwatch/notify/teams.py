"""Microsoft Teams (Workflows / incoming webhook) adapter."""

from __future__ import annotations

import json

from sgwatch.model import Alert
from sgwatch.notify.config import TeamsConfig
from sgwatch.notify.outcome import Attempt, Message
from sgwatch.notify.render.teams import teams_alert, teams_digest
from sgwatch.notify.runtime import Runtime, fingerprint
from sgwatch.notify.transport import post_attempt


class TeamsSender:
    """Posts one Adaptive Card message per alert."""

    def __init__(self, config: TeamsConfig, runtime: Runtime) -> None:
        self.config = config
        self.runtime = runtime

    @property
    def name(self) -> str:
        return self.config.name

    def destination(self) -> str:
        return fingerprint("teams", self.runtime.resolve_url(self.name, self.config.url))

    def send(self, message: Message) -> Attempt:
        url = self.runtime.resolve_url(self.name, self.config.url)
        payload = teams_alert(message) if isinstance(message, Alert) else teams_digest(message)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return post_attempt(
            self.runtime.http, url, body, {"content-type": "application/json"}, now=self.runtime.clock.now
        )
