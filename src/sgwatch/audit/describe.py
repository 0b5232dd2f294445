"""Short human texts for recorded rules and actors (pure), shared by the history table and the report."""

from __future__ import annotations

from sgwatch.audit.state import normalize_protocol
from sgwatch.model import Action, Direction, RuleChange


def ports_text(change: RuleChange) -> str:
    """``22``, ``20-25``, ``all ports``; ICMP as ``type 8 code 0`` (``any`` for -1)."""
    protocol = normalize_protocol(change.protocol)
    low, high = change.from_port, change.to_port
    if protocol in ("icmp", "icmpv6"):
        if low is None or low == -1:
            return "any"
        code = "any" if high is None or high == -1 else str(high)
        return f"type {low} code {code}"
    if low is None or high is None or (low, high) in ((-1, -1), (0, 65535)):
        return "all ports"
    return str(low) if low == high else f"{low}-{high}"


def rule_text(change: RuleChange) -> str:
    """``ingress tcp 22 from 0.0.0.0/0``, ``egress all traffic to sg-123``, ``group created``."""
    if change.action == Action.CREATED:
        return "group created"
    if change.action == Action.DELETED:
        return "group deleted"
    if change.action == Action.ATTACHED:
        return f"attached to {change.target or 'an interface'}"
    protocol = normalize_protocol(change.protocol)
    if not protocol:
        what = f"rule {change.rule_id}" if change.rule_id else "rule"
    elif protocol == "-1":
        what = "all traffic"
    elif protocol.isdigit():
        what = f"protocol {protocol}"
    else:
        what = f"{protocol} {ports_text(change)}"
    direction = str(change.direction) if change.direction else "rule"
    if change.peer:
        link = "to" if change.direction == Direction.EGRESS else "from"
        return f"{direction} {what} {link} {change.peer}"
    return f"{direction} {what}"


def actor_name(arn: str | None) -> str:
    """The readable tail of an ARN (``user/alice``, ``assumed-role/Admin/bob``, ``root``)."""
    if not arn:
        return "unknown"
    tail = arn.rsplit(":", 1)[-1]
    return tail or arn
