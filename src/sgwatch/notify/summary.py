"""What a delivery run did, per channel, in words a person reads after ``scan --notify`` (pure).

Counts are of alerts: an alert sent inside a digest was delivered, in that digest message (its ``Delivery``
says ``skipped: folded into digest:…`` only because the digest carried it), and is counted as delivered,
with the number of digest messages that carried them. Alerts a channel did not get are counted by reason
(already sent, below the channel's ``min_severity``, ...). Every failure gets its own line, with its reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sgwatch.model import Delivery, DeliveryStatus
from sgwatch.notify.routing import ALREADY_SENT, DIGEST_ID_PREFIX

# How the skip reasons of ``routing.select`` and the sent ledger read in the summary, by detail prefix.
SKIP_REASONS = (
    (ALREADY_SENT, "already sent"),
    ("filtered: severity ", "below the channel's min_severity"),
    ("filtered: no rule raised one of the channel's findings", "none of the channel's findings"),
    ("filtered: account ", "account not in the channel's accounts"),
    ("filtered: region ", "region not in the channel's regions"),
)


@dataclass(slots=True, kw_only=True)
class _Sent:
    """Alerts with one final status on one channel, and how many of them travelled in digests."""

    alerts: int = 0
    in_digests: int = 0
    digests: int = 0

    def text(self, verb: str) -> str:
        out = f"{_plural(self.alerts, 'alert')} {verb}"
        if self.in_digests:
            share = "all" if self.in_digests == self.alerts else f"{self.in_digests} of them"
            out += f" ({share} in {_plural(self.digests, 'digest message')})"
        return out


@dataclass(slots=True, kw_only=True)
class _Channel:
    delivered: _Sent = field(default_factory=_Sent)
    failed: _Sent = field(default_factory=_Sent)
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, delivery: Delivery) -> None:
        status = delivery.status
        if delivery.alert_id.startswith(DIGEST_ID_PREFIX):  # the digest message itself: its alerts follow
            (self.delivered if status is DeliveryStatus.DELIVERED else self.failed).digests += 1
        elif delivery.folded:  # skipped/failed with the digest that carried it
            sent = self.failed if status in (DeliveryStatus.FAILED, DeliveryStatus.RETRYABLE) else self.delivered
            sent.alerts += 1
            sent.in_digests += 1
        elif status is DeliveryStatus.SKIPPED:
            self.skipped[skip_reason(delivery.detail)] += 1
        else:
            (self.delivered if status is DeliveryStatus.DELIVERED else self.failed).alerts += 1

    def text(self) -> str:
        parts = []
        if self.delivered.alerts:
            parts.append(self.delivered.text("delivered"))
        if self.failed.alerts:
            parts.append(self.failed.text("failed"))
        if self.skipped:
            reasons = self.skipped.most_common()
            why = reasons[0][0] if len(reasons) == 1 else ", ".join(f"{n} {reason}" for reason, n in reasons)
            parts.append(f"{self.skipped.total()} skipped ({why})")
        return ", ".join(parts)


def skip_reason(detail: str) -> str:
    """A skipped alert's reason in a few words; a reason not listed in ``SKIP_REASONS`` as it was given."""
    for prefix, words in SKIP_REASONS:
        if detail.startswith(prefix):
            return words
    return detail or "no reason given"


def summary_lines(deliveries: Iterable[Delivery]) -> list[str]:
    """``notify: <channel>: …`` once per channel in first-seen order, then one line per failed delivery.

    ``notify: webhook: 62 alerts delivered (all in 1 digest message)``,
    ``notify: slack: 2 alerts delivered, 1 alert failed, 38 skipped (35 below the channel's min_severity, 3
    already sent)``, ``notify: slack: FAILED 1111:e-1 after 5 attempt(s): gave up after 5 attempts: HTTP 503``.
    """
    channels: dict[str, _Channel] = {}
    failures: list[Delivery] = []
    for delivery in deliveries:
        channels.setdefault(delivery.channel, _Channel()).add(delivery)
        if delivery.status in (DeliveryStatus.FAILED, DeliveryStatus.RETRYABLE):
            failures.append(delivery)
    lines = [f"notify: {name}: {channel.text()}" for name, channel in channels.items()]
    for failure in failures:
        tried = f" after {failure.attempts} attempt(s)" if failure.attempts else ""
        lines.append(f"notify: {failure.channel}: FAILED {failure.alert_id}{tried}: {failure.detail}")
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
