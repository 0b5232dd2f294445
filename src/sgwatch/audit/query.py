"""History filters and their pure predicates: actor glob, port coverage, peer overlap, time windows."""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sgwatch.audit.state import DEFAULT_WORLD, World, exposes_world, normalize_peer
from sgwatch.model import Action, Judgement, RuleChange, Severity
from sgwatch.policy.network import overlaps, parse_cidr

_RELATIVE = re.compile(r"^\s*(\d+)\s*([wdhm])\s*$", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryFilter:
    """What to select from the recorded changes; every field left None matches everything."""

    group_id: str | None = None
    actor: str | None = None  # glob over the actor ARN, case-insensitive
    port: int | None = None  # rules whose port range or all-traffic protocol covers this port
    peer: str | None = None  # CIDR: peers that overlap it; "sg-…"/"pl-…": that exact peer
    world: bool = False  # only ingress rules open to the world
    world_prefixes: World = DEFAULT_WORLD  # what "the world" is: the policy's thresholds
    actions: tuple[Action, ...] = ()
    min_severity: Severity | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def parse_time(text: str, now: datetime, option: str = "time") -> datetime:
    """``now``, a relative age (``7d``, ``12h``, ``30m``, ``2w`` = that long before ``now``) or ISO 8601.

    A date alone means midnight UTC; an ISO time without an offset is taken as UTC.
    """
    value = text.strip()
    if value.lower() == "now":
        return now
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        try:
            return now - timedelta(**{_UNITS[unit]: amount})
        except OverflowError:
            raise ValueError(f"{option}: {text!r} reaches before the year 1") from None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{option}: {text!r} is neither a relative age (7d, 12h, 30m, 2w), 'now', "
            "nor an ISO 8601 time (2024-05-01 or 2024-05-01T10:00:00Z)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_peer(text: str) -> str:
    """Validate a ``--peer`` value: a CIDR or address, a group id (``sg-…``) or a prefix list (``pl-…``)."""
    value = text.strip()
    if value.lower().startswith(("sg-", "pl-")):
        return value
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(
            f"peer: {text!r} is not a CIDR (203.0.113.0/24, 2001:db8::/32), a group id (sg-…) "
            "or a prefix list id (pl-…)"
        ) from None
    return value


def actor_matches(pattern: str, arn: str | None) -> bool:
    """Case-insensitive glob over the actor ARN (``*alice*``, ``arn:aws:iam::*:root``)."""
    return arn is not None and fnmatch.fnmatchcase(arn.lower(), pattern.lower())


def peer_overlaps(query: str, peer: str | None) -> bool:
    """True when the rule's peer overlaps the queried CIDR (within it or containing it), or equals an id."""
    if not peer:
        return False
    wanted = parse_cidr(query)
    if wanted is None:
        return normalize_peer(peer) == normalize_peer(query)
    have = parse_cidr(peer)
    return have is not None and overlaps(wanted, have)


def change_matches(change: RuleChange, filters: HistoryFilter) -> bool:
    """The rule-level filters (group, actor, port, peer, world, action) for one change."""
    if filters.group_id is not None and change.group_id != filters.group_id:
        return False
    if filters.actor is not None and not actor_matches(filters.actor, change.actor.arn):
        return False
    if filters.port is not None and not change.covers_port(filters.port):
        return False
    if filters.peer is not None and not peer_overlaps(filters.peer, change.peer):
        return False
    if filters.world and not exposes_world(change, filters.world_prefixes):
        return False
    return not filters.actions or change.action in filters.actions


def matches(judgement: Judgement, filters: HistoryFilter) -> bool:
    """Every filter for one judged change."""
    change = judgement.change
    if filters.since is not None and change.event_time < filters.since:
        return False
    if filters.until is not None and change.event_time >= filters.until:
        return False
    if filters.min_severity is not None and judgement.severity < filters.min_severity:
        return False
    return change_matches(change, filters)
