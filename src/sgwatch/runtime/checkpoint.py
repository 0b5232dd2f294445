"""The LookupEvents checkpoint: the newest event time handled, and the ids handled near it.

CloudTrail makes events visible in LookupEvents minutes after they happen, and not always in order, so
each poll reads from ``time - lookback`` and skips the ids already handled; ids older than the window are
forgotten. A restart reads the file and continues: nothing is missed, nothing is repeated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sgwatch.errors import SourceError

VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """Where polling stands: events up to ``time`` were read, and those handled are in ``seen``.

    ``time`` None: never polled.
    """

    time: datetime | None = None
    seen: Mapping[str, datetime] = field(default_factory=dict)  # event id -> event time

    def window_start(self, now: datetime, lookback: timedelta) -> datetime:
        """Where the next poll starts reading."""
        return (self.time or now) - lookback

    def advance(
        self,
        read_until: datetime,
        handled: Mapping[str, datetime],
        retry: Iterable[datetime],
        lookback: timedelta,
    ) -> Checkpoint:
        """After a poll that read events up to ``read_until``: ``handled`` events are done; the events at
        the ``retry`` times failed and must be read again (the window will not move past them)."""
        newest = max(read_until, self.time) if self.time else read_until
        pending = list(retry)
        if pending:
            newest = min(newest, *pending)
        horizon = newest - lookback
        seen = {i: t for i, t in {**self.seen, **handled}.items() if t >= horizon}
        return Checkpoint(time=newest, seen=seen)


def _time(text: object, where: str) -> datetime:
    if not isinstance(text, str):
        raise ValueError(f"{where}: expected an ISO 8601 time")
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint in ``path``; an empty one when the file does not exist yet."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Checkpoint()
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: cannot read the checkpoint: {exc} (fix or delete the file)") from exc
    try:
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            raise ValueError(f"expected a version {VERSION} checkpoint object")
        seen = doc.get("seen", {})
        if not isinstance(seen, dict):
            raise ValueError("seen: expected an object of event id -> time")
        return Checkpoint(
            time=None if doc.get("time") is None else _time(doc["time"], "time"),
            seen={str(k): _time(v, f"seen.{k}") for k, v in seen.items()},
        )
    except ValueError as exc:
        raise SourceError(f"{path}: invalid checkpoint: {exc} (fix or delete the file)") from exc


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Write atomically (temp file + rename): a crash leaves the old or the new checkpoint, never half."""
    doc = {
        "version": VERSION,
        "time": None if checkpoint.time is None else checkpoint.time.isoformat(),
        "seen": {k: v.isoformat() for k, v in sorted(checkpoint.seen.items())},
    }
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise SourceError(f"{path}: cannot write the checkpoint: {exc.strerror or exc}") from exc
