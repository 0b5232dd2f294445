"""Slack webhook against a real local server: success, rate limits, retries, permanent errors, injection."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from sgwatch.model import DeliveryStatus
from sgwatch.notify.delivery import deliver_alerts

pytestmark = pytest.mark.e2e


def slack_settings(config: Any, sink: Any, extra: str = "") -> Any:
    return config(f"""
        delivery:
          timeout: 0.3
          backoff_base: 0.5
          backoff_max: 4
          retry_after_max: 120
          max_attempts: 4
        {extra}
        notify:
          - type: slack
            url: {sink.url}/slack
    """)


def test_delivered_message_is_neutralized_block_kit(
    alerts: ModuleType, sink: Any, config: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="sgwatch.notify")
    deliveries = deliver_alerts([alerts.malicious()], slack_settings(config, sink), clock=clock)
    assert [(d.status, d.attempts, d.detail) for d in deliveries] == [(DeliveryStatus.DELIVERED, 1, "HTTP 200 ok")]
    (request,) = sink.on("/slack")
    assert request.headers["content-type"] == "application/json"
    payload = json.loads(request.body)
    assert payload["text"]
    assert "channel" not in payload
    raw = request.body.decode()
    assert "<!channel>" not in raw
    assert "<https://evil.example" not in raw
    assert "<@U024BE7LH>" not in raw
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt;" in raw
    assert any('"insecure_url"' in r.getMessage() for r in caplog.records)  # http:// draws a warning
    assert sink.url not in caplog.text


def test_429_retry_after_seconds_is_honored(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/slack", (429, "rate_limited", {"Retry-After": "7"}), (200, "ok"))
    deliveries = deliver_alerts([alerts.critical_ssh()], slack_settings(config, sink), clock=clock)
    assert [(d.status, d.attempts) for d in deliveries] == [(DeliveryStatus.DELIVERED, 2)]
    assert clock.sleeps == [7.0]
    assert len(sink.on("/slack")) == 2


def test_429_retry_after_http_date_is_honored(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/slack", (429, "rate_limited", {"Retry-After": "Wed, 01 May 2024 12:00:42 GMT"}), (200, "ok"))
    deliveries = deliver_alerts([alerts.critical_ssh()], slack_settings(config, sink), clock=clock)
    assert deliveries[0].status is DeliveryStatus.DELIVERED
    assert clock.sleeps == [42.0]  # the clock reads 12:00:00 when the reply comes


def test_retry_after_is_capped(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/slack", (429, "rate_limited", {"Retry-After": "3600"}), (200, "ok"))
    deliveries = deliver_alerts([alerts.critical_ssh()], slack_settings(config, sink), clock=clock)
    assert deliveries[0].status is DeliveryStatus.DELIVERED
    assert clock.sleeps == [120.0]


def test_503_then_200_backs_off_and_delivers(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/slack", (503, "unavailable"), (500, "rollup_error"), (200, "ok"))
    cfg = slack_settings(config, sink, "  rate_limits: {slack: unlimited}")
    deliveries = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert [(d.status, d.attempts) for d in deliveries] == [(DeliveryStatus.DELIVERED, 3)]
    assert len(clock.sleeps) == 2
    assert 0.25 <= clock.sleeps[0] <= 0.5
    assert 0.5 <= clock.sleeps[1] <= 1.0


def test_retries_are_bounded_and_the_reason_is_kept(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/slack", *[(503, "unavailable")] * 4)
    deliveries = deliver_alerts([alerts.critical_ssh()], slack_settings(config, sink), clock=clock)
    assert [(d.status, d.attempts) for d in deliveries] == [(DeliveryStatus.FAILED, 4)]
    assert deliveries[0].detail == "gave up after 4 attempts: HTTP 503 unavailable"
    assert len(sink.on("/slack")) == 4


def test_deadline_stops_retrying(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/slack", (429, "rate_limited", {"Retry-After": "100"}), (200, "ok"))
    deliveries = deliver_alerts([alerts.critical_ssh()], slack_settings(config, sink, "  deadline: 30"), clock=clock)
    assert deliveries[0].status is DeliveryStatus.FAILED
    assert "would pass the 30s delivery deadline" in deliveries[0].detail


@pytest.mark.parametrize(
    ("status", "body", "channel_wide"),
    [
        (400, "invalid_payload", False),
        (404, "channel_not_found", True),
        (404, "no_service", True),
        (403, "action_prohibited", True),
        (410, "channel_is_archived", True),
        (400, "no_team", True),
        (400, "invalid_token", True),
    ],
)
def test_permanent_errors_are_not_retried_and_say_why(
    alerts: ModuleType, sink: Any, config: Any, clock: Any, status: int, body: str, channel_wide: bool
) -> None:
    sink.script("/slack", (status, body), (status, body))
    batch = [alerts.critical_ssh(), alerts.multi_rule()]
    deliveries = deliver_alerts(batch, slack_settings(config, sink), clock=clock)
    first, second = deliveries
    assert (first.status, first.attempts, first.detail) == (DeliveryStatus.FAILED, 1, f"HTTP {status} {body}")
    assert clock.sleeps == ([] if channel_wide else [1.0])  # never a retry; only the 1 msg/s pacing
    if channel_wide:
        assert len(sink.on("/slack")) == 1
        assert (second.status, second.attempts) == (DeliveryStatus.FAILED, 0)
        assert second.detail == f"not sent: channel failed permanently: HTTP {status} {body}"
    else:
        assert len(sink.on("/slack")) == 2
        assert second.attempts == 1


def test_timeout_is_retried(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/slack", (200, "ok", {}, 1.0), (200, "ok"))
    started = time.monotonic()
    deliveries = deliver_alerts([alerts.critical_ssh()], slack_settings(config, sink), clock=clock)
    assert [(d.status, d.attempts) for d in deliveries] == [(DeliveryStatus.DELIVERED, 2)]
    assert time.monotonic() - started < 3


def test_connection_refused_is_retried_then_fails(
    alerts: ModuleType, config: Any, clock: Any, free_port: Callable[[], int]
) -> None:
    port = free_port()
    cfg = config(f"notify:\n  - type: slack\n    url: http://127.0.0.1:{port}/slack\n")
    deliveries = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert deliveries[0].status is DeliveryStatus.FAILED
    assert deliveries[0].attempts == 4
    assert deliveries[0].detail.startswith("gave up after 4 attempts: connection error (ConnectError")
    assert str(port) not in deliveries[0].detail


def test_one_message_per_second_per_webhook(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    batch = alerts.burst(5, step=120.0)  # spread out: no digest
    deliveries = deliver_alerts(batch, slack_settings(config, sink), clock=clock)
    assert all(d.status is DeliveryStatus.DELIVERED for d in deliveries)
    assert len(sink.on("/slack")) == 5
    assert clock.sleeps == [1.0, 1.0, 1.0, 1.0]
