"""What the HTML report shows, gathered from the store; the summaries are pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sgwatch.audit.describe import UNKNOWN_ACTOR
from sgwatch.audit.query import HistoryFilter
from sgwatch.audit.rows import RecordedDelivery, RecordedRemediation
from sgwatch.audit.state import DEFAULT_WORLD, World, exposes_world, replay
from sgwatch.model import Action, Judgement, Outcome, RuleChange, Severity

if TYPE_CHECKING:
    from sgwatch.audit.store import AuditStore

TOP_ACTORS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorSummary:
    """One actor's changes in the report period."""

    actor: str
    changes: int
    high_or_worse: int
    world_opened: int  # ingress rules to the world this actor added or modified
    highest: Severity
    last_seen: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposedGroup:
    """A group whose reconstructed rules let the world in, with those rules."""

    group_id: str
    group_name: str | None
    rules: tuple[Judgement, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportData:
    """Everything the report renders; built by :func:`collect_report`."""

    since: datetime
    until: datetime
    generated_at: datetime
    database: str
    changes: tuple[Judgement, ...]  # in [since, until), oldest first
    before: Mapping[tuple[str, str], RuleChange]  # prior definition of modified rules, when known
    exposed: tuple[ExposedGroup, ...]  # at ``until``
    remediations: tuple[RecordedRemediation, ...]
    deliveries: tuple[RecordedDelivery, ...]
    world: World = DEFAULT_WORLD  # the thresholds "exposed" and "world opened" were judged with


def top_actors(
    changes: Iterable[Judgement], limit: int = TOP_ACTORS, world: World = DEFAULT_WORLD
) -> tuple[ActorSummary, ...]:
    """Actors by number of changes (then by severity), at most ``limit``."""
    grouped: dict[str, list[Judgement]] = {}
    for judgement in changes:
        grouped.setdefault(judgement.change.actor.arn or UNKNOWN_ACTOR, []).append(judgement)
    summaries = [
        ActorSummary(
            actor=actor,
            changes=len(items),
            high_or_worse=sum(1 for j in items if j.severity >= Severity.HIGH),
            world_opened=sum(
                1
                for j in items
                if j.change.action in (Action.ADDED, Action.MODIFIED)
                and j.change.outcome is Outcome.SUCCESS  # a failed call opened nothing
                and exposes_world(j.change, world)
            ),
            highest=max(j.severity for j in items),
            last_seen=max(j.change.event_time for j in items),
        )
        for actor, items in grouped.items()
    ]
    summaries.sort(key=lambda s: (-s.changes, -s.highest, s.actor))
    return tuple(summaries[:limit])


def exposed_groups(
    states: Mapping[str, tuple[Judgement, ...]], names: Mapping[str, str], world: World = DEFAULT_WORLD
) -> tuple[ExposedGroup, ...]:
    """Groups with at least one world-open ingress rule, sorted by group id."""
    exposed = []
    for group_id in sorted(states):
        rules = tuple(j for j in states[group_id] if exposes_world(j.change, world))
        if rules:
            exposed.append(ExposedGroup(group_id=group_id, group_name=names.get(group_id), rules=rules))
    return tuple(exposed)


def collect_report(
    store: AuditStore, since: datetime, until: datetime, generated_at: datetime, world: World = DEFAULT_WORLD
) -> ReportData:
    """Read the period's changes, deliveries and remediations; replay all history up to ``until``.

    ``world``: the policy's thresholds for a world-open CIDR (exposed groups, rules opened to the world).
    """
    history = tuple(store.query(HistoryFilter(until=until)))
    names: dict[str, str] = {}
    for judgement in history:
        change = judgement.change
        if change.group_id and change.group_name:
            names[change.group_id] = change.group_name
    replayed = replay(history)
    return ReportData(
        since=since,
        until=until,
        generated_at=generated_at,
        database=str(store.path),
        changes=tuple(j for j in history if j.change.event_time >= since),
        before=replayed.before,
        exposed=exposed_groups(replayed.states, names, world),
        remediations=store.remediations(since, until),
        deliveries=store.deliveries(since, until),
        world=world,
    )
