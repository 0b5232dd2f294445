"""run_jobs keeps one channel's failures (its destination, its secrets, its adapter's bugs) away from the other
channels and finalises every message; resolve_url checks a secret-held URL."""

from __future__ import annotations

import json
import logging
import random
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from sgwatch.errors import DeliveryError
from sgwatch.model import DeliveryStatus
from sgwatch.notify.config import ConsoleConfig, SlackConfig
from sgwatch.notify.console import ConsoleSender
from sgwatch.notify.engine import run_jobs
from sgwatch.notify.outcome import Attempt, Delivered, Message, Retryable, message_id
from sgwatch.notify.runtime import Runtime
from sgwatch.notify.secretref import SecretRef
from sgwatch.notify.tuning import DeliveryConfig


class UnparsableDestination:
    """An adapter whose destination is a URL the standard library cannot split."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent: list[Message] = []

    @property
    def name(self) -> str:
        return "hooks"

    def destination(self) -> str:
        return f"hooks:{urlsplit(self.url).hostname}"

    def send(self, message: Message) -> Attempt:
        self.sent.append(message)
        return Delivered(detail="sent")


def test_an_unexpected_destination_error_fails_only_its_channel(
    alerts: ModuleType, clock: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="sgwatch.notify")
    runtime = Runtime(environ={}, clock=clock, timeout=1.0)
    broken_channel = SlackConfig(name="hooks", type="slack", url=SecretRef(kind="env", ref="HOOK"))
    console_channel = ConsoleConfig(name="console", type="console")
    broken = UnparsableDestination("https://[oops/x")
    batch = [alerts.critical_ssh(), alerts.multi_rule()]
    outcomes = run_jobs(
        [(broken_channel, broken, batch), (console_channel, ConsoleSender(console_channel, runtime), batch)],
        DeliveryConfig(),
        runtime,
        rng=random.Random(1),
        on_delivered=lambda _c, _m: None,
    )
    final = [(o.channel.name, message_id(o.message), o.status, o.attempts) for o in outcomes]
    assert final == [
        ("hooks", batch[0].alert_id, DeliveryStatus.FAILED, 0),
        ("hooks", batch[1].alert_id, DeliveryStatus.FAILED, 0),
        ("console", batch[0].alert_id, DeliveryStatus.DELIVERED, 1),
        ("console", batch[1].alert_id, DeliveryStatus.DELIVERED, 1),
    ]
    assert outcomes[0].detail == (
        "not sent: internal error in the slack adapter while resolving the destination: ValueError: Invalid IPv6 URL"
    )
    assert broken.sent == []
    printed = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Alert id: ")]
    assert printed == [f"Alert id: {alert.alert_id}" for alert in batch]
    (logged,) = [r for r in caplog.records if '"adapter_error"' in r.getMessage()]
    assert logged.exc_info is not None
    assert json.loads(logged.getMessage()) == {
        "channel": "hooks",
        "detail": "ValueError: Invalid IPv6 URL",
        "event": "adapter_error",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://[oops/x", r"env:URL does not hold a valid http\(s\) URL \(it cannot be parsed; check the host"),
        ("https://[secret-host]/x", r"env:URL does not hold a valid http\(s\) URL \(it cannot be parsed"),
        ("ftp://host.invalid/x", r"env:URL does not hold an http\(s\) URL"),
    ],
)
def test_resolve_url_turns_bad_values_into_delivery_errors(clock: Any, value: str, expected: str) -> None:
    runtime = Runtime(environ={"URL": value}, clock=clock, timeout=1.0)
    with pytest.raises(DeliveryError, match=expected) as info:
        runtime.resolve_url("hooks", SecretRef(kind="env", ref="URL"))
    assert value not in str(info.value)
    assert "secret-host" not in str(info.value)


class Scripted:
    """An adapter that answers each send with the next scripted outcome, or raises it."""

    def __init__(self, *replies: Attempt | Exception) -> None:
        self.replies = list(replies)
        self.sent: list[Message] = []

    @property
    def name(self) -> str:
        return "hooks"

    def destination(self) -> str:
        return "hooks:scripted"

    def send(self, message: Message) -> Attempt:
        self.sent.append(message)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def run_scripted(sender: Scripted, batch: list[Any], clock: Any) -> list[tuple[str, DeliveryStatus, int, str]]:
    channel = SlackConfig(name="hooks", type="slack", url=SecretRef(kind="env", ref="HOOK"))
    runtime = Runtime(environ={}, clock=clock, timeout=1.0)
    outcomes = run_jobs(
        [(channel, sender, batch)],
        DeliveryConfig(max_attempts=3, backoff_base=1.0),
        runtime,
        rng=random.Random(1),
        on_delivered=lambda _c, _m: None,
    )
    return [(message_id(o.message), o.status, o.attempts, o.detail) for o in outcomes]


def test_an_adapter_bug_fails_that_message_only_and_is_logged_with_its_traceback(
    alerts: ModuleType, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sgwatch.notify")
    batch = [alerts.critical_ssh(), alerts.multi_rule()]
    sender = Scripted(KeyError("blocks"), Delivered(detail="sent"))
    assert run_scripted(sender, batch, clock) == [
        (batch[0].alert_id, DeliveryStatus.FAILED, 1, "internal error in the slack adapter: KeyError: 'blocks'"),
        (batch[1].alert_id, DeliveryStatus.DELIVERED, 1, "sent"),
    ]
    (logged,) = [r for r in caplog.records if '"adapter_error"' in r.getMessage()]
    assert logged.exc_info is not None
    assert json.loads(logged.getMessage()) == {
        "channel": "hooks",
        "detail": "KeyError: 'blocks'",
        "event": "adapter_error",
        "message_id": batch[0].alert_id,
    }


def test_a_channel_that_fails_for_good_finalises_its_queued_messages(alerts: ModuleType, clock: Any) -> None:
    """The first message waits for a retry when the second one meets a missing secret: both end, with what was
    done to them, and nothing more is sent."""
    batch = [alerts.critical_ssh(), alerts.multi_rule(), alerts.malicious()]
    missing = DeliveryError("secret env:HOOK: not set")
    sender = Scripted(Retryable(reason="HTTP 503"), missing)
    assert run_scripted(sender, batch, clock) == [
        (batch[1].alert_id, DeliveryStatus.FAILED, 1, "secret env:HOOK: not set"),
        (
            batch[0].alert_id,
            DeliveryStatus.FAILED,
            1,
            "stopped after 1 attempts: channel failed permanently: secret env:HOOK: not set",
        ),
        (batch[2].alert_id, DeliveryStatus.FAILED, 0, "not sent: channel failed permanently: secret env:HOOK: not set"),
    ]
    assert sender.sent == batch[:2]
    assert clock.sleeps == []


def test_resolve_url_warns_once_per_channel_when_not_https(clock: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sgwatch.notify")
    environ = {"PLAIN": " http://127.0.0.1:9/x \n", "SAFE": "https://hooks.example.invalid/x"}
    runtime = Runtime(environ=environ, clock=clock, timeout=1.0)
    for channel, name in [("a", "PLAIN"), ("a", "PLAIN"), ("b", "PLAIN"), ("c", "SAFE")]:
        assert runtime.resolve_url(channel, SecretRef(kind="env", ref=name)) == environ[name].strip()
    warned = [json.loads(r.getMessage()) for r in caplog.records if '"insecure_url"' in r.getMessage()]
    assert [line["channel"] for line in warned] == ["a", "b"]


class SlowScripted(Scripted):
    """A scripted adapter whose every reply takes ``takes`` seconds of the manual clock to arrive."""

    def __init__(self, clock: Any, takes: float, *replies: Attempt | Exception) -> None:
        super().__init__(*replies)
        self.clock = clock
        self.takes = takes
        self.started: list[float] = []

    def send(self, message: Message) -> Attempt:
        self.started.append(self.clock.monotonic())
        self.clock.elapsed += self.takes  # the request is in flight: time passes without a sleep
        return super().send(message)


def run_slow(
    sender: SlowScripted, batch: list[Any], clock: Any, config: DeliveryConfig, time_left: float | None = None
) -> list[Any]:
    channel = SlackConfig(name="hooks", type="slack", url=SecretRef(kind="env", ref="HOOK"))
    runtime = Runtime(environ={}, clock=clock, timeout=1.0)
    outcomes = run_jobs(
        [(channel, sender, batch)],
        config,
        runtime,
        rng=random.Random(1),
        on_delivered=lambda _c, _m: None,
        time_left=time_left,
    )
    return [(o.status, o.attempts, o.detail) for o in outcomes]


def test_retry_after_counts_from_the_reply_not_from_the_request(alerts: ModuleType, clock: Any) -> None:
    """A server that takes 3 s to answer 429 Retry-After: 5 is asked again 5 s after its answer."""
    sender = SlowScripted(clock, 3.0, Retryable(reason="HTTP 429", retry_after=5.0), Delivered(detail="sent"))
    assert run_slow(sender, [alerts.critical_ssh()], clock, DeliveryConfig()) == [(DeliveryStatus.DELIVERED, 2, "sent")]
    assert sender.started == [0.0, 8.0]
    assert clock.sleeps == [5.0]


def test_retry_after_holds_the_other_messages_to_the_destination_from_the_reply(alerts: ModuleType, clock: Any) -> None:
    sender = SlowScripted(
        clock, 2.0, Retryable(reason="HTTP 429", retry_after=4.0), Delivered(detail="a"), Delivered(detail="b")
    )
    batch = [alerts.critical_ssh(), alerts.multi_rule()]
    assert [status for status, _, _ in run_slow(sender, batch, clock, DeliveryConfig())] == [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.DELIVERED,
    ]
    assert sender.started == [0.0, 6.0, 8.0]


def test_backoff_after_a_slow_failure_counts_from_its_end(alerts: ModuleType, clock: Any) -> None:
    """A timeout after 3 s is retried a full backoff later, not at once."""
    sender = SlowScripted(clock, 3.0, Retryable(reason="timeout (ReadTimeout)"), Delivered(detail="sent"))
    config = DeliveryConfig(backoff_base=1.0, backoff_max=1.0)
    assert run_slow(sender, [alerts.critical_ssh()], clock, config)[0][:2] == (DeliveryStatus.DELIVERED, 2)
    (waited,) = clock.sleeps
    assert 0.5 <= waited <= 1.0
    assert sender.started == [0.0, 3.0 + waited]


def test_the_deadline_counts_the_time_the_failed_attempt_took(alerts: ModuleType, clock: Any) -> None:
    """Asked at 0, answered at 3 with Retry-After: 5: the retry would start at 8, past a 7 s deadline."""
    sender = SlowScripted(clock, 3.0, Retryable(reason="HTTP 429", retry_after=5.0), Delivered(detail="sent"))
    assert run_slow(sender, [alerts.critical_ssh()], clock, DeliveryConfig(deadline=7.0)) == [
        (
            DeliveryStatus.FAILED,
            1,
            "gave up after 1 attempts (a retry in 5.0s would pass the 7s delivery deadline): HTTP 429",
        )
    ]
    assert len(sender.sent) == 1
    assert clock.sleeps == []


def test_a_time_limit_stops_retries_and_waits_before_it(alerts: ModuleType, clock: Any) -> None:
    """10 s left, requests up to 2 s: a 429 Retry-After 5 answered at 3 s is retried at 8 s (it fits); the
    second 429 is not retried, and a message queued behind it is failed with the reason, not sent late."""
    sender = SlowScripted(
        clock, 3.0, Retryable(reason="HTTP 429", retry_after=5.0), Retryable(reason="HTTP 429", retry_after=5.0)
    )
    config = DeliveryConfig(timeout=2.0)
    out = run_slow(sender, [alerts.critical_ssh(), alerts.multi_rule()], clock, config, time_left=10.0)
    assert sender.started == [0.0, 8.0]
    assert clock.monotonic() <= 11.0  # the last reply came at 11 s: nothing started after the limit
    assert out[0][:2] == (DeliveryStatus.FAILED, 2)
    assert "8s delivery deadline" in out[0][2]  # 10 s left, less one request: the retry budget
    assert out[1][:2] == (DeliveryStatus.FAILED, 0)
    assert out[1][2].startswith("not sent: ")
    assert "left in this invocation" in out[1][2]


def test_no_request_starts_without_time_for_it(alerts: ModuleType, clock: Any) -> None:
    sender = SlowScripted(clock, 1.0, Delivered(detail="sent"))
    out = run_slow(sender, [alerts.critical_ssh()], clock, DeliveryConfig(timeout=2.0), time_left=1.5)
    assert sender.started == []
    assert out == [
        (
            DeliveryStatus.FAILED,
            0,
            "not sent: 1.5 s left in this invocation, less than one request may take (delivery.timeout: 2 s); the event will be retried",
        )
    ]
