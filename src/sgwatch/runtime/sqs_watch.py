"""``sgwatch watch --sqs-queue-url``: long-poll a queue, run each batch through the runtime, delete only
what succeeded; failures stay in the queue for its redrive policy / dead-letter queue."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from sgwatch.errors import SourceError
from sgwatch.runtime.app import App
from sgwatch.runtime.batch import process_isolated
from sgwatch.runtime.logs import log_event
from sgwatch.sources.sqs import delete, message_items, receive


@dataclass(frozen=True, slots=True, kw_only=True)
class SqsOptions:
    """How to poll."""

    queue_url: str
    wait_seconds: int = 20  # long-poll wait (SQS allows 0..20)
    max_messages: int = 10
    visibility_timeout: int | None = None  # None: the queue's own
    max_polls: int | None = None  # stop after this many receives (tests, one-shot runs)
    error_backoff: float = 1.0  # first wait after a failed receive, doubling
    error_backoff_max: float = 30.0


@dataclass(slots=True)
class WatchStats:
    """What one run did."""

    polls: int = 0
    received: int = 0
    deleted: int = 0
    kept: int = 0  # left in the queue (failed, or not deleted)


def run_sqs_watch(app: App, client: Any, options: SqsOptions, *, stop: threading.Event | None = None) -> WatchStats:
    """Poll until ``stop`` is set (checked between batches) or ``max_polls`` is reached.

    A failed first receive raises SourceError (wrong URL or permissions); later ones are retried with backoff.
    """
    stop = stop or threading.Event()
    stats = WatchStats()
    backoff = options.error_backoff
    origin = f"sqs:{options.queue_url.rstrip('/').rsplit('/', 1)[-1]}"
    while not stop.is_set() and (options.max_polls is None or stats.polls < options.max_polls):
        stats.polls += 1
        try:
            messages = receive(
                client,
                options.queue_url,
                wait_seconds=options.wait_seconds,
                max_messages=options.max_messages,
                visibility_timeout=options.visibility_timeout,
            )
        except SourceError as exc:
            if stats.polls == 1:
                raise
            log_event(logging.ERROR, "receive_failed", detail=str(exc), retry_in=backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, options.error_backoff_max)
            continue
        backoff = options.error_backoff
        if not messages:
            continue
        stats.received += len(messages)
        result = process_isolated(message_items(messages, origin), app)
        done = [m for m in messages if m.message_id not in result.failed_items]
        not_deleted = delete(client, options.queue_url, done)
        stats.deleted += len(done) - len(not_deleted)
        kept = sorted(result.failed_items | set(not_deleted))
        stats.kept += len(kept)
        log_event(
            logging.ERROR if kept else logging.INFO,
            "sqs_batch",
            received=len(messages),
            deleted=len(done) - len(not_deleted),
            kept=kept or None,
            not_deleted=not_deleted or None,  # message id -> why SQS refused to delete it
        )
    log_event(logging.INFO, "watch_stopped", mode="sqs", polls=stats.polls, received=stats.received,
              deleted=stats.deleted, kept=stats.kept)  # fmt: skip
    return stats
