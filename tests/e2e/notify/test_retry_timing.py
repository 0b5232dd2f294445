"""Waits between attempts on the real clock against a slow local server: Retry-After and backoff run from the
moment the failed attempt ended (its reply, its timeout), never from when it was sent."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from sgwatch.model import DeliveryStatus
from sgwatch.notify.delivery import deliver_alerts

pytestmark = pytest.mark.e2e

SLOW = 0.5  # seconds the server takes before its first reply
EARLY = 0.01  # monotonic clock granularity


@pytest.fixture
def timed_sink(support: Callable[[str], ModuleType]) -> Iterator[Any]:
    """An HTTP sink that also notes, on this process's monotonic clock, when each request arrived."""
    base = support("support/http_sink.py").HttpSink

    class TimedSink(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.arrivals: list[float] = []
            super().__init__()

        def _record(self, request: Any) -> None:
            self.arrivals.append(time.monotonic())  # before the scripted delay: the moment the request arrived
            super()._record(request)

    sink = TimedSink()
    yield sink
    sink.stop()


def webhook(config: Any, sink: Any, timeout: float) -> Any:
    return config(f"""
        delivery:
          timeout: {timeout}
          backoff_base: 1
          backoff_max: 1
          max_attempts: 3
          deadline: 10
        notify:
          - type: webhook
            url: {sink.url}/hook
    """)


def retry_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if '"retry"' in r.getMessage()]
    return [float(line["delay"]) for line in lines]


def test_retry_after_from_a_slow_server_is_counted_from_its_reply(
    alerts: ModuleType, timed_sink: Any, config: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sgwatch.notify")
    timed_sink.script("/hook", (429, "slow down", {"Retry-After": "1"}, SLOW), (200, "ok"))
    deliveries = deliver_alerts([alerts.critical_ssh()], webhook(config, timed_sink, timeout=3))
    assert [(d.status, d.attempts) for d in deliveries] == [(DeliveryStatus.DELIVERED, 2)]
    assert retry_delays(caplog) == [1.0]
    first, second = timed_sink.arrivals
    replied = first + SLOW  # the server answered no sooner than this
    assert second - replied >= 1.0 - EARLY


def test_backoff_after_a_timeout_is_counted_from_the_timeout(
    alerts: ModuleType, timed_sink: Any, config: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sgwatch.notify")
    timeout = 0.4
    timed_sink.script("/hook", (200, "too late", {}, timeout + 0.3), (200, "ok"))
    deliveries = deliver_alerts(
        [alerts.critical_ssh()], webhook(config, timed_sink, timeout=timeout), rng=random.Random(3)
    )
    assert [(d.status, d.attempts) for d in deliveries] == [(DeliveryStatus.DELIVERED, 2)]
    (delay,) = retry_delays(caplog)
    assert 0.5 <= delay <= 1.0
    first, second = timed_sink.arrivals
    assert second - first >= timeout + delay - EARLY
