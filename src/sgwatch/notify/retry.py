"""When to try again: capped exponential backoff with jitter, and the server's Retry-After (capped)."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date; None when absent/invalid."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        from email.utils import parsedate_to_datetime  # noqa: PLC0415 - ~12 ms of imports, for HTTP-dates only

        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Wait before retry number ``attempt`` (1 = first retry): half fixed, half random, never above ``cap``."""
    ceiling = min(cap, base * (2.0 ** max(0, attempt - 1)))
    return ceiling / 2.0 + rng.uniform(0.0, ceiling / 2.0)


def retry_delay(
    attempt: int,
    retry_after: float | None,
    *,
    base: float,
    cap: float,
    retry_after_max: float,
    rng: random.Random,
) -> float:
    """The server's Retry-After when given (capped at ``retry_after_max``), else backoff."""
    if retry_after is not None:
        return min(retry_after, retry_after_max)
    return backoff_delay(attempt, base, cap, rng)
