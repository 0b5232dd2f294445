"""Alert delivery: Slack, Teams, PagerDuty, email, SNS, signed webhooks and the console.

Entry points import their machinery on first call, so importing this package stays cheap (no httpx,
no boto3) for the Lambda alert path. A long-running process keeps one ``Notifier``; ``deliver_alerts``
is the one-shot form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sgwatch.lazy import lazy_exports
from sgwatch.notify.ledger import MemoryLedger, SentLedger

if TYPE_CHECKING:
    from sgwatch.model import Alert, Delivery
    from sgwatch.notify.notifier import Notifier
    from sgwatch.settings import Settings

__all__ = ["MemoryLedger", "Notifier", "SentLedger", "deliver_alerts", "send_test_alert"]

__getattr__, __dir__ = lazy_exports(__name__, {"Notifier": "notifier"})


def deliver_alerts(
    alerts: Sequence[Alert], settings: Settings, *, ledger: SentLedger | None = None
) -> tuple[Delivery, ...]:
    """Deliver ``alerts`` to every channel configured in ``settings``; see ``sgwatch.notify.delivery``."""
    from sgwatch.notify.delivery import deliver_alerts as deliver  # noqa: PLC0415

    return deliver(alerts, settings, ledger=ledger)


def send_test_alert(settings: Settings) -> tuple[Delivery, ...]:
    """Send the sample alert to every configured channel and return each outcome."""
    from sgwatch.notify.delivery import send_test_alert as send  # noqa: PLC0415

    return send(settings)
