"""deliver_alerts end to end on the console channel (no sockets): duplicates, ledger, burst, reporting."""

from __future__ import annotations

import dataclasses
import json
import logging
import textwrap
from types import ModuleType
from typing import Any

import pytest

from sgwatch.errors import ConfigError, StoreError
from sgwatch.model import DeliveryStatus
from sgwatch.notify import MemoryLedger, deliver_alerts
from sgwatch.notify.delivery import deliver_alerts as deliver_with_clock
from sgwatch.notify.delivery import send_test_alert
from sgwatch.settings import Settings, load_settings_text


def settings(text: str = "", environ: dict[str, str] | None = None) -> Settings:
    return load_settings_text(textwrap.dedent(text), "cfg.yaml", environ=environ or {})


def test_console_is_the_default_channel(alerts: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    deliveries = deliver_alerts([alerts.critical_ssh()], settings())
    assert [(d.channel, d.status, d.attempts) for d in deliveries] == [("console", DeliveryStatus.DELIVERED, 1)]
    err = capsys.readouterr().err
    assert "CRITICAL: Admin or database port open to the world" in err
    assert "Used by 3 network interface(s)" in err


def test_a_record_delivered_twice_yields_one_message(alerts: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    alert = alerts.critical_ssh()
    deliveries = deliver_alerts([alert, alert, dataclasses.replace(alert)], settings())
    assert [(d.alert_id, d.status) for d in deliveries] == [(alert.alert_id, DeliveryStatus.DELIVERED)]
    assert capsys.readouterr().err.count("CRITICAL: Admin or database port open to the world") == 1


def test_ledger_keeps_exactly_once_across_runs(alerts: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = MemoryLedger()
    multi = alerts.multi_rule()
    first = dataclasses.replace(multi, judgements=multi.judgements[:1])
    cfg = settings("notify:\n  - type: console\n    min_severity: info\n")
    assert deliver_alerts([first], cfg, ledger=ledger)[0].status is DeliveryStatus.DELIVERED
    again = deliver_alerts([first], cfg, ledger=ledger)
    assert [(d.status, d.detail) for d in again] == [
        (DeliveryStatus.SKIPPED, "duplicate: already sent to this channel")
    ]
    capsys.readouterr()
    grown = deliver_alerts([multi], cfg, ledger=ledger)  # the same call seen again with more rules
    assert grown[0].status is DeliveryStatus.DELIVERED
    err = capsys.readouterr().err
    assert "Changes (3 rules)" in err
    assert "sgr-01" not in err


def test_burst_becomes_one_digest(alerts: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    flood = alerts.burst(15)
    deliveries = deliver_alerts(flood, settings("delivery:\n  burst: {max_alerts: 5, window: 60}\n"))
    digest = [d for d in deliveries if d.alert_id.startswith("digest:")]
    members = [d for d in deliveries if not d.alert_id.startswith("digest:")]
    assert len(digest) == 1
    assert digest[0].status is DeliveryStatus.DELIVERED
    assert digest[0].detail.startswith("digest of 15 alerts")
    assert len(members) == 15
    assert all(d.status is DeliveryStatus.SKIPPED for d in members)
    assert all(d.detail.startswith(f"folded into {digest[0].alert_id} (15 alerts)") for d in members)
    err = capsys.readouterr().err
    assert err.count("Digest: 15 security group alerts") == 1


def test_filtered_alerts_are_reported_as_skipped(alerts: ModuleType) -> None:
    low = alerts.alert_of(alerts.judgement(alerts.change(event_id="low-1"), alerts.WIDE_RANGE))
    deliveries = deliver_alerts([low, alerts.critical_ssh()], settings())
    assert [(d.alert_id, d.status, d.detail) for d in deliveries] == [
        ("111122223333:low-1", DeliveryStatus.SKIPPED, "filtered: severity low below high"),
        (alerts.critical_ssh().alert_id, DeliveryStatus.DELIVERED, "written to stderr"),
    ]


def test_every_outcome_is_a_json_log_line(alerts: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sgwatch.notify")
    deliver_alerts([alerts.critical_ssh(), alerts.minimal()], settings("notify:\n  - type: console\n    name: ops\n"))
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "sgwatch.notify"]
    outcomes = [line for line in lines if line["event"] == "delivery"]
    assert [(o["channel"], o["channel_type"], o["status"]) for o in outcomes] == [
        ("ops", "console", "delivered"),
        ("ops", "console", "delivered"),
    ]
    assert {o["alert_id"] for o in outcomes} == {alerts.critical_ssh().alert_id, alerts.minimal().alert_id}


def test_missing_secret_fails_only_its_channel_and_is_never_printed(
    alerts: ModuleType, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="sgwatch.notify")
    cfg = settings(
        """
        notify:
          - type: slack
            url: env:SLACK_URL
          - type: webhook
            url: env:HOOK_URL
          - type: console
        """,
        environ={"HOOK_URL": "ftp://secret-host.invalid/token-123"},
    )
    deliveries = deliver_alerts([alerts.critical_ssh()], cfg)
    by_channel = {d.channel: d for d in deliveries}
    assert by_channel["slack"].status is DeliveryStatus.FAILED
    assert by_channel["slack"].attempts == 0
    assert "secret env:SLACK_URL: environment variable SLACK_URL is not set" in by_channel["slack"].detail
    assert by_channel["webhook"].status is DeliveryStatus.FAILED
    assert "env:HOOK_URL does not hold an http(s) URL" in by_channel["webhook"].detail
    assert by_channel["console"].status is DeliveryStatus.DELIVERED
    everything = caplog.text + repr(deliveries) + capsys.readouterr().err
    assert "token-123" not in everything
    assert "secret-host" not in everything


class BrokenLedger:
    def __init__(self, fail_check: bool) -> None:
        self.fail_check = fail_check
        self.marked: list[tuple[str, str, tuple[str, ...]]] = []

    def sent_rules(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]:
        if self.fail_check:
            raise StoreError("audit.db: database is locked")
        return frozenset()

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None:
        raise StoreError("audit.db: disk full")


@pytest.mark.parametrize("fail_check", [True, False])
def test_a_failing_ledger_never_loses_the_alert(
    alerts: ModuleType, caplog: pytest.LogCaptureFixture, fail_check: bool
) -> None:
    caplog.set_level(logging.INFO, logger="sgwatch.notify")
    deliveries = deliver_alerts([alerts.critical_ssh()], settings(), ledger=BrokenLedger(fail_check))
    assert [d.status for d in deliveries] == [DeliveryStatus.DELIVERED]
    errors = [json.loads(r.getMessage()) for r in caplog.records if "ledger_error" in r.getMessage()]
    assert errors
    assert all(e["event"] == "ledger_error" for e in errors)


def test_send_test_alert_ignores_thresholds(capsys: pytest.CaptureFixture[str], clock: Any) -> None:
    cfg = settings("notify:\n  - type: console\n    name: quiet\n    accounts: ['999999999999']\n")
    deliveries = send_test_alert(cfg, clock=clock)
    assert [(d.channel, d.status) for d in deliveries] == [("quiet", DeliveryStatus.DELIVERED)]
    assert deliveries[0].alert_id == "123456789012:sgwatch-test-20240501T120000Z"
    assert "Test alert from sgwatch" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="no channel named nope"):
        send_test_alert(cfg, channels=("nope",))


def test_injected_clock_is_used_for_the_run(alerts: ModuleType, clock: Any) -> None:
    deliveries = deliver_with_clock([alerts.critical_ssh()], settings(), clock=clock)
    assert deliveries[0].status is DeliveryStatus.DELIVERED
    assert clock.sleeps == []
    # A rate limit makes the second alert wait: on the injected clock, not on the real one.
    paced = settings("notify:\n  - type: console\n    rate_limit: 1/s\n")
    deliveries = deliver_with_clock([alerts.critical_ssh(), alerts.multi_rule()], paced, clock=clock)
    assert [d.status for d in deliveries] == [DeliveryStatus.DELIVERED] * 2
    assert clock.sleeps == [1.0]


def test_a_malformed_url_fails_only_its_channel_and_is_never_printed(
    alerts: ModuleType, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="sgwatch.notify")
    cfg = settings(
        """
        notify:
          - type: slack
            url: env:SLACK_URL
          - type: console
        """,
        environ={"SLACK_URL": "https://[oops-token-123/x"},  # urlsplit: ValueError "Invalid IPv6 URL"
    )
    deliveries = deliver_alerts([alerts.critical_ssh(), alerts.multi_rule()], cfg)
    assert [(d.channel, d.status, d.attempts) for d in deliveries] == [
        ("slack", DeliveryStatus.FAILED, 0),
        ("slack", DeliveryStatus.FAILED, 0),
        ("console", DeliveryStatus.DELIVERED, 1),
        ("console", DeliveryStatus.DELIVERED, 1),
    ]
    assert deliveries[0].detail == (
        "not sent: channel slack: env:SLACK_URL does not hold a valid http(s) URL (it cannot be parsed; "
        "check the host part, e.g. a '[' without ']'); fix the value"
    )
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("Alert id: ")] == [
        f"Alert id: {alerts.critical_ssh().alert_id}",
        f"Alert id: {alerts.multi_rule().alert_id}",
    ]
    assert "oops-token-123" not in caplog.text + repr(deliveries) + err
