"""Per-destination pacing: at most N sends per period to one webhook URL or routing key."""

from __future__ import annotations

from collections import deque

from sgwatch.notify.fields import RateLimit


class RateLimiter:
    """Sliding-window limits keyed by destination, on an injected monotonic time."""

    __slots__ = ("_blocked", "_limits", "_sent")

    def __init__(self) -> None:
        self._limits: dict[str, RateLimit | None] = {}
        self._sent: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}

    def configure(self, destination: str, limit: RateLimit | None) -> None:
        """Set the limit of one destination; the strictest wins when channels share one."""
        known = self._limits.get(destination)
        stricter = known is not None and limit is not None and limit.period / limit.count > known.period / known.count
        if destination not in self._limits or known is None or stricter:
            self._limits[destination] = limit

    def ready_at(self, destination: str) -> float:
        """Earliest monotonic time a send to ``destination`` is allowed."""
        ready = self._blocked.get(destination, float("-inf"))
        limit = self._limits.get(destination)
        sent = self._sent.get(destination)
        if limit is not None and sent is not None and len(sent) >= limit.count:
            ready = max(ready, sent[-limit.count] + limit.period)
        return ready

    def record(self, destination: str, at: float) -> None:
        """A send happened at ``at``."""
        limit = self._limits.get(destination)
        if limit is None:
            return
        sent = self._sent.setdefault(destination, deque(maxlen=limit.count))
        if sent.maxlen != limit.count:
            sent = self._sent[destination] = deque(sent, maxlen=limit.count)
        sent.append(at)

    def block_until(self, destination: str, until: float) -> None:
        """The destination asked us to back off (429 Retry-After): hold every message to it."""
        self._blocked[destination] = max(until, self._blocked.get(destination, float("-inf")))
