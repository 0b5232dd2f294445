"""Rule definitions seen by this process, to restore a modified rule when the audit store does not know it.

Fed with every successful add/modify the runtime judges (as of its event time) and every rule enrichment
described (as of the describe time). ``before(rule_id, t)`` is the latest definition strictly before ``t``.
Repeats of a definition are kept once (the earliest), so the bounded history holds distinct definitions.
``current(rule_id)`` is the rule as described in the current batch (None when it was not described).
"""

from __future__ import annotations

from datetime import datetime

from sgwatch.model import Action, Outcome, RuleChange

MAX_RULES = 10_000
MAX_HISTORY = 8  # definitions kept per rule


def _definition(rule: RuleChange) -> tuple[object, ...]:
    """What a restore would write back: direction, protocol, ports, peer and description."""
    return (
        rule.direction,
        rule.protocol,
        rule.from_port,
        rule.to_port,
        rule.peer,
        rule.peer_kind,
        rule.peer_account_id,
        rule.description,
    )


class RuleSnapshots:
    """Bounded in-memory history: rule id -> [(as of, definition)]."""

    __slots__ = ("_current", "_rules")

    def __init__(self) -> None:
        self._rules: dict[str, list[tuple[datetime, RuleChange]]] = {}
        self._current: dict[str, RuleChange] = {}

    def begin_batch(self) -> None:
        """Forget what was described: the rules may have changed since the previous batch."""
        self._current.clear()

    def described(self, rule: RuleChange, as_of: datetime) -> None:
        """The rule as a describe call returned it just now."""
        self.remember(rule, as_of)
        if rule.rule_id:
            self._current[rule.rule_id] = rule

    def changed(self, rule_id: str, rule: RuleChange | None) -> None:
        """This process changed the rule (restored it: ``rule``; revoked it: None) since it was described."""
        if rule is None:
            self._current.pop(rule_id, None)
        elif rule_id in self._current:
            self._current[rule_id] = rule

    def current(self, rule_id: str) -> RuleChange | None:
        return self._current.get(rule_id)

    def remember(self, rule: RuleChange, as_of: datetime) -> None:
        if not rule.rule_id or rule.protocol is None or not rule.peer:
            return
        if len(self._rules) >= MAX_RULES and rule.rule_id not in self._rules:
            self._rules.pop(next(iter(self._rules)))
        history = self._rules.setdefault(rule.rule_id, [])
        history.append((as_of, rule))
        history.sort(key=lambda entry: entry[0])
        # A definition equal to the one just before it in time changes no answer of ``before``: keep only the
        # earliest of each run, so seeing the same definition again never pushes older ones out.
        history[:] = [
            entry
            for i, entry in enumerate(history)
            if i == 0 or _definition(entry[1]) != _definition(history[i - 1][1])
        ][-MAX_HISTORY:]

    def remember_change(self, change: RuleChange) -> None:
        """A judged change that (re)defined a rule."""
        if change.outcome is Outcome.SUCCESS and change.action in (Action.ADDED, Action.MODIFIED):
            self.remember(change, change.event_time)

    def before(self, rule_id: str, at: datetime) -> RuleChange | None:
        earlier = [rule for as_of, rule in self._rules.get(rule_id, ()) if as_of < at]
        return earlier[-1] if earlier else None
