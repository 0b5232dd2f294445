"""Merge describe results into ``model.GroupInfo`` (pure), and read sgwatch's own tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from sgwatch.enrich.facts import GroupFacts, InterfaceFacts, RuleFacts
from sgwatch.model import GroupInfo, RuleChange

IGNORE_TAG = "sgwatch:ignore"
OWNER_TAG = "sgwatch:owner"
DEFAULT_GROUP_NAME = "default"


def merge_group_info(
    group_id: str,
    *,
    group: GroupFacts | None,
    rule: RuleFacts | None = None,
    interfaces: Sequence[InterfaceFacts] | None = None,
    prefix_lists: Mapping[str, tuple[str, ...]] | None = None,
) -> GroupInfo:
    """One GroupInfo from whatever was learned; ``None`` inputs stay unknown (None) in the result."""
    tags = dict(group.tags) if group else {}
    instance_ids: tuple[str, ...] = ()
    count = exposed = None
    if interfaces is not None:
        count = len(interfaces)
        instance_ids = tuple(sorted({i.instance_id for i in interfaces if i.instance_id}))
        exposed = any(i.public_ip for i in interfaces)
    return GroupInfo(
        group_id=group_id,
        group_name=group.group_name if group else None,
        vpc_id=group.vpc_id if group else None,
        is_default=None if group is None or group.group_name is None else group.group_name == DEFAULT_GROUP_NAME,
        tags=tags,
        owner=tags.get(OWNER_TAG) or None,
        interface_count=count,
        instance_ids=instance_ids,
        exposed_now=exposed,
        rule_direction=rule.direction if rule else None,
        prefix_list_cidrs=dict(prefix_lists or {}),
    )


def is_ignored(info: GroupInfo | None) -> bool:
    """True when the group carries ``sgwatch:ignore=true`` (any case, surrounding blanks ignored)."""
    if info is None:
        return False
    return info.tags.get(IGNORE_TAG, "").strip().lower() == "true"


def rule_as_change(change: RuleChange, rule: RuleFacts) -> RuleChange:
    """``change`` with the rule's described definition (a snapshot to restore a modified rule to)."""
    return replace(
        change,
        direction=rule.direction,
        protocol=rule.protocol,
        from_port=rule.from_port,
        to_port=rule.to_port,
        peer=rule.peer,
        peer_kind=rule.peer_kind,
        description=rule.description,
        rule_id=rule.rule_id,
    )
