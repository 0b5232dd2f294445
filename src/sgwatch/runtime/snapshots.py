"""Rule definitions seen by this process, to restore a modified rule when the audit store does not know it.

Fed with every successful add/modify the runtime judges (as of its event time) and every rule enrichment
described (as of the describe time). ``before(rule_id, t)`` is the latest definition strictly before ``t``.
"""

from __future__ import annotations

from datetime import datetime

from sgwatch.model import Action, Outcome, RuleChange

MAX_RULES = 10_000


class RuleSnapshots:
    """Bounded in-memory history: rule id -> [(as of, definition)]."""

    __slots__ = ("_rules",)

    def __init__(self) -> None:
        self._rules: dict[str, list[tuple[datetime, RuleChange]]] = {}

    def remember(self, rule: RuleChange, as_of: datetime) -> None:
        if not rule.rule_id or rule.protocol is None or not rule.peer:
            return
        if len(self._rules) >= MAX_RULES and rule.rule_id not in self._rules:
            self._rules.pop(next(iter(self._rules)))
        history = self._rules.setdefault(rule.rule_id, [])
        history.append((as_of, rule))
        history.sort(key=lambda entry: entry[0])
        del history[:-8]

    def remember_change(self, change: RuleChange) -> None:
        """A judged change that (re)defined a rule."""
        if change.outcome is Outcome.SUCCESS and change.action in (Action.ADDED, Action.MODIFIED):
            self.remember(change, change.event_time)

    def before(self, rule_id: str, at: datetime) -> RuleChange | None:
        earlier = [rule for as_of, rule in self._rules.get(rule_id, ()) if as_of < at]
        return earlier[-1] if earlier else None
