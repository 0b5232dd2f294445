"""Reconstruct a group's rules from its recorded changes (pure).

Adds put a rule in, removes take it out (matched by rule id, else by direction, protocol, ports and
peer), modifies replace the rule with the same id, description updates touch the matching rule.
Failed calls change nothing; a group's creation or deletion starts it over empty. Changes are applied in
the order they happened: by event time, then in the order recorded (:func:`chronological`).

Protocols and ports are compared as ``sgwatch.normalize`` gave them: it has written one spelling per
protocol (``"6"`` and ``"TCP"`` are ``"tcp"``) and no ports on all-traffic rules since before the first
audit schema, so stored rows hold them that way too. Peers are kept as AWS recorded them, so they are
compared in canonical form (``10.0.0.1/8`` is ``10.0.0.0/8``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from sgwatch.model import Action, Direction, Judgement, Outcome, RuleChange, Severity
from sgwatch.policy.network import WORLD_IPV4_PREFIX, WORLD_IPV6_PREFIX, is_world, parse_cidr

Shape = tuple[str, str, int | None, int | None, str]
_T = TypeVar("_T")


def chronological(items: Iterable[_T], change_of: Callable[[_T], RuleChange]) -> list[_T]:
    """``items`` (judged or recorded changes, given in the order they were recorded) in the order they happened.

    Event time first. CloudTrail times have one-second resolution, so "open tcp/22 to the world, then revoke
    it" often shares one second (a revert, Terraform, a script): within one time, the event recorded first
    (the audit store's row order, or the order judged) went first, never the event id, which is random. An
    event recorded again (an idempotent re-scan, more of its rules later) keeps its first place; within one
    event, changes follow the rule order.
    """
    listed = list(items)
    first: dict[str, int] = {}
    for position, item in enumerate(listed):
        first.setdefault(change_of(item).event_id, position)

    def order(item: _T) -> tuple[datetime, int, int]:
        change = change_of(item)
        return (change.event_time, first[change.event_id], change.rule_index)

    return sorted(listed, key=order)


def _change_of(judgement: Judgement) -> RuleChange:
    return judgement.change


def normalize_peer(peer: str | None) -> str:
    """A peer as compared: a CIDR in canonical form (``10.0.0.1/8`` -> ``10.0.0.0/8``), an id lower-cased."""
    if not peer:
        return ""
    network = parse_cidr(peer)  # cached: a replay normalizes the same few peers many times
    return peer.lower() if network is None else str(network)


def rule_shape(change: RuleChange) -> Shape:
    """What a rule lets through, independent of its id: direction, protocol, ports, peer."""
    return (
        str(change.direction or ""),
        change.protocol or "",
        change.from_port,
        change.to_port,
        normalize_peer(change.peer),
    )


World = tuple[int, int]  # (IPv4 prefix, IPv6 prefix): a public CIDR this wide or wider is "the world"
DEFAULT_WORLD: World = (WORLD_IPV4_PREFIX, WORLD_IPV6_PREFIX)  # the policy's defaults (its ``world`` key)


def is_world_open(peer: str | None, world: World = DEFAULT_WORLD) -> bool:
    """True for a CIDR that means "anyone" by the policy's thresholds (default: public /8 or wider, IPv6 /16)."""
    network = parse_cidr(peer)
    return network is not None and is_world(network, *world)


def exposes_world(rule: RuleChange, world: World = DEFAULT_WORLD) -> bool:
    """A rule that lets a world-open CIDR in: ingress, or of unknown direction (a ``ModifySecurityGroupRules``
    names only the rule id; the policy judges such a rule as ingress, and so does this)."""
    return rule.direction is not Direction.EGRESS and is_world_open(rule.peer, world)


class RuleSet:
    """The rules of one group while replaying its changes in order."""

    __slots__ = ("_rules",)

    def __init__(self) -> None:
        self._rules: list[RuleChange] = []

    def rules(self) -> tuple[RuleChange, ...]:
        return tuple(self._rules)

    def find(self, rule_id: str) -> RuleChange | None:
        return next((rule for rule in self._rules if rule.rule_id == rule_id), None)

    def _index_of(self, change: RuleChange) -> int | None:
        if change.rule_id:
            for index, rule in enumerate(self._rules):
                if rule.rule_id == change.rule_id:
                    return index
        if change.protocol is None:
            return None
        shape = rule_shape(change)
        for index, rule in enumerate(self._rules):
            other = rule_shape(rule)
            same_direction = not shape[0] or shape[0] == other[0]
            if same_direction and shape[1:] == other[1:]:
                return index
        return None

    def apply(self, change: RuleChange) -> RuleChange | None:
        """Apply one change; return the rule definition it replaced or removed, if one was known."""
        if change.outcome != Outcome.SUCCESS:
            return None
        if change.action in (Action.CREATED, Action.DELETED):
            self._rules.clear()
            return None
        if change.action == Action.ATTACHED or (change.protocol is None and not change.rule_id):
            return None
        index = self._index_of(change)
        previous = None if index is None else self._rules[index]
        if change.action == Action.REMOVED:
            if index is not None:
                del self._rules[index]
            return previous
        current = change
        if previous is not None and change.action == Action.DESCRIPTION_CHANGED:
            # A new description lets nothing else in: the rule stays attributed to the change that defined it.
            current = replace(previous, description=change.description)
        elif previous is not None:
            current = replace(
                change,
                direction=change.direction or previous.direction,
                rule_id=change.rule_id or previous.rule_id,
            )
        if index is None:
            if change.protocol is not None:
                self._rules.append(current)
        else:
            self._rules[index] = current
        return previous


@dataclass(frozen=True, slots=True, kw_only=True)
class Replay:
    """Every group's rules after a replay, and what each modified rule looked like before."""

    states: Mapping[str, tuple[Judgement, ...]]  # group id -> rules, each with its defining judgement
    before: Mapping[tuple[str, str], RuleChange]  # dedup key of a modify/description change -> prior rule


def replay(judgements: Iterable[Judgement]) -> Replay:
    """Replay judged changes, given in recorded order, in the order they happened (:func:`chronological`)."""
    ordered = chronological(judgements, _change_of)
    by_position = {(j.change.event_id, j.change.rule_index): j for j in ordered}
    rule_sets: dict[str, RuleSet] = {}
    before: dict[tuple[str, str], RuleChange] = {}
    for judgement in ordered:
        change = judgement.change
        if change.group_id is None:
            continue
        previous = rule_sets.setdefault(change.group_id, RuleSet()).apply(change)
        if previous is not None and change.action in (Action.MODIFIED, Action.DESCRIPTION_CHANGED):
            before[change.dedup_key] = previous
    states: dict[str, tuple[Judgement, ...]] = {}
    for group_id, rule_set in rule_sets.items():
        rules: list[Judgement] = []
        for rule in rule_set.rules():
            source = by_position.get((rule.event_id, rule.rule_index))
            if source is None:
                rules.append(Judgement(change=rule, findings=(), severity=Severity.INFO))
            else:
                rules.append(
                    Judgement(
                        change=rule,
                        findings=source.findings,
                        severity=source.severity,
                        allowed_by=source.allowed_by,
                        suppressed=source.suppressed,
                    )
                )
        states[group_id] = tuple(rules)
    return Replay(states=states, before=before)
