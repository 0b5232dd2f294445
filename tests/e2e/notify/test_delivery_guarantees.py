"""Isolation, exactly-once and the burst guard across real HTTP channels."""

from __future__ import annotations

import json
import logging
from types import ModuleType
from typing import Any

import pytest

from sgwatch.model import DeliveryStatus
from sgwatch.notify.delivery import deliver_alerts
from sgwatch.notify.ledger import MemoryLedger

pytestmark = pytest.mark.e2e


def three_channels(config: Any, sink: Any, extra: str = "") -> Any:
    return config(f"""
        delivery:
          max_attempts: 3
          backoff_base: 1
          {extra}
        notify:
          - type: slack
            url: {sink.url}/slack
          - type: webhook
            url: {sink.url}/hook
          - type: pagerduty
            routing_key: k
            url: {sink.url}/pd
    """)


def test_one_failing_channel_never_stops_the_others(
    alerts: ModuleType, sink: Any, config: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sgwatch.notify")
    sink.script("/slack", *[(500, "internal_error")] * 10)
    deliveries = deliver_alerts([alerts.critical_ssh(), alerts.multi_rule()], three_channels(config, sink), clock=clock)
    status = {(d.channel, d.alert_id.split(":")[-1][-1]): (d.status, d.attempts) for d in deliveries}
    assert status == {
        ("slack", "1"): (DeliveryStatus.FAILED, 3),
        ("slack", "2"): (DeliveryStatus.FAILED, 3),
        ("webhook", "1"): (DeliveryStatus.DELIVERED, 1),
        ("webhook", "2"): (DeliveryStatus.DELIVERED, 1),
        ("pagerduty", "1"): (DeliveryStatus.DELIVERED, 1),
        ("pagerduty", "2"): (DeliveryStatus.DELIVERED, 1),
    }
    assert len(sink.on("/hook")) == 2
    assert len(sink.on("/pd")) == 2
    assert len(sink.on("/slack")) == 6
    logged = [json.loads(r.getMessage()) for r in caplog.records]
    final = [line for line in logged if line["event"] == "delivery"]
    assert len(final) == 6
    assert {(line["channel"], line["status"]) for line in final if line["status"] == "failed"} == {("slack", "failed")}
    assert sum(1 for line in logged if line["event"] == "retry") == 4


def test_duplicated_record_yields_one_delivery_per_channel(
    alerts: ModuleType, sink: Any, config: Any, clock: Any
) -> None:
    alert = alerts.critical_ssh()
    deliveries = deliver_alerts([alert, alert], three_channels(config, sink), clock=clock)
    assert [(d.channel, d.status) for d in deliveries] == [
        ("slack", DeliveryStatus.DELIVERED),
        ("webhook", DeliveryStatus.DELIVERED),
        ("pagerduty", DeliveryStatus.DELIVERED),
    ]
    assert len(sink.received) == 3


def test_ledger_prevents_a_second_send_in_a_later_run(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    ledger = MemoryLedger()
    cfg = three_channels(config, sink)
    deliver_alerts([alerts.critical_ssh()], cfg, ledger=ledger, clock=clock)
    again = deliver_alerts([alerts.critical_ssh()], cfg, ledger=ledger, clock=clock)
    assert {d.status for d in again} == {DeliveryStatus.SKIPPED}
    assert len(sink.received) == 3


def test_failed_delivery_is_not_marked_sent(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    ledger = MemoryLedger()
    sink.script("/slack", (400, "invalid_payload"))
    cfg = three_channels(config, sink)
    deliver_alerts([alerts.critical_ssh()], cfg, ledger=ledger, clock=clock)
    again = {d.channel: d.status for d in deliver_alerts([alerts.critical_ssh()], cfg, ledger=ledger, clock=clock)}
    assert again == {
        "slack": DeliveryStatus.DELIVERED,
        "webhook": DeliveryStatus.SKIPPED,
        "pagerduty": DeliveryStatus.SKIPPED,
    }


def test_burst_of_alerts_becomes_one_digest_per_channel(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    flood = alerts.burst(25)
    deliveries = deliver_alerts(flood, three_channels(config, sink, "burst: {max_alerts: 10, window: 60}"), clock=clock)
    assert len(sink.on("/slack")) == len(sink.on("/hook")) == len(sink.on("/pd")) == 1
    digests = [d for d in deliveries if d.alert_id.startswith("digest:")]
    assert [(d.channel, d.status) for d in digests] == [
        ("slack", DeliveryStatus.DELIVERED),
        ("webhook", DeliveryStatus.DELIVERED),
        ("pagerduty", DeliveryStatus.DELIVERED),
    ]
    slack = json.loads(sink.on("/slack")[0].body)
    assert slack["blocks"][0]["text"]["text"] == "Digest: 25 security group alerts (highest: HIGH)"
    hook = json.loads(sink.on("/hook")[0].body)
    assert hook["type"] == "sgwatch.digest"
    assert hook["data"]["count"] == 25
    pd = json.loads(sink.on("/pd")[0].body)
    assert pd["dedup_key"] == f"sgwatch:{digests[0].alert_id}"


def test_a_malformed_url_from_the_environment_stops_only_its_channel(
    alerts: ModuleType, sink: Any, config: Any, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(
        f"""
        notify:
          - type: slack
            url: env:SLACK_URL
          - type: webhook
            url: {sink.url}/hook
          - type: teams
            url: env:TEAMS_URL
          - type: console
        """,
        {"SLACK_URL": "https://[oops/x", "TEAMS_URL": f"{sink.url}/teams"},
    )
    deliveries = deliver_alerts([alerts.critical_ssh(), alerts.multi_rule()], cfg, clock=clock)
    status = {(d.channel, d.alert_id.split(":")[-1][-1]): (d.status, d.attempts) for d in deliveries}
    assert status == {
        ("slack", "1"): (DeliveryStatus.FAILED, 0),
        ("slack", "2"): (DeliveryStatus.FAILED, 0),
        ("webhook", "1"): (DeliveryStatus.DELIVERED, 1),
        ("webhook", "2"): (DeliveryStatus.DELIVERED, 1),
        ("teams", "1"): (DeliveryStatus.DELIVERED, 1),
        ("teams", "2"): (DeliveryStatus.DELIVERED, 1),
        ("console", "1"): (DeliveryStatus.DELIVERED, 1),
        ("console", "2"): (DeliveryStatus.DELIVERED, 1),
    }
    assert {d.detail for d in deliveries if d.channel == "slack"} == {
        "not sent: channel slack: env:SLACK_URL does not hold a valid http(s) URL (it cannot be parsed; "
        "check the host part, e.g. a '[' without ']'); fix the value"
    }
    assert len(sink.on("/hook")) == len(sink.on("/teams")) == 2
    assert sum(line.startswith("Alert id: ") for line in capsys.readouterr().err.splitlines()) == 2
