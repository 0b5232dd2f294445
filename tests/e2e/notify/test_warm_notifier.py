"""One Notifier across batches against a real keep-alive HTTP server on 127.0.0.1: the connection is reused,
and a connection the server closed, dropped or that the notifier closed itself never costs an alert."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from sgwatch.model import DeliveryStatus
from sgwatch.notify import Notifier
from sgwatch.notify.delivery import deliver_alerts


@pytest.fixture
def server(http_sink: Callable[..., Any]) -> Any:
    """A keep-alive webhook receiver that counts its TCP connections."""
    return http_sink(keep_alive=True)


def webhook(config: Any, server: Any) -> Any:
    return config(f"notify:\n  - type: webhook\n    url: {server.url}\n    min_severity: info\n")


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def outcomes(deliveries: Any) -> list[tuple[DeliveryStatus, int]]:
    return [(d.status, d.attempts) for d in deliveries]


def test_two_batches_through_one_notifier_use_one_connection(
    alerts: ModuleType, config: Any, server: Any, clock: Any
) -> None:
    first, second, third = alerts.burst(3)
    with Notifier(webhook(config, server), clock=clock) as notifier:
        parsed = notifier.config
        assert outcomes(notifier.deliver([first])) == [(DeliveryStatus.DELIVERED, 1)]
        assert outcomes(notifier.deliver([second, third])) == [(DeliveryStatus.DELIVERED, 1)] * 2
        assert notifier.config is parsed
    assert server.event_ids() == ["burst-0000", "burst-0001", "burst-0002"]
    assert server.accepted == 1
    wait_for(lambda: server.finished == 1)  # close() hung up


def test_one_shot_calls_connect_each_time(alerts: ModuleType, config: Any, server: Any, clock: Any) -> None:
    cfg = webhook(config, server)
    first, second = alerts.burst(2)
    deliver_alerts([first], cfg, clock=clock)
    deliver_alerts([second], cfg, clock=clock)
    assert server.event_ids() == ["burst-0000", "burst-0001"]
    assert server.accepted == 2


def test_a_connection_the_server_closed_is_replaced_without_a_retry(
    alerts: ModuleType, config: Any, server: Any, clock: Any
) -> None:
    server.close_after_reply = True  # like an idle timeout that fired between two batches
    first, second = alerts.burst(2)
    with Notifier(webhook(config, server), clock=clock) as notifier:
        assert outcomes(notifier.deliver([first])) == [(DeliveryStatus.DELIVERED, 1)]
        wait_for(lambda: server.finished == 1)
        assert outcomes(notifier.deliver([second])) == [(DeliveryStatus.DELIVERED, 1)]
    assert server.event_ids() == ["burst-0000", "burst-0001"]
    assert server.accepted == 2
    assert clock.sleeps == []


def test_a_dropped_connection_is_retried_on_a_new_one_and_the_next_batch_is_fine(
    alerts: ModuleType, config: Any, server: Any, clock: Any
) -> None:
    first, second = alerts.burst(2)
    server.drop_next = 1  # read the request, hang up without answering
    with Notifier(webhook(config, server), clock=clock) as notifier:
        (dropped,) = notifier.deliver([first])
        assert (dropped.status, dropped.attempts) == (DeliveryStatus.DELIVERED, 2)
        assert outcomes(notifier.deliver([second])) == [(DeliveryStatus.DELIVERED, 1)]
    assert server.dropped == 1
    assert server.event_ids() == ["burst-0000", "burst-0001"]
    assert server.accepted == 2  # the dropped one, then one for the retry and the next batch
    assert len(clock.sleeps) == 1  # the one backoff before the retry


def test_a_closed_notifier_reconnects_on_the_next_batch(
    alerts: ModuleType, config: Any, server: Any, clock: Any
) -> None:
    first, second = alerts.burst(2)
    notifier = Notifier(webhook(config, server), clock=clock)
    assert outcomes(notifier.deliver([first])) == [(DeliveryStatus.DELIVERED, 1)]
    notifier.close()
    wait_for(lambda: server.finished == 1)
    assert outcomes(notifier.deliver([second])) == [(DeliveryStatus.DELIVERED, 1)]
    notifier.close()
    assert server.accepted == 2
    assert server.event_ids() == ["burst-0000", "burst-0001"]


def test_an_unreachable_destination_fails_one_batch_and_the_next_one_gets_through(
    alerts: ModuleType, config: Any, server: Any, clock: Any, http_sink: Callable[..., Any]
) -> None:
    first, second = alerts.burst(2)
    port = server.port
    server.stop()  # nothing listens on the port any more
    with Notifier(webhook(config, server), clock=clock) as notifier:
        (failed,) = notifier.deliver([first])
        assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, 4)
        assert "connection error (ConnectError" in failed.detail
        assert server.url not in failed.detail
        revived = http_sink(keep_alive=True, port=port)
        deliveries = notifier.deliver([first, second])  # the failed alert was not marked sent
    assert outcomes(deliveries) == [(DeliveryStatus.DELIVERED, 1)] * 2
    assert revived.event_ids() == ["burst-0000", "burst-0001"]
    assert revived.accepted == 1
