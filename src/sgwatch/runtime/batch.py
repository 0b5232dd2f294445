"""Process one batch of source items: judge (with enrichment) -> remediate -> notify -> audit.

Used by the Lambda handler and by ``sgwatch watch``. Failures are isolated and attributed to the batch
item (SQS message id) their record came from, so only those items are retried. With a ``Deadline`` (Lambda),
S3 downloads, reverts and delivery attempts start only while they can end in time; what could not is a
failure, retried with its item.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from sgwatch.errors import SgwatchError
from sgwatch.model import Alert, Delivery, DeliveryStatus, Judgement, Remediation, RemediationStatus, RuleChange
from sgwatch.pipeline import ScanStats, build_alerts, judge
from sgwatch.runtime.app import App
from sgwatch.runtime.deadline import FETCH_RESERVE, Deadline
from sgwatch.runtime.logs import log_event
from sgwatch.runtime.remediation import remediate
from sgwatch.sources import Problem, RawRecord, S3ObjectRef, SourceItem
from sgwatch.sources.base import Blob, Skipped

FAILED_DELIVERY = (DeliveryStatus.FAILED, DeliveryStatus.RETRYABLE)


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchResult:
    """What one batch did, and which batch items failed."""

    stats: ScanStats
    alerts: tuple[Alert, ...] = ()
    problems: tuple[Problem, ...] = ()
    failed_items: frozenset[str] = frozenset()  # item ids (SQS message ids) to retry
    failures: tuple[str, ...] = ()  # delivery and remediation failures, one line each
    remediation_failed: bool = False  # one of the failures is a revert that failed
    unread: tuple[Problem, ...] = ()  # S3 objects that could not be downloaded (also in ``problems``)

    @property
    def ok(self) -> bool:
        """Nothing failed that a retry could fix (problems with the input itself are not counted)."""
        return not self.failures


class _Origins:
    """Record origin -> the batch items it arrived in; the S3 objects that could not be downloaded."""

    def __init__(self, deadline: Deadline | None) -> None:
        self.items: dict[str, set[str]] = {}
        self.unread: list[Problem] = []
        self.deadline = deadline

    def _object(self, ref: S3ObjectRef, app: App, skipped: Skipped) -> Iterable[SourceItem]:
        short = self.deadline.too_short(FETCH_RESERVE) if self.deadline is not None else None
        if short is not None:
            blob: Blob | Problem = Problem(origin=ref.origin, message=f"not read: {short}", item_id=ref.item_id)
        else:
            blob = app.download(ref)
        if isinstance(blob, Problem):
            self.unread.append(blob)
            return (blob,)
        return app.read(blob, skipped)

    def expand(self, items: Iterable[SourceItem], app: App, skipped: Skipped) -> Iterator[SourceItem]:
        """Fetch S3 objects named by notifications (records that cannot be changes are only counted, in
        ``skipped``); remember which item every record came from."""
        for item in items:
            inner = self._object(item, app, skipped) if isinstance(item, S3ObjectRef) else (item,)
            for entry in inner:
                if isinstance(entry, RawRecord) and entry.item_id:
                    self.items.setdefault(entry.origin, set()).add(entry.item_id)
                yield entry

    def of(self, changes: Iterable[RuleChange]) -> set[str]:
        return {item for change in changes for item in self.items.get(change.origin, ())}


def _decorate(alert: Alert, app: App, remediations: dict[tuple[str, str], Remediation]) -> Alert:
    group = None
    errors: list[str] = []
    for judgement in alert.judgements:
        if app.enricher is not None:
            group = group or app.enricher.info_for(judgement.change)
            error = app.enricher.error_for(judgement.change)
            if error:
                errors.append(error)
    done = tuple(remediations[j.change.dedup_key] for j in alert.judgements if j.change.dedup_key in remediations)
    return replace(alert, group=group, enrichment_error="; ".join(dict.fromkeys(errors)) or None, remediations=done)


def _audit(app: App, judgements: Sequence[Judgement], deliveries: Sequence[Delivery]) -> None:
    store = app.store
    if store is None:
        return
    try:
        added = store.record_judgements(judgements)
        store.record_deliveries(deliveries)
    except SgwatchError as exc:
        log_event(logging.ERROR, "audit_write_failed", detail=str(exc))
        return
    log_event(logging.DEBUG, "audited", changes=added, deliveries=len(deliveries))


def _judge(
    items: Iterable[SourceItem], app: App, origins: _Origins, stats: ScanStats
) -> tuple[list[Judgement], list[Problem]]:
    judgements: list[Judgement] = []
    problems: list[Problem] = []
    enricher = app.enricher
    if enricher is not None:
        enricher.begin_batch()
    skipped = Skipped()
    for result in judge(origins.expand(items, app, skipped), app.policy, stats=stats, lookup=enricher):
        if isinstance(result, Problem):
            problems.append(result)
            log_event(logging.WARNING, "problem", origin=result.origin, item_id=result.item_id, detail=result.message)
        elif enricher is not None and enricher.ignored(result.change):
            log_event(logging.INFO, "ignored", event_id=result.change.event_id, group_id=result.change.group_id,
                      detail="group tagged sgwatch:ignore=true")  # fmt: skip
        else:
            judgements.append(result)
    stats.records += skipped.records
    return judgements, problems


def process_batch(items: Iterable[SourceItem], app: App, *, deadline: Deadline | None = None) -> BatchResult:
    """Run every item through the pipeline; one bad record or one failing channel never stops the others.
    ``deadline``: when the result must be ready (a Lambda invocation's remaining time, less a margin)."""
    stats = ScanStats()
    origins = _Origins(deadline)
    app.snapshots.begin_batch()
    judgements, problems = _judge(items, app, origins, stats)
    for judgement in judgements:
        app.snapshots.remember_change(judgement.change)
    remediations: dict[tuple[str, str], Remediation] = {}
    for judgement in judgements:
        group = app.enricher.info_for(judgement.change) if app.enricher is not None else None
        outcome = remediate(judgement, app, group, deadline=deadline)
        if outcome is not None:
            remediations[judgement.change.dedup_key] = outcome
    alerts = tuple(_decorate(alert, app, remediations) for alert in build_alerts(judgements))
    deliveries = app.deliver(alerts, time_left=deadline.left() if deadline else None) if alerts else ()
    _audit(app, judgements, deliveries)

    failed = {p.item_id for p in problems if p.item_id}
    failures: list[str] = []
    by_key = {j.change.dedup_key: j.change for j in judgements}
    for key, remediation in remediations.items():
        if remediation.status is RemediationStatus.FAILED:
            failures.append(f"remediation {key[0]} {key[1]}: {remediation.detail}")
            failed |= origins.of([by_key[key]])
    by_id = {alert.alert_id: alert for alert in alerts}
    for delivery in deliveries:
        alert = by_id.get(delivery.alert_id)
        if delivery.status in FAILED_DELIVERY and alert is not None:
            failures.append(f"delivery to {delivery.channel} of {delivery.alert_id}: {delivery.detail}")
            failed |= origins.of(j.change for j in alert.judgements)
    for alert in alerts:
        log_event(logging.INFO, "alert", alert_id=alert.alert_id, severity=str(alert.severity), title=alert.title,
                  changes=len(alert.judgements), enrichment_error=alert.enrichment_error,
                  remediations=[str(r.status) for r in alert.remediations] or None)  # fmt: skip
    log_event(
        logging.ERROR if failures else logging.INFO,
        "batch",
        records=stats.records,
        changes=stats.changes,
        duplicates=stats.duplicates or None,
        problems=len(problems),
        alerts=len(alerts),
        deliveries=len(deliveries),
        failures=len(failures),
        failed_items=sorted(failed) or None,
    )
    return BatchResult(
        stats=stats,
        alerts=alerts,
        problems=tuple(problems),
        failed_items=frozenset(failed),
        failures=tuple(failures),
        remediation_failed=any(r.status is RemediationStatus.FAILED for r in remediations.values()),
        unread=tuple(origins.unread),
    )


def _merge(results: Sequence[BatchResult], crashed: set[str]) -> BatchResult:
    stats = ScanStats()
    for r in results:
        stats.add(r.stats)
    return BatchResult(
        stats=stats,
        alerts=tuple(a for r in results for a in r.alerts),
        problems=tuple(p for r in results for p in r.problems),
        failed_items=frozenset().union(crashed, *(r.failed_items for r in results)),
        failures=(
            *(f for r in results for f in r.failures),
            *(f"item {item}: processing crashed (see the traceback logged)" for item in sorted(crashed)),
        ),
        remediation_failed=any(r.remediation_failed for r in results),
        unread=tuple(p for r in results for p in r.unread),
    )


def process_isolated(items: Iterable[SourceItem], app: App, *, deadline: Deadline | None = None) -> BatchResult:
    """``process_batch``; should it crash (a bug), run each batch item alone so the crash fails only its
    own item. Expected errors (``SgwatchError``: bad config, unreadable store) are raised as they are."""
    items = list(items)
    try:
        return process_batch(items, app, deadline=deadline)
    except SgwatchError:
        raise
    except Exception as exc:
        groups: dict[str | None, list[SourceItem]] = {}
        for item in items:
            groups.setdefault(item.item_id, []).append(item)
        if len(groups) <= 1 or None in groups:
            raise
        log_event(logging.ERROR, "batch_crashed", exc=exc, detail="retrying each item on its own")
    results: list[BatchResult] = []
    crashed: set[str] = set()
    for item_id, group in groups.items():
        assert item_id is not None
        try:
            results.append(process_batch(group, app, deadline=deadline))
        except SgwatchError:
            raise
        except Exception as exc:
            log_event(logging.ERROR, "item_crashed", exc=exc, item_id=item_id)
            crashed.add(item_id)
    return _merge(results, crashed)
