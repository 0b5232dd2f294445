"""Console adapter: the plain-text alert on stderr (or stdout). The default channel."""

from __future__ import annotations

import sys

from sgwatch.model import Alert
from sgwatch.notify.config import ConsoleConfig
from sgwatch.notify.outcome import Attempt, Delivered, Message, Permanent
from sgwatch.notify.render.text import text_alert, text_digest
from sgwatch.notify.runtime import ChannelSender

SEPARATOR = "-" * 72


class ConsoleSender(ChannelSender[ConsoleConfig]):
    """Writes each message as text, separated by a rule."""

    def destination(self) -> str:
        return f"console:{self.config.stream}"

    def send(self, message: Message) -> Attempt:
        stream = sys.stdout if self.config.stream == "stdout" else sys.stderr
        text = text_alert(message) if isinstance(message, Alert) else text_digest(message)
        try:
            stream.write(f"{SEPARATOR}\n{text}")
            stream.flush()
        except OSError as exc:
            return Permanent(reason=f"cannot write to {self.config.stream}: {exc.strerror or exc}", channel_wide=True)
        return Delivered(detail=f"written to {self.config.stream}")
