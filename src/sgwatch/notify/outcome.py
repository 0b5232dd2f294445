"""What one channel is asked to send (an alert or a digest) and what one attempt to send it returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sgwatch.model import Alert, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest:
    """Several alerts for one channel folded into one message by the burst guard."""

    digest_id: str
    alerts: tuple[Alert, ...]

    @property
    def severity(self) -> Severity:
        return max((a.severity for a in self.alerts), default=Severity.INFO)

    @property
    def first_time(self) -> datetime:
        return min(a.event_time for a in self.alerts)

    @property
    def last_time(self) -> datetime:
        return max(a.event_time for a in self.alerts)


Message = Alert | Digest


def message_id(message: Message) -> str:
    """The id a Delivery reports for this message."""
    return message.alert_id if isinstance(message, Alert) else message.digest_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivered:
    """The destination accepted the message."""

    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Retryable:
    """A transient failure; try again, no sooner than ``retry_after`` seconds when the server said so."""

    reason: str
    retry_after: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Permanent:
    """A failure that retrying cannot fix; ``channel_wide`` when every later message would fail too."""

    reason: str
    channel_wide: bool = False


Attempt = Delivered | Retryable | Permanent


class Sender(Protocol):
    """One configured channel's adapter: where it sends (for rate limits) and how."""

    @property
    def name(self) -> str: ...

    def destination(self) -> str:
        """A stable key for rate limiting; may resolve secrets and raise ``DeliveryError``."""
        ...

    def send(self, message: Message) -> Attempt:
        """One attempt; adapters translate their own library errors into an ``Attempt``."""
        ...
