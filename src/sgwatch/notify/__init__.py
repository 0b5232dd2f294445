"""Alert delivery: Slack, Teams, PagerDuty, email, SNS, signed webhooks and the console.

Entry points import their machinery on first call, so importing this package stays cheap (no httpx,
no boto3) for the Lambda alert path. A long-running process keeps one ``Notifier``; ``deliver_alerts``
is the one-shot form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgwatch.lazy import lazy_exports
from sgwatch.notify.ledger import MemoryLedger, SentLedger

if TYPE_CHECKING:
    from sgwatch.notify.delivery import deliver_alerts, send_test_alert
    from sgwatch.notify.notifier import Notifier

__all__ = ["MemoryLedger", "Notifier", "SentLedger", "deliver_alerts", "send_test_alert"]

__getattr__, __dir__ = lazy_exports(
    __name__, {"Notifier": "notifier", "deliver_alerts": "delivery", "send_test_alert": "delivery"}
)
