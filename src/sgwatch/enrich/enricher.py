"""The ``GroupLookup`` that ``pipeline.judge`` calls: describe each group once per batch, never raise.

Failures are remembered per change (``error_for``) so the alert can say that enrichment failed; what did
succeed is still used. A group tagged ``sgwatch:ignore=true`` is reported by ``ignored``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sgwatch.enrich.facts import GroupFacts, InterfaceFacts, RuleFacts
from sgwatch.enrich.merge import is_ignored, merge_group_info
from sgwatch.enrich.port import Ec2Describer
from sgwatch.errors import EnrichError
from sgwatch.model import Action, GroupInfo, PeerKind, RuleChange

T = TypeVar("T")
_MISSING = object()


class Enricher:
    """Callable as ``GroupLookup``; one instance may serve many batches (call ``begin_batch`` between them).

    ``on_rule`` is called once for each rule actually described, not for every change that reuses it.
    """

    __slots__ = ("_account", "_cache", "_describer", "_errors", "_ignored", "_infos", "_on_rule")

    def __init__(
        self,
        describer: Ec2Describer,
        *,
        on_rule: Callable[[RuleChange, RuleFacts], None] | None = None,
        account_id: str | None = None,
    ) -> None:
        """``account_id``: the account the describer sees (changes in other accounts are not described)."""
        self._describer = describer
        self._account = account_id
        self._on_rule = on_rule
        self._cache: dict[tuple[str, str | None, str], object] = {}
        self._errors: dict[tuple[str, str], tuple[str, ...]] = {}
        self._ignored: set[tuple[str, str]] = set()
        self._infos: dict[tuple[str, str], GroupInfo] = {}

    def begin_batch(self) -> None:
        """Forget what was described: group state may have changed since the previous batch."""
        self._cache.clear()
        self._errors.clear()
        self._ignored.clear()
        self._infos.clear()

    def _cached(self, kind: str, region: str | None, key: str, fetch: Callable[[], T], errors: list[str]) -> T | None:
        slot = (kind, region, key)
        value = self._cache.get(slot, _MISSING)
        if value is _MISSING:
            try:
                value = fetch()
            except EnrichError as exc:
                value = exc
            self._cache[slot] = value
        if isinstance(value, EnrichError):
            errors.append(str(value))
            return None
        return value  # type: ignore[return-value]

    def __call__(self, change: RuleChange) -> GroupInfo | None:
        group_id = change.group_id
        if group_id is None or change.action is Action.DELETED:
            return None
        if self._account and change.account_id and change.account_id != self._account:
            self._errors[change.dedup_key] = (
                f"{group_id} is in account {change.account_id}; enrichment describes account {self._account} only",
            )
            return None
        region = change.region
        errors: list[str] = []
        d = self._describer
        group: GroupFacts | None = self._cached("group", region, group_id, lambda: d.group(region, group_id), errors)
        if group is None and not errors:
            errors.append(f"{group_id}: group not found in {region or 'the default region'} (deleted since?)")
        interfaces: tuple[InterfaceFacts, ...] | None = None
        if group is not None:
            interfaces = self._cached("enis", region, group_id, lambda: d.interfaces(region, group_id), errors)
        rule = None
        rule_id = change.rule_id
        if rule_id and change.action is Action.MODIFIED and change.direction is None:

            def describe_rule() -> RuleFacts | None:  # observed once per describe, not per cached answer
                found = d.rule(region, rule_id)
                if found is not None and self._on_rule is not None:
                    self._on_rule(change, found)
                return found

            rule = self._cached("rule", region, rule_id, describe_rule, errors)
        prefix_lists: dict[str, tuple[str, ...]] = {}
        peer = change.peer
        if change.peer_kind is PeerKind.PREFIX_LIST and peer:
            cidrs = self._cached("pl", region, peer, lambda: d.prefix_list_cidrs(region, peer), errors)
            if cidrs is not None:
                prefix_lists[peer] = cidrs
        info = merge_group_info(group_id, group=group, rule=rule, interfaces=interfaces, prefix_lists=prefix_lists)
        if errors:
            self._errors[change.dedup_key] = tuple(dict.fromkeys(errors))
        if is_ignored(info):
            self._ignored.add(change.dedup_key)
        self._infos[change.dedup_key] = info
        return info

    def info_for(self, change: RuleChange) -> GroupInfo | None:
        """What the lookup of this change returned in the current batch."""
        return self._infos.get(change.dedup_key)

    def error_for(self, change: RuleChange) -> str | None:
        """Why enrichment of this change failed (or was partial), or None."""
        errors = self._errors.get(change.dedup_key)
        return "; ".join(errors) if errors else None

    def ignored(self, change: RuleChange) -> bool:
        """True when the change's group is tagged ``sgwatch:ignore=true``."""
        return change.dedup_key in self._ignored
