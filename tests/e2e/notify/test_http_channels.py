"""PagerDuty, Teams and signed webhooks against a real local server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from types import ModuleType
from typing import Any

import pytest

from sgwatch.model import DeliveryStatus
from sgwatch.notify.delivery import deliver_alerts

pytestmark = pytest.mark.e2e

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_pagerduty_trigger_with_dedup_key(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/pd", (202, '{"status":"success","message":"Event processed","dedup_key":"x"}'))
    cfg = config(
        f"notify:\n  - type: pagerduty\n    routing_key: env:PD_KEY\n    url: {sink.url}/pd\n",
        {"PD_KEY": "R0UTINGKEY0000000000000000000000"},
    )
    deliveries = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert [(d.status, d.detail) for d in deliveries] == [
        (DeliveryStatus.DELIVERED, "HTTP 202 success: Event processed")
    ]
    event = json.loads(sink.on("/pd")[0].body)
    assert event["routing_key"] == "R0UTINGKEY0000000000000000000000"
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "sgwatch:111122223333:0f1e2d3c-aaaa-bbbb-cccc-000000000001:sgr-0aaa1111bbbb2222c"
    assert event["payload"]["severity"] == "critical"
    assert event["links"][0]["href"].startswith("https://eu-west-1.console.aws.amazon.com/ec2/home")


def test_pagerduty_invalid_event_is_permanent(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    reply = '{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'routing_key\' is incorrect (should be 32 characters)"]}'
    sink.script("/pd", (400, reply))
    cfg = config(f"notify:\n  - type: pagerduty\n    routing_key: short\n    url: {sink.url}/pd\n")
    (delivery,) = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.detail.startswith("HTTP 400 invalid event: Event object is invalid (Length of 'routing_key'")


def test_pagerduty_rate_limit_per_routing_key(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.default.status = 202
    cfg = config(f"""
        delivery:
          rate_limits: {{pagerduty: 3/min}}
          burst: false
        notify:
          - type: pagerduty
            routing_key: k1
            url: {sink.url}/pd
          - type: pagerduty
            name: same-key
            routing_key: k1
            url: {sink.url}/pd
            min_severity: info
    """)
    deliveries = deliver_alerts(alerts.burst(4), cfg, clock=clock)
    assert all(d.status is DeliveryStatus.DELIVERED for d in deliveries)
    assert len(deliveries) == 8
    assert len(sink.on("/pd")) == 8
    # Both channels share one key, so 8 events at 3/min take two full minute waits.
    assert sum(clock.sleeps) == pytest.approx(120.0)
    assert clock.elapsed == pytest.approx(120.0)


def test_pagerduty_429_backs_off(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script(
        "/pd",
        (429, '{"status":"throttle event","message":"Requests for this service are arriving too quickly"}'),
        (202, '{"status":"success"}'),
    )
    cfg = config(f"notify:\n  - type: pagerduty\n    routing_key: k\n    url: {sink.url}/pd\n")
    (delivery,) = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert len(clock.sleeps) == 1
    assert 0.25 <= clock.sleeps[0] <= 0.5


def test_teams_adaptive_card(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/teams", (202, ""))
    cfg = config(f"notify:\n  - type: teams\n    webhook_url: {sink.url}/teams\n")
    (delivery,) = deliver_alerts([alerts.malicious()], cfg, clock=clock)
    assert delivery.status is DeliveryStatus.DELIVERED
    (request,) = sink.on("/teams")
    assert len(request.body) < 28 * 1024
    message = json.loads(request.body)
    assert message["type"] == "message"
    card = message["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    raw = request.body.decode()
    assert "<!channel>" not in raw
    assert "<script>" not in raw
    assert "&lt;!channel&gt;" in raw


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """An independent Standard Webhooks verifier."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    versions = [sig.split(",", 1) for sig in headers["webhook-signature"].split(" ")]
    return any(v == "v1" and hmac.compare_digest(s, expected) for v, s in versions)


def test_webhook_is_signed_and_keeps_its_id_across_retries(
    alerts: ModuleType, sink: Any, config: Any, clock: Any
) -> None:
    sink.script("/hook", (503, "busy"), (204, ""))
    cfg = config(
        f"notify:\n  - type: webhook\n    url: {sink.url}/hook\n    secret: env:HOOK_SECRET\n", {"HOOK_SECRET": WHSEC}
    )
    (delivery,) = deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    first, second = sink.on("/hook")
    for request in (first, second):
        assert _verify(WHSEC, request.headers, request.body)
        assert not _verify(
            "whsec_" + base64.b64encode(b"another-secret-entirely!").decode(), request.headers, request.body
        )
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.headers["webhook-id"].startswith("msg_")
    assert int(first.headers["webhook-timestamp"]) == int(clock.start.timestamp())
    assert int(second.headers["webhook-timestamp"]) == int(clock.start.timestamp() + sum(clock.sleeps))
    document = json.loads(first.body)
    assert document["type"] == "sgwatch.alert"
    assert document["data"]["alert_id"] == "111122223333:0f1e2d3c-aaaa-bbbb-cccc-000000000001"
    assert document["data"]["remediations"][0]["status"] == "reverted"


def test_webhook_tampered_body_fails_verification(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    cfg = config(f"notify:\n  - type: webhook\n    url: {sink.url}/hook\n    secret: {WHSEC}\n")
    deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    (request,) = sink.on("/hook")
    assert _verify(WHSEC, request.headers, request.body)
    assert not _verify(WHSEC, request.headers, request.body.replace(b"critical", b"low"))


def test_webhook_without_secret_is_unsigned(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    cfg = config(f"notify:\n  - type: webhook\n    url: {sink.url}/hook\n")
    deliver_alerts([alerts.critical_ssh()], cfg, clock=clock)
    (request,) = sink.on("/hook")
    assert "webhook-signature" not in request.headers
    assert "webhook-id" in request.headers


def test_webhook_410_gone_stops_the_channel(alerts: ModuleType, sink: Any, config: Any, clock: Any) -> None:
    sink.script("/hook", (410, "gone"))
    cfg = config(f"notify:\n  - type: webhook\n    url: {sink.url}/hook\n    min_severity: info\n")
    deliveries = deliver_alerts([alerts.critical_ssh(), alerts.multi_rule(), alerts.minimal()], cfg, clock=clock)
    assert [d.status for d in deliveries] == [DeliveryStatus.FAILED] * 3
    assert [d.attempts for d in deliveries] == [1, 0, 0]
    assert len(sink.on("/hook")) == 1
