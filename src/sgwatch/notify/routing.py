"""Which alerts (and which of their rules) a channel gets, and the burst guard that folds a flood.

Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import timedelta

from sgwatch.model import Alert, Judgement
from sgwatch.notify.config import ChannelConfig
from sgwatch.notify.fields import BurstGuard
from sgwatch.notify.outcome import Digest, Message

DIGEST_ID_PREFIX = "digest:"  # a digest's id; its Delivery has it as alert_id
ALREADY_SENT = "duplicate: already sent to this channel"  # the Delivery detail of an alert the ledger knows


def merge_duplicates(alerts: Sequence[Alert]) -> tuple[Alert, ...]:
    """One alert per ``alert_id`` (a record delivered twice); judgements are united by rule key, first wins."""
    order: list[str] = []
    merged: dict[str, Alert] = {}
    for alert in alerts:
        known = merged.get(alert.alert_id)
        if known is None:
            order.append(alert.alert_id)
            merged[alert.alert_id] = alert
            continue
        keys = {j.change.rule_key for j in known.judgements}
        extra = tuple(j for j in alert.judgements if j.change.rule_key not in keys)
        if extra:
            merged[alert.alert_id] = dataclasses.replace(known, judgements=known.judgements + extra)
    return tuple(merged[alert_id] for alert_id in order)


def unique_judgements(judgements: Sequence[Judgement]) -> tuple[Judgement, ...]:
    seen: set[str] = set()
    out: list[Judgement] = []
    for judgement in judgements:
        if judgement.change.rule_key not in seen:
            seen.add(judgement.change.rule_key)
            out.append(judgement)
    return tuple(out)


def select(alert: Alert, channel: ChannelConfig) -> tuple[Alert | None, str]:
    """The part of ``alert`` this channel wants, or None and the reason it wants none of it."""
    if channel.accounts and alert.account_id not in channel.accounts:
        return None, f"filtered: account {alert.account_id or 'unknown'} not in the channel's accounts"
    if channel.regions and alert.region not in channel.regions:
        return None, f"filtered: region {alert.region or 'unknown'} not in the channel's regions"
    kept = []
    for judgement in unique_judgements(alert.judgements):
        if judgement.suppressed or judgement.severity < channel.min_severity:
            continue
        if channel.findings and not set(judgement.finding_ids) & set(channel.findings):
            continue
        kept.append(judgement)
    if not kept:
        if channel.findings and alert.severity >= channel.min_severity:
            return None, "filtered: no rule raised one of the channel's findings"
        return None, f"filtered: severity {alert.severity} below {channel.min_severity}"
    if len(kept) == len(alert.judgements):
        return alert, ""
    return dataclasses.replace(alert, judgements=tuple(kept)), ""


def digest_id(alerts: Sequence[Alert]) -> str:
    text = "\n".join(sorted(alert.alert_id for alert in alerts))
    return DIGEST_ID_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:16]


def fold_bursts(alerts: Sequence[Alert], guard: BurstGuard | None) -> tuple[Message, ...]:
    """Alerts in event-time order; each run of more than ``max_alerts`` within ``window`` becomes a Digest.

    A window starts at each alert in turn and holds every later alert less than ``window`` seconds after it;
    the first window holding more than ``max_alerts`` alerts is folded whole, and scanning resumes after it.
    """
    ordered = sorted(alerts, key=lambda a: a.event_time)
    if guard is None or len(ordered) <= guard.max_alerts:
        return tuple(ordered)
    window = timedelta(seconds=guard.window)
    out: list[Message] = []
    start = end = 0
    while start < len(ordered):
        end = max(end, start)
        while end < len(ordered) and ordered[end].event_time - ordered[start].event_time < window:
            end += 1
        if end - start > guard.max_alerts:
            run = ordered[start:end]
            out.append(Digest(digest_id=digest_id(run), alerts=tuple(run)))
            start = end
        else:
            out.append(ordered[start])
            start += 1
    return tuple(out)
