"""The one delivery mechanism every channel shares: pacing, retries, isolation, outcome reporting.

Jobs from all channels are interleaved on one injected clock: the next job to run is the one whose own
backoff and whose destination's rate limit allow it earliest. A channel that fails for good (bad webhook,
wrong credentials, missing secret) stops only itself; every message still gets a final ``Delivery``.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from sgwatch.errors import DeliveryError
from sgwatch.model import Delivery, DeliveryStatus
from sgwatch.notify.config import ChannelConfig
from sgwatch.notify.logjson import emit
from sgwatch.notify.outcome import Attempt, Delivered, Message, Permanent, Retryable, Sender, message_id
from sgwatch.notify.ratelimit import RateLimiter
from sgwatch.notify.retry import retry_delay
from sgwatch.notify.runtime import Runtime
from sgwatch.notify.tuning import DeliveryConfig

OnDelivered = Callable[[ChannelConfig, Message], None]
T = TypeVar("T")


@dataclass(slots=True, kw_only=True)
class _Job:
    seq: int
    channel: ChannelConfig
    sender: Sender
    destination: str
    message: Message
    attempts: int = 0
    not_before: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The final result for one message on one channel."""

    channel: ChannelConfig
    message: Message
    status: DeliveryStatus
    attempts: int
    detail: str


@dataclass(slots=True, kw_only=True)
class _Run:
    config: DeliveryConfig
    rng: random.Random
    on_delivered: OnDelivered
    limiter: RateLimiter = field(default_factory=RateLimiter)
    outcomes: list[Outcome] = field(default_factory=list)


def run_jobs(
    work: Sequence[tuple[ChannelConfig, Sender, Sequence[Message]]],
    config: DeliveryConfig,
    runtime: Runtime,
    *,
    rng: random.Random,
    on_delivered: OnDelivered,
    limiter: RateLimiter | None = None,
    time_left: float | None = None,
) -> list[Outcome]:
    """Send every message of every channel; return one Outcome per message, in completion order.

    ``limiter`` carries the per-destination pacing (and any server-requested back-off) from one run to the
    next when given; it must be used with the same clock as ``runtime``. ``time_left``: seconds the run may
    take at most (a Lambda invocation's remaining time): no wait runs past it, no request starts unless it can
    end before it (``delivery.timeout``), no retry is scheduled that could not; what could not be sent fails
    with the reason.
    """
    start = runtime.clock.monotonic()
    stop_at = None if time_left is None else start + time_left
    if time_left is not None:  # a retry must leave room for its own request
        config = dataclasses.replace(config, deadline=min(config.deadline, max(0.0, time_left - config.timeout)))
    run = _Run(config=config, rng=rng, on_delivered=on_delivered, limiter=limiter or RateLimiter())
    jobs: list[_Job] = []
    for channel, sender, messages in work:
        if not messages:
            continue
        short = _too_short(runtime, stop_at, config.timeout)
        if short is not None:
            _fail_unsent(run, channel, messages, f"not sent: {short}")
            continue
        destination = _contained(channel, sender.destination, during=" while resolving the destination")
        if isinstance(destination, Permanent):
            _fail_unsent(run, channel, messages, f"not sent: {destination.reason}")
            continue
        run.limiter.configure(destination, channel.rate_limit)
        for message in messages:
            jobs.append(_Job(seq=len(jobs), channel=channel, sender=sender, destination=destination, message=message))
    while jobs:
        job = min(jobs, key=lambda j: (max(j.not_before, run.limiter.ready_at(j.destination)), j.seq))
        ready = max(job.not_before, run.limiter.ready_at(job.destination))
        now = runtime.clock.monotonic()
        if ready > now:
            runtime.clock.sleep((ready if stop_at is None else min(ready, stop_at)) - now)
            now = runtime.clock.monotonic()
        short = _too_short(runtime, stop_at, config.timeout)
        if short is not None:  # the wait ended at the time limit, or it came too close
            done = f"stopped after {job.attempts} attempts" if job.attempts else "not sent"
            _give_up(run, jobs, job, f"{done}: {short}")
            continue
        run.limiter.record(job.destination, now)  # pacing counts sends as they start
        attempt = _contained(job.channel, partial(job.sender.send, job.message), message_id=message_id(job.message))
        answered = runtime.clock.monotonic()  # a wait (Retry-After, backoff) runs from the reply, not the request
        job.attempts += 1
        emit(
            logging.DEBUG,
            "attempt",
            channel=job.channel.name,
            message_id=message_id(job.message),
            attempt=job.attempts,
            outcome=type(attempt).__name__.lower(),
            detail=_reason(attempt),
        )
        if isinstance(attempt, Delivered):
            jobs.remove(job)
            _finish(
                run, job.channel, job.message, DeliveryStatus.DELIVERED, attempts=job.attempts, detail=attempt.detail
            )
            _record_sent(run, job)
        elif isinstance(attempt, Permanent):
            _give_up(run, jobs, job, attempt.reason)
            if attempt.channel_wide:
                _stop_channel(run, jobs, job.channel, attempt.reason)
        else:
            _reschedule(run, jobs, job, attempt, answered=answered, start=start)
    return run.outcomes


def _too_short(runtime: Runtime, stop_at: float | None, request: float) -> str | None:
    """Why no request may start now (less time left than one request may take), or None."""
    if stop_at is None:
        return None
    left = stop_at - runtime.clock.monotonic()
    if left >= request:
        return None
    return (
        f"{max(0.0, left):.1f} s left in this invocation, less than one request may take "
        f"(delivery.timeout: {request:g} s); the event will be retried"
    )


def _contained(channel: ChannelConfig, call: Callable[[], T], *, during: str = "", **log: str) -> T | Permanent:
    """``call()`` of one adapter, with its secret failures and its bugs contained to its channel.

    A ``DeliveryError`` (a missing secret, an invalid destination) fails the whole channel; any other exception
    is an adapter bug: logged with its traceback (``log`` adds fields to that line), it fails this call only.
    """
    try:
        return call()
    except DeliveryError as exc:
        return Permanent(reason=str(exc), channel_wide=True)
    except Exception as exc:  # one broken adapter must not stop the other channels
        detail = f"{type(exc).__name__}: {exc}"
        emit(logging.ERROR, "adapter_error", exc_info=True, channel=channel.name, detail=detail, **log)
        return Permanent(reason=f"internal error in the {channel.type} adapter{during}: {detail}")


def _fail_unsent(run: _Run, channel: ChannelConfig, messages: Sequence[Message], detail: str) -> None:
    for message in messages:
        _finish(run, channel, message, DeliveryStatus.FAILED, attempts=0, detail=detail)


def _give_up(run: _Run, jobs: list[_Job], job: _Job, detail: str) -> None:
    jobs.remove(job)
    _finish(run, job.channel, job.message, DeliveryStatus.FAILED, attempts=job.attempts, detail=detail)


def _stop_channel(run: _Run, jobs: list[_Job], channel: ChannelConfig, reason: str) -> None:
    """Finalise the channel's other queued messages once it has failed for good."""
    for other in [j for j in jobs if j.channel.name == channel.name]:
        done = f"stopped after {other.attempts} attempts" if other.attempts else "not sent"
        _give_up(run, jobs, other, f"{done}: channel failed permanently: {reason}")


def _reschedule(run: _Run, jobs: list[_Job], job: _Job, attempt: Retryable, *, answered: float, start: float) -> None:
    """Schedule the next attempt ``delay`` seconds after the failed one ended (``answered``: its reply, its
    timeout or its connection error), unless that start would pass the deadline counted from ``start``."""
    config = run.config
    if job.attempts >= config.max_attempts:
        _give_up(run, jobs, job, f"gave up after {job.attempts} attempts: {attempt.reason}")
        return
    delay = retry_delay(
        job.attempts,
        attempt.retry_after,
        base=config.backoff_base,
        cap=config.backoff_max,
        retry_after_max=config.retry_after_max,
        rng=run.rng,
    )
    if answered + delay - start > config.deadline:
        _give_up(
            run,
            jobs,
            job,
            f"gave up after {job.attempts} attempts (a retry in {delay:.1f}s would pass the "
            f"{config.deadline:g}s delivery deadline): {attempt.reason}",
        )
        return
    job.not_before = answered + delay
    if attempt.retry_after is not None:
        run.limiter.block_until(job.destination, job.not_before)
    emit(
        logging.INFO,
        "retry",
        channel=job.channel.name,
        message_id=message_id(job.message),
        attempt=job.attempts,
        delay=round(delay, 3),
        detail=attempt.reason,
    )


def _record_sent(run: _Run, job: _Job) -> None:
    try:
        run.on_delivered(job.channel, job.message)
    except Exception as exc:  # a ledger failure must not undo a delivery
        emit(
            logging.ERROR,
            "ledger_error",
            channel=job.channel.name,
            message_id=message_id(job.message),
            detail=f"{type(exc).__name__}: {exc}",
        )


def _reason(attempt: Attempt) -> str:
    return attempt.detail if isinstance(attempt, Delivered) else attempt.reason


def _finish(
    run: _Run, channel: ChannelConfig, message: Message, status: DeliveryStatus, *, attempts: int, detail: str
) -> None:
    run.outcomes.append(Outcome(channel=channel, message=message, status=status, attempts=attempts, detail=detail))


def report(delivery: Delivery, channel_type: str) -> None:
    """The structured log line of one final outcome."""
    level = logging.WARNING if delivery.status is DeliveryStatus.FAILED else logging.INFO
    emit(
        level,
        "delivery",
        channel=delivery.channel,
        channel_type=channel_type,
        alert_id=delivery.alert_id,
        status=str(delivery.status),
        attempts=delivery.attempts,
        detail=delivery.detail,
    )
