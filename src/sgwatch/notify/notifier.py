"""The long-lived notifier: the ``notify:``/``delivery:`` config parsed once, channel resources kept open.

A warm Lambda and ``watch`` keep one ``Notifier`` (through ``App``) for the life of the process;
``deliver_alerts`` makes one per call. Per batch and channel: filter (severity, accounts, regions, findings)
-> drop what the ledger says was sent (one ledger read per alert) -> fold bursts into digests -> send
through the shared engine -> record in the ledger. One ``Delivery`` comes back per (channel, alert), plus
one per digest. With a time limit (a Lambda invocation's remaining time), no wait runs past it and no
request starts unless it can end before it (``delivery.timeout``); what could not be sent fails with the reason.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Sequence
from types import TracebackType

from sgwatch.errors import ConfigError, SgwatchError
from sgwatch.model import FOLDED_INTO, Alert, Delivery, DeliveryStatus, RemediationStatus
from sgwatch.notify.channels import make_sender
from sgwatch.notify.clock import Clock, SystemClock
from sgwatch.notify.config import ChannelConfig, NotifyConfig, parse_notify
from sgwatch.notify.engine import OnDelivered, Outcome, report, run_jobs
from sgwatch.notify.ledger import MemoryLedger, SentLedger
from sgwatch.notify.logjson import emit
from sgwatch.notify.outcome import Digest, Message, Sender
from sgwatch.notify.ratelimit import RateLimiter
from sgwatch.notify.routing import ALREADY_SENT, DIGEST_ID_PREFIX, fold_bursts, merge_duplicates, select
from sgwatch.notify.runtime import Runtime
from sgwatch.notify.sample import sample_alert
from sgwatch.settings import Settings

# A revert carried out (not planned, skipped or failed): an alert telling it is new to a channel that heard the
# same rule before without it.
ACTED = frozenset({RemediationStatus.REVERTED, RemediationStatus.RESTORED, RemediationStatus.ALREADY_REVERTED})
REVERTED_SUFFIX = "#reverted"


class Notifier:
    """Delivers batches of alerts to the channels of one ``Settings``, one batch at a time (not thread-safe).

    Raises ``ConfigError`` for an invalid ``notify:``/``delivery:`` section when created. Kept from one batch
    to the next: the parsed config, the HTTP connection pool, the AWS clients, the resolved secrets (each for
    at most ``delivery.secret_max_age`` seconds, so a rotation is picked up), the channel adapters, and the
    per-destination pacing (a rate limit or a server's Retry-After holds across batches). ``ledger`` remembers
    what each channel received (a ``MemoryLedger`` for this notifier's life when not given). ``close``
    releases the connections; a later ``deliver`` opens new ones.
    """

    __slots__ = ("_limiter", "_rng", "_runtime", "_senders", "config", "ledger", "source")

    def __init__(
        self,
        settings: Settings,
        *,
        config: NotifyConfig | None = None,
        ledger: SentLedger | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config: NotifyConfig = parse_notify(settings) if config is None else config
        self.source = settings.source
        self.ledger: SentLedger = MemoryLedger() if ledger is None else ledger
        delivery = self.config.delivery
        self._runtime = Runtime(
            environ=settings.environ,
            clock=clock or SystemClock(),
            timeout=delivery.timeout,
            secret_max_age=delivery.secret_max_age,
        )
        self._rng = rng or random.Random()
        self._limiter = RateLimiter()
        self._senders: dict[str, Sender] = {}

    def deliver(self, alerts: Sequence[Alert], *, time_left: float | None = None) -> tuple[Delivery, ...]:
        """Send ``alerts`` to the configured channels (console when none); one Delivery per outcome.

        Delivery failures never raise: they come back as ``DeliveryStatus.FAILED`` with the reason.
        ``time_left``: seconds this delivery may take at most (waits, retries and requests included).
        """
        ledger = self.ledger
        unique = merge_duplicates(alerts)
        position = {alert.alert_id: index for index, alert in enumerate(unique)}
        skipped: list[Delivery] = []
        plans: list[tuple[ChannelConfig, tuple[Message, ...]]] = []
        for channel in self.config.channels:
            wanted: list[Alert] = []
            for alert in unique:
                part, why = select(alert, channel)
                if part is not None:
                    part, why = _unsent(part, channel, ledger)
                if part is None:
                    skipped.append(
                        Delivery(
                            channel=channel.name, alert_id=alert.alert_id, status=DeliveryStatus.SKIPPED, detail=why
                        )
                    )
                else:
                    wanted.append(part)
            plans.append((channel, fold_bursts(wanted, channel.burst)))

        def mark(channel: ChannelConfig, message: Message) -> None:
            for alert in message.alerts if isinstance(message, Digest) else (message,):
                ledger.mark_sent(channel.name, alert.alert_id, _sent_keys(alert))

        outcomes = self._run(plans, mark=mark, time_left=time_left)
        for outcome in outcomes:
            if isinstance(outcome.message, Digest):
                position[outcome.message.digest_id] = min(position[a.alert_id] for a in outcome.message.alerts)
        deliveries = skipped + [d for outcome in outcomes for d in _deliveries(outcome)]
        order = {channel.name: index for index, channel in enumerate(self.config.channels)}

        def sort_key(delivery: Delivery) -> tuple[int, int, int]:
            digest = delivery.alert_id.startswith(DIGEST_ID_PREFIX)
            return (order[delivery.channel], position[delivery.alert_id], 0 if digest else 1)

        return self._reported(sorted(deliveries, key=sort_key))

    def send_test(self, channels: Sequence[str] = ()) -> tuple[Delivery, ...]:
        """Send the sample alert to every channel (or the named ones), ignoring filters, ledger and burst guard.

        Raises ``ConfigError`` naming a channel that is not configured.
        """
        configured = self.config.channels
        unknown = sorted(set(channels) - {c.name for c in configured})
        if unknown:
            known = ", ".join(c.name for c in configured)
            raise ConfigError(f"{self.source}: no channel named {', '.join(unknown)} (channels: {known})")
        chosen = [c for c in configured if not channels or c.name in channels]
        alert = sample_alert(self._runtime.clock.now().replace(microsecond=0))
        outcomes = self._run([(c, (alert,)) for c in chosen], mark=lambda _c, _m: None)
        order = {c.name: i for i, c in enumerate(chosen)}
        result = [d for outcome in outcomes for d in _deliveries(outcome)]
        return self._reported(sorted(result, key=lambda d: order[d.channel]))

    def close(self) -> None:
        """Close the HTTP connections and AWS clients and forget the secrets; safe to call more than once."""
        self._runtime.close()

    def __enter__(self) -> Notifier:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _sender(self, channel: ChannelConfig) -> Sender:
        sender = self._senders.get(channel.name)
        if sender is None:
            sender = self._senders[channel.name] = make_sender(channel, self._runtime)
        return sender

    def _run(
        self,
        plans: Sequence[tuple[ChannelConfig, Sequence[Message]]],
        *,
        mark: OnDelivered,
        time_left: float | None = None,
    ) -> list[Outcome]:
        work = [(channel, self._sender(channel), messages) for channel, messages in plans if messages]
        return run_jobs(
            work,
            self.config.delivery,
            self._runtime,
            rng=self._rng,
            on_delivered=mark,
            limiter=self._limiter,
            time_left=time_left,
        )

    def _reported(self, deliveries: Sequence[Delivery]) -> tuple[Delivery, ...]:
        types = {channel.name: channel.type for channel in self.config.channels}
        for delivery in deliveries:
            report(delivery, types[delivery.channel])
        return tuple(deliveries)


def _heard_keys(alert: Alert) -> tuple[str, ...]:
    """Per rule, the ledger key saying a channel heard it as this alert tells it: the rule key, and for a rule
    reverted now (never a dry run) the rule key + ``#reverted``, so that a revert done on a later delivery of
    the event (after a failed or dry-run one, or one with no time left) is told too, once."""
    acted = {
        (r.plan.event_id, r.plan.rule_key)
        for r in alert.remediations
        if r.plan is not None and not r.dry_run and r.status in ACTED
    }
    return tuple(
        j.change.rule_key + REVERTED_SUFFIX if j.change.dedup_key in acted else j.change.rule_key
        for j in alert.judgements
    )


def _sent_keys(alert: Alert) -> tuple[str, ...]:
    """What a delivery of ``alert`` records: every rule key, and the revert keys of the rules reverted now."""
    return tuple(dict.fromkeys((*(j.change.rule_key for j in alert.judgements), *_heard_keys(alert))))


def _unsent(alert: Alert, channel: ChannelConfig, ledger: SentLedger) -> tuple[Alert | None, str]:
    """The rules of ``alert`` this channel has not received yet, as this alert tells them (one ledger read for
    the whole alert)."""
    keys = _heard_keys(alert)
    try:
        sent = ledger.sent_rules(channel.name, alert.alert_id, keys)
    except SgwatchError as exc:
        emit(logging.ERROR, "ledger_error", channel=channel.name, message_id=alert.alert_id, detail=str(exc))
        sent = frozenset()
    kept = tuple(judgement for judgement, key in zip(alert.judgements, keys, strict=True) if key not in sent)
    if not kept:
        return None, ALREADY_SENT
    if len(kept) == len(alert.judgements):
        return alert, ""
    return dataclasses.replace(alert, judgements=kept), ""


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
                detail=f"{FOLDED_INTO}{message.digest_id} ({count} alerts): {outcome.detail}",
            )
        )
    return out
