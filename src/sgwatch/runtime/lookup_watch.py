"""``sgwatch watch --lookup-events``: poll CloudTrail LookupEvents, run new events through the runtime,
keep a checkpoint so restarts neither miss nor repeat events."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sgwatch.errors import SourceError
from sgwatch.normalize.events import SG_EVENT_NAMES
from sgwatch.runtime.app import App
from sgwatch.runtime.batch import BatchResult, process_isolated
from sgwatch.runtime.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from sgwatch.runtime.logs import log_event
from sgwatch.sources.lookup import MIN_INTERVAL, LookupEvent, lookup_events


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupOptions:
    """How to poll."""

    checkpoint_path: Path | None = None  # None: keep the checkpoint in memory only
    interval: float = 60.0  # seconds between polls
    lookback: timedelta = timedelta(minutes=20)  # how late CloudTrail may make an event visible
    min_call_interval: float = MIN_INTERVAL
    event_names: tuple[str, ...] = field(default=SG_EVENT_NAMES)


def poll_once(
    app: App, client: Any, state: Checkpoint, options: LookupOptions, now: datetime
) -> tuple[Checkpoint, BatchResult | None]:
    """One poll: read the window, process the new events, return the advanced checkpoint (not yet saved)."""
    start = state.window_start(now, options.lookback)
    fresh: dict[str, LookupEvent] = {}
    for event in lookup_events(
        client, options.event_names, start=start, end=now, min_interval=options.min_call_interval
    ):
        if event.event_id and event.event_id not in state.seen:
            fresh.setdefault(event.event_id, event)
    if not fresh:
        return state.advance(now, {}, (), options.lookback), None
    # Oldest first. Times have one-second resolution and LookupEvents answers newest first, so within a second
    # the reversed answer keeps each event name's own order (the event id would be an arbitrary one).
    ordered = list(fresh.values())[::-1]
    ordered.sort(key=lambda e: e.event_time)  # stable: ties keep the reversed answer's order
    result = process_isolated([e.item for e in ordered], app)
    unfixable = {p.item_id for p in result.problems}  # a record that cannot be read will not improve
    retry_ids = result.failed_items - unfixable
    handled = {i: e.event_time for i, e in fresh.items() if i not in retry_ids}
    retry = [fresh[i].event_time for i in retry_ids if i in fresh]
    log_event(
        logging.ERROR if retry else logging.INFO,
        "lookup_poll",
        start=start.isoformat(),
        end=now.isoformat(),
        events=len(fresh),
        retry=len(retry) or None,
    )
    return state.advance(now, handled, retry, options.lookback), result


def run_lookup_watch(
    app: App,
    client: Any,
    options: LookupOptions,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> bool:
    """Poll until ``stop`` is set (or once); True when every processed event succeeded."""
    stop = stop or threading.Event()
    path = options.checkpoint_path
    state = load_checkpoint(path) if path else Checkpoint()
    ok = True
    while True:
        try:
            state, result = poll_once(app, client, state, options, now())
        except SourceError as exc:
            if once:
                raise
            log_event(logging.ERROR, "lookup_failed", detail=str(exc))
        else:
            if path is not None:
                save_checkpoint(path, state)
            ok = ok and (result is None or result.ok)
        if once or stop.wait(options.interval):
            break
    log_event(logging.INFO, "watch_stopped", mode="lookup-events")
    return ok
