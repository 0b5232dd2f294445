"""How much of a Lambda invocation's remaining time the work may use, and when a step no longer fits."""

from __future__ import annotations

import pytest

from sgwatch.runtime.deadline import Deadline


@pytest.mark.parametrize(("remaining", "usable"), [(60.0, 55.0), (20.0, 18.0), (3.0, 2.5), (0.2, -0.3)])
def test_a_margin_is_kept_for_the_report(remaining: float, usable: float) -> None:
    """10% of the remaining time, at least 0.5 s and at most 5 s."""
    assert Deadline.within(remaining).left() == pytest.approx(usable, abs=0.05)


def test_a_step_starts_only_when_it_fits() -> None:
    deadline = Deadline.within(10.0)  # 9 s usable
    assert deadline.too_short(5.0) is None
    assert deadline.too_short(12.0) == "9.0 s left in this invocation, 12 s needed; the event will be retried"
    assert Deadline.within(0.0).too_short(1.0) == "0.0 s left in this invocation, 1 s needed; the event will be retried"
