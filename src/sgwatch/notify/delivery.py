"""Public entry points: deliver alerts to every configured channel, or send a test alert.

Per channel: filter (severity, accounts, regions, findings) -> drop what the ledger says was sent ->
fold bursts into digests -> send through the shared engine -> record in the ledger. One ``Delivery`` comes
back per (channel, alert), plus one per digest.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Sequence

from sgwatch.errors import ConfigError, SgwatchError
from sgwatch.model import Alert, Delivery, DeliveryStatus
from sgwatch.notify.channels import make_sender
from sgwatch.notify.clock import Clock, SystemClock
from sgwatch.notify.config import ChannelConfig, NotifyConfig, parse_notify
from sgwatch.notify.engine import OnDelivered, Outcome, report, run_jobs
from sgwatch.notify.ledger import MemoryLedger, SentLedger
from sgwatch.notify.logjson import emit
from sgwatch.notify.outcome import Digest, Message
from sgwatch.notify.routing import fold_bursts, merge_duplicates, select
from sgwatch.notify.runtime import Runtime
from sgwatch.notify.sample import sample_alert
from sgwatch.settings import Settings


def deliver_alerts(
    alerts: Sequence[Alert],
    settings: Settings,
    *,
    ledger: SentLedger | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> tuple[Delivery, ...]:
    """Send ``alerts`` to the channels of ``settings`` (console when none); one Delivery per outcome.

    Raises ConfigError for an invalid ``notify:``/``delivery:`` section before anything is sent. Delivery
    failures never raise: they come back as ``DeliveryStatus.FAILED`` with the reason.
    """
    config = parse_notify(settings)
    ledger = MemoryLedger() if ledger is None else ledger
    unique = merge_duplicates(alerts)
    position = {alert.alert_id: index for index, alert in enumerate(unique)}
    skipped: list[Delivery] = []
    plans: list[tuple[ChannelConfig, tuple[Message, ...]]] = []
    for channel in config.channels:
        wanted: list[Alert] = []
        for alert in unique:
            part, why = select(alert, channel)
            if part is not None:
                part, why = _unsent(part, channel, ledger)
            if part is None:
                skipped.append(
                    Delivery(channel=channel.name, alert_id=alert.alert_id, status=DeliveryStatus.SKIPPED, detail=why)
                )
            else:
                wanted.append(part)
        plans.append((channel, fold_bursts(wanted, channel.burst)))

    def mark(channel: ChannelConfig, message: Message) -> None:
        for alert in message.alerts if isinstance(message, Digest) else (message,):
            ledger.mark_sent(channel.name, alert.alert_id, tuple(j.change.rule_key for j in alert.judgements))

    outcomes = _run(config, settings=settings, plans=plans, clock=clock, rng=rng, mark=mark)
    for outcome in outcomes:
        if isinstance(outcome.message, Digest):
            position[outcome.message.digest_id] = min(position[a.alert_id] for a in outcome.message.alerts)
    deliveries = skipped + [d for outcome in outcomes for d in _deliveries(outcome)]
    order = {channel.name: index for index, channel in enumerate(config.channels)}

    def sort_key(delivery: Delivery) -> tuple[int, int, int]:
        digest = delivery.alert_id.startswith("digest:")
        return (order[delivery.channel], position[delivery.alert_id], 0 if digest else 1)

    result = tuple(sorted(deliveries, key=sort_key))
    types = {channel.name: channel.type for channel in config.channels}
    for delivery in result:
        report(delivery, types[delivery.channel])
    return result


def send_test_alert(
    settings: Settings, *, channels: Sequence[str] = (), clock: Clock | None = None
) -> tuple[Delivery, ...]:
    """Send the sample alert to every channel (or the named ones), ignoring filters, ledger and burst guard."""
    config = parse_notify(settings)
    chosen = [c for c in config.channels if not channels or c.name in channels]
    unknown = sorted(set(channels) - {c.name for c in config.channels})
    if unknown:
        known = ", ".join(c.name for c in config.channels)
        raise ConfigError(f"{settings.source}: no channel named {', '.join(unknown)} (channels: {known})")
    alert = sample_alert((clock or SystemClock()).now().replace(microsecond=0))
    outcomes = _run(
        config,
        settings=settings,
        plans=[(c, (alert,)) for c in chosen],
        clock=clock,
        rng=None,
        mark=lambda _c, _m: None,
    )
    result = tuple(d for outcome in outcomes for d in _deliveries(outcome))
    order = {c.name: i for i, c in enumerate(chosen)}
    result = tuple(sorted(result, key=lambda d: order[d.channel]))
    for delivery in result:
        report(delivery, next(c.type for c in chosen if c.name == delivery.channel))
    return result


def _unsent(alert: Alert, channel: ChannelConfig, ledger: SentLedger) -> tuple[Alert | None, str]:
    """The rules of ``alert`` this channel has not received yet (the ledger is asked one rule at a time)."""
    kept = []
    for judgement in alert.judgements:
        try:
            sent = ledger.already_sent(channel.name, alert.alert_id, (judgement.change.rule_key,))
        except SgwatchError as exc:
            emit(logging.ERROR, "ledger_error", channel=channel.name, message_id=alert.alert_id, detail=str(exc))
            sent = False
        if not sent:
            kept.append(judgement)
    if not kept:
        return None, "duplicate: already sent to this channel"
    if len(kept) == len(alert.judgements):
        return alert, ""
    return dataclasses.replace(alert, judgements=tuple(kept)), ""


def _run(
    config: NotifyConfig,
    *,
    settings: Settings,
    plans: Sequence[tuple[ChannelConfig, Sequence[Message]]],
    clock: Clock | None,
    rng: random.Random | None,
    mark: OnDelivered,
) -> list[Outcome]:
    runtime = Runtime(environ=settings.environ, clock=clock or SystemClock(), timeout=config.delivery.timeout)
    try:
        work = [(channel, make_sender(channel, runtime), messages) for channel, messages in plans if messages]
        return run_jobs(work, config.delivery, runtime, rng=rng or random.Random(), on_delivered=mark)
    finally:
        runtime.close()


def _deliveries(outcome: Outcome) -> list[Delivery]:
    message = outcome.message
    channel = outcome.channel.name
    if isinstance(message, Alert):
        return [
            Delivery(
                channel=channel,
                alert_id=message.alert_id,
                status=outcome.status,
                attempts=outcome.attempts,
                detail=outcome.detail,
            )
        ]
    count = len(message.alerts)
    out = [
        Delivery(
            channel=channel,
            alert_id=message.digest_id,
            status=outcome.status,
            attempts=outcome.attempts,
            detail=f"digest of {count} alerts: {outcome.detail}",
        )
    ]
    member_status = DeliveryStatus.SKIPPED if outcome.status is DeliveryStatus.DELIVERED else outcome.status
    for alert in message.alerts:
        out.append(
            Delivery(
                channel=channel,
                alert_id=alert.alert_id,
                status=member_status,
                detail=f"folded into {message.digest_id} ({count} alerts): {outcome.detail}",
            )
        )
    return out
