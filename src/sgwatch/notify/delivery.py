"""One-shot entry points (the CLI, tests): deliver alerts, or send a test alert, through a ``Notifier`` made
for the call and closed after it. A long-running process keeps one ``Notifier`` instead."""

from __future__ import annotations

import random
from collections.abc import Sequence

from sgwatch.model import Alert, Delivery
from sgwatch.notify.clock import Clock
from sgwatch.notify.ledger import SentLedger
from sgwatch.notify.notifier import Notifier
from sgwatch.settings import Settings


def deliver_alerts(
    alerts: Sequence[Alert],
    settings: Settings,
    *,
    ledger: SentLedger | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> tuple[Delivery, ...]:
    """Send ``alerts`` to the channels of ``settings`` (console when none); one Delivery per outcome.

    Raises ConfigError for an invalid ``notify:``/``delivery:`` section before anything is sent. Delivery
    failures never raise: they come back as ``DeliveryStatus.FAILED`` with the reason. Without ``ledger``,
    only this call's duplicates are dropped.
    """
    with Notifier(settings, ledger=ledger, clock=clock, rng=rng) as notifier:
        return notifier.deliver(alerts)


def send_test_alert(
    settings: Settings, *, channels: Sequence[str] = (), clock: Clock | None = None
) -> tuple[Delivery, ...]:
    """Send the sample alert to every channel (or the named ones), ignoring filters, ledger and burst guard."""
    with Notifier(settings, clock=clock) as notifier:
        return notifier.send_test(channels)
