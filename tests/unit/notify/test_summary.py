"""The stderr summary ``scan --notify`` prints and the ``notify test`` lines."""

from __future__ import annotations

from sgwatch.cli.notify import format_delivery_summary, format_outcome
from sgwatch.model import Delivery, DeliveryStatus


def test_summary_counts_per_channel_and_names_every_failure() -> None:
    deliveries = [
        Delivery(channel="slack", alert_id="1:a", status=DeliveryStatus.DELIVERED, attempts=1),
        Delivery(
            channel="slack",
            alert_id="1:b",
            status=DeliveryStatus.FAILED,
            attempts=5,
            detail="gave up after 5 attempts: HTTP 503",
        ),
        Delivery(channel="slack", alert_id="1:c", status=DeliveryStatus.SKIPPED, detail="duplicate"),
        Delivery(channel="pager", alert_id="1:a", status=DeliveryStatus.FAILED, detail="not sent: secret env:PD"),
    ]
    assert format_delivery_summary(deliveries) == [
        "notify: slack: 1 delivered, 1 failed, 1 skipped",
        "notify: pager: 1 failed",
        "notify: slack: FAILED 1:b after 5 attempt(s): gave up after 5 attempts: HTTP 503",
        "notify: pager: FAILED 1:a: not sent: secret env:PD",
    ]
    assert format_delivery_summary([]) == []


def test_outcome_line() -> None:
    ok = Delivery(channel="slack", alert_id="x", status=DeliveryStatus.DELIVERED, attempts=2, detail="HTTP 200 ok")
    assert format_outcome(ok) == "slack: delivered (2 attempts): HTTP 200 ok"
