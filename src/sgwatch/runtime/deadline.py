"""The time an invocation has left. Lambda stops a function at its timeout without a report (no
``batchItemFailures``, no error: the whole batch comes back later), so each slow step starts only while it
can still end in time, and the handler always returns its report."""

from __future__ import annotations

import time
from dataclasses import dataclass

MARGIN_SHARE = 0.1  # of the remaining time, kept for the report (audit, ledger writes, logs, the answer)
MARGIN_MIN = 0.5
MARGIN_MAX = 5.0
FETCH_RESERVE = 5.0  # seconds one S3 object download may take
REVERT_RESERVE = 5.0  # seconds one EC2 revert and its ledger writes may take


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadline:
    """When the work must be done, on ``time.monotonic()``."""

    at: float

    @classmethod
    def within(cls, remaining: float) -> Deadline:
        """The deadline of an invocation with ``remaining`` seconds left, less a margin for the report."""
        margin = min(MARGIN_MAX, max(MARGIN_MIN, remaining * MARGIN_SHARE))
        return cls(at=time.monotonic() + remaining - margin)

    def left(self) -> float:
        """Seconds until the deadline (negative once it passed)."""
        return self.at - time.monotonic()

    def too_short(self, needed: float) -> str | None:
        """Why a step taking up to ``needed`` seconds must not start now, or None when it fits."""
        left = self.left()
        if left >= needed:
            return None
        return f"{max(0.0, left):.1f} s left in this invocation, {needed:g} s needed; the event will be retried"
