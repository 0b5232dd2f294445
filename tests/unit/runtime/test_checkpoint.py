"""The LookupEvents checkpoint: window, advance (never past a failure), prune, atomic file round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sgwatch.errors import SourceError
from sgwatch.runtime.checkpoint import Checkpoint, load_checkpoint, save_checkpoint

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
LOOKBACK = timedelta(minutes=20)


def test_first_poll_reads_the_lookback_window() -> None:
    assert Checkpoint().window_start(T0, LOOKBACK) == T0 - LOOKBACK


def test_advance_moves_to_the_read_time_and_keeps_ids_inside_the_window() -> None:
    state = Checkpoint(time=T0, seen={"old": T0 - timedelta(hours=1), "recent": T0 - timedelta(minutes=5)})
    after = state.advance(T0 + timedelta(minutes=1), {"new": T0 + timedelta(seconds=30)}, (), LOOKBACK)
    assert after.time == T0 + timedelta(minutes=1)
    assert set(after.seen) == {"recent", "new"}
    assert after.window_start(T0 + timedelta(minutes=2), LOOKBACK) == T0 + timedelta(minutes=1) - LOOKBACK


def test_a_failed_event_holds_the_window_back_and_is_not_seen() -> None:
    failed_at = T0 - timedelta(minutes=3)
    after = Checkpoint(time=T0 - timedelta(minutes=10)).advance(
        T0, {"ok": T0 - timedelta(minutes=1)}, [failed_at], LOOKBACK
    )
    assert after.time == failed_at
    assert "ok" in after.seen
    assert after.window_start(T0 + timedelta(hours=5), LOOKBACK) <= failed_at


def test_round_trip_and_atomic_write(tmp_path: Path) -> None:
    path = tmp_path / "state" / "lookup.json"
    assert load_checkpoint(path) == Checkpoint()
    state = Checkpoint(time=T0, seen={"b": T0, "a": T0 - timedelta(seconds=1)})
    save_checkpoint(path, state)
    assert load_checkpoint(path) == state
    assert [p.name for p in path.parent.iterdir()] == ["lookup.json"]


@pytest.mark.parametrize(
    "text", ["{not json", '{"version": 9}', '{"version": 1, "time": 5}', '{"version": 1, "seen": []}']
)
def test_a_damaged_checkpoint_is_an_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cp.json"
    path.write_text(text)
    with pytest.raises(SourceError, match=r"cp\.json: .*checkpoint.*\(fix or delete the file\)"):
        load_checkpoint(path)
