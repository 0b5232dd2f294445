"""The per-channel summary printed after ``scan --notify``, and the ``notify test`` lines."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import timedelta
from types import ModuleType

import pytest

from sgwatch.cli.notify import format_outcome
from sgwatch.model import Delivery, DeliveryStatus, Severity
from sgwatch.notify import MemoryLedger, deliver_alerts
from sgwatch.notify.config import ConsoleConfig
from sgwatch.notify.routing import select
from sgwatch.notify.summary import SKIP_REASONS, skip_reason, summary_lines
from sgwatch.settings import Settings, load_settings_text


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
        Delivery(
            channel="slack",
            alert_id="1:c",
            status=DeliveryStatus.SKIPPED,
            detail="duplicate: already sent to this channel",
        ),
        Delivery(channel="pager", alert_id="1:a", status=DeliveryStatus.FAILED, detail="not sent: secret env:PD"),
    ]
    assert summary_lines(deliveries) == [
        "notify: slack: 1 alert delivered, 1 alert failed, 1 skipped (already sent)",
        "notify: pager: 1 alert failed",
        "notify: slack: FAILED 1:b after 5 attempt(s): gave up after 5 attempts: HTTP 503",
        "notify: pager: FAILED 1:a: not sent: secret env:PD",
    ]
    assert summary_lines([]) == []


def settings(text: str) -> Settings:
    return load_settings_text(textwrap.dedent(text), "cfg.yaml", environ={})


def test_alerts_sent_in_a_digest_are_counted_as_delivered_and_real_skips_keep_their_reason(
    alerts: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """A flood folded into one digest reads as delivered alerts; the ones the channel does not take (below its
    min_severity, already sent) read as what they are."""
    flood = alerts.burst(12)
    low = [alerts.alert_of(alerts.judgement(alerts.change(event_id=f"low-{i}"), alerts.WIDE_RANGE)) for i in range(3)]
    cfg = settings("""
        delivery: {burst: {max_alerts: 10, window: 60}}
        notify:
          - type: console
            name: ops
            min_severity: high
    """)
    later = dataclasses.replace(alerts.critical_ssh(), event_time=alerts.T0 + timedelta(hours=1))  # alone
    ledger = MemoryLedger()
    first = deliver_alerts([*flood, *low, later], cfg, ledger=ledger)
    assert summary_lines(first) == [
        "notify: ops: 13 alerts delivered (12 of them in 1 digest message), 3 skipped (below the channel's min_severity)"
    ]
    again = deliver_alerts([*flood, *low, later], cfg, ledger=ledger)
    assert summary_lines(again) == ["notify: ops: 16 skipped (13 already sent, 3 below the channel's min_severity)"]
    only_digest = deliver_alerts(alerts.burst(12), settings("delivery: {burst: {max_alerts: 10, window: 60}}\n"))
    assert summary_lines(only_digest) == ["notify: console: 12 alerts delivered (all in 1 digest message)"]
    capsys.readouterr()


def test_a_failed_digest_counts_its_alerts_as_failed_and_names_them() -> None:
    digest = "digest:0123456789abcdef"
    failed = "gave up after 4 attempts: HTTP 503"
    deliveries = [
        Delivery(
            channel="hook",
            alert_id=digest,
            status=DeliveryStatus.FAILED,
            attempts=4,
            detail=f"digest of 2 alerts: {failed}",
        ),
        *(
            Delivery(
                channel="hook",
                alert_id=f"1:e{i}",
                status=DeliveryStatus.FAILED,
                detail=f"folded into {digest} (2 alerts): {failed}",
            )
            for i in (1, 2)
        ),
        Delivery(channel="hook", alert_id="1:e3", status=DeliveryStatus.DELIVERED, attempts=1),
    ]
    assert summary_lines(deliveries) == [
        "notify: hook: 1 alert delivered, 2 alerts failed (all in 1 digest message)",
        f"notify: hook: FAILED {digest} after 4 attempt(s): digest of 2 alerts: {failed}",
        f"notify: hook: FAILED 1:e1: folded into {digest} (2 alerts): {failed}",
        f"notify: hook: FAILED 1:e2: folded into {digest} (2 alerts): {failed}",
    ]


def test_every_reason_select_gives_has_its_own_words(alerts: ModuleType) -> None:
    alert = alerts.critical_ssh()
    channels = [
        ConsoleConfig(name="c", type="console", min_severity=Severity.CRITICAL, accounts=("999999999999",)),
        ConsoleConfig(name="c", type="console", min_severity=Severity.CRITICAL, regions=("us-east-1",)),
        ConsoleConfig(name="c", type="console", min_severity=Severity.CRITICAL, findings=("GROUP_CREATED",)),
        ConsoleConfig(name="c", type="console", min_severity=Severity.CRITICAL),
    ]
    low = dataclasses.replace(alert, judgements=(dataclasses.replace(alert.judgements[0], severity=Severity.LOW),))
    reasons = [select(alert, channel)[1] for channel in channels[:3]] + [select(low, channels[3])[1]]
    words = [skip_reason(reason) for reason in reasons]
    assert words == [
        "account not in the channel's accounts",
        "region not in the channel's regions",
        "none of the channel's findings",
        "below the channel's min_severity",
    ]
    assert sorted(words) == sorted(text for _, text in SKIP_REASONS[1:])
    assert skip_reason("something new") == "something new"


def test_outcome_line() -> None:
    ok = Delivery(channel="slack", alert_id="x", status=DeliveryStatus.DELIVERED, attempts=2, detail="HTTP 200 ok")
    assert format_outcome(ok) == "slack: delivered (2 attempts): HTTP 200 ok"
