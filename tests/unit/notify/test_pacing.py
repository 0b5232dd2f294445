"""Retry-After parsing, backoff with jitter, and per-destination rate limits on a manual clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from sgwatch.notify.fields import RateLimit
from sgwatch.notify.ratelimit import RateLimiter
from sgwatch.notify.retry import backoff_delay, parse_retry_after, retry_delay

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 11:59:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_seconds_and_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (12, 8.0)]:
        delays = [backoff_delay(attempt, 1.0, 8.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not fixed


def test_retry_after_wins_over_backoff_but_is_capped() -> None:
    rng = random.Random(1)
    assert retry_delay(1, 5.0, base=1.0, cap=30.0, retry_after_max=60.0, rng=rng) == 5.0
    assert retry_delay(1, 600.0, base=1.0, cap=30.0, retry_after_max=60.0, rng=rng) == 60.0
    assert 0.5 <= retry_delay(1, None, base=1.0, cap=30.0, retry_after_max=60.0, rng=rng) <= 1.0


def test_sliding_window_rate_limit() -> None:
    limiter = RateLimiter()
    limiter.configure("pd", RateLimit(count=3, period=60.0))
    times = []
    now = 0.0
    for _ in range(7):
        now = max(now, limiter.ready_at("pd"))
        limiter.record("pd", now)
        times.append(now)
    assert times == [0.0, 0.0, 0.0, 60.0, 60.0, 60.0, 120.0]


def test_one_per_second_and_retry_after_blocks_the_destination() -> None:
    limiter = RateLimiter()
    limiter.configure("slack", RateLimit(count=1, period=1.0))
    limiter.record("slack", 10.0)
    assert limiter.ready_at("slack") == 11.0
    limiter.block_until("slack", 30.0)
    assert limiter.ready_at("slack") == 30.0
    assert limiter.ready_at("other") == float("-inf")


def test_shared_destination_keeps_the_strictest_limit() -> None:
    limiter = RateLimiter()
    limiter.configure("d", RateLimit(count=10, period=1.0))
    limiter.configure("d", RateLimit(count=1, period=1.0))
    limiter.configure("d", RateLimit(count=5, period=1.0))
    limiter.record("d", 0.0)
    assert limiter.ready_at("d") == 1.0
