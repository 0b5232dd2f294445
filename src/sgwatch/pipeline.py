"""Wire the pure stages: source items -> records -> changes -> judgements -> alerts.

I/O-bound stages (enrichment, delivery, remediation, audit) plug in at the edges through small Protocols;
this module itself does no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sgwatch.decode import decode_record, is_sg_candidate
from sgwatch.errors import DecodeError
from sgwatch.model import Alert, GroupInfo, Judgement, RuleChange, Severity
from sgwatch.normalize import normalize
from sgwatch.policy import Policy, evaluate
from sgwatch.sources import Problem, S3ObjectRef, SourceItem


class GroupLookup(Protocol):
    """Enrichment port: what is known about a change's group (None when unknown or disabled)."""

    def __call__(self, change: RuleChange) -> GroupInfo | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """Which changes a run keeps: [since, until) on the event time, accounts, regions (empty keeps all).

    A plain dataclass, so it pickles to worker processes.
    """

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def __call__(self, change: RuleChange) -> bool:
        return (
            (self.since is None or change.event_time >= self.since)
            and (self.until is None or change.event_time < self.until)
            and (not self.accounts or change.account_id in self.accounts)
            and (not self.regions or change.region in self.regions)
        )


@dataclass(slots=True)
class ScanStats:
    """Counters for one run, for the summary line and structured logs."""

    records: int = 0
    candidates: int = 0
    changes: int = 0
    duplicates: int = 0
    problems: int = 0
    by_severity: dict[str, int] = field(default_factory=dict)

    def count(self, judgement: Judgement) -> None:
        """One more change judged (and not a duplicate)."""
        self.changes += 1
        key = str(judgement.severity)
        self.by_severity[key] = self.by_severity.get(key, 0) + 1

    def add(self, other: ScanStats) -> None:
        """Add the counters of another part of the run (a file, a batch) to these."""
        self.records += other.records
        self.candidates += other.candidates
        self.changes += other.changes
        self.duplicates += other.duplicates
        self.problems += other.problems
        for severity, count in other.by_severity.items():
            self.by_severity[severity] = self.by_severity.get(severity, 0) + count


def judge(
    items: Iterable[SourceItem],
    policy: Policy,
    *,
    stats: ScanStats | None = None,
    lookup: GroupLookup | None = None,
    today: dt.date | None = None,
    scope: Callable[[RuleChange], bool] | None = None,
) -> Iterator[Judgement | Problem]:
    """Judge every security-group change in the items, once per (event id, rule); problems pass through.

    A record that cannot be understood becomes a Problem naming it; the other records go on. Changes for
    which ``scope`` says False (time window, accounts, regions) are left out before they are counted.
    """
    stats = stats if stats is not None else ScanStats()
    seen: set[tuple[str, str]] = set()
    for item in items:
        if isinstance(item, Problem):
            stats.problems += 1
            yield item
            continue
        if isinstance(item, S3ObjectRef):
            stats.problems += 1
            yield Problem(
                origin=item.origin,
                message="S3 notification: scan the object itself (sgwatch scan s3://bucket/key) or use the Lambda handler",
                item_id=item.item_id,
            )
            continue
        stats.records += 1
        if not is_sg_candidate(item.data):
            continue
        stats.candidates += 1
        try:
            changes = normalize(decode_record(item.data, item.origin))
        except DecodeError as exc:
            stats.problems += 1
            yield Problem(origin=exc.record, message=exc.detail, item_id=item.item_id)
            continue
        for change in changes:
            if scope is not None and not scope(change):
                continue
            if change.dedup_key in seen:
                stats.duplicates += 1
                continue
            seen.add(change.dedup_key)
            judgement = evaluate(change, policy, group=lookup(change) if lookup else None, today=today)
            stats.count(judgement)
            yield judgement


def build_alerts(judgements: Iterable[Judgement], min_severity: Severity = Severity.INFO) -> list[Alert]:
    """One Alert per API call (account + event id) holding its judgements at or above ``min_severity``.

    Allowlisted changes are judged info and so drop out at any threshold above info.
    """
    grouped: dict[tuple[str | None, str], list[Judgement]] = {}
    for judgement in judgements:
        if judgement.severity < min_severity:
            continue
        change = judgement.change
        grouped.setdefault((change.account_id, change.event_id), []).append(judgement)
    alerts = []
    for items in grouped.values():
        first = items[0].change
        alerts.append(
            Alert(
                event_id=first.event_id,
                event_name=first.event_name,
                event_time=first.event_time,
                account_id=first.account_id,
                region=first.region,
                actor=first.actor,
                source_ip=first.source_ip,
                user_agent=first.user_agent,
                judgements=tuple(items),
            )
        )
    return alerts
