"""Short human texts for recorded rules and actors (pure), shared by the terminal tables and the report.

Protocols and ports come as ``sgwatch.normalize`` gives them (one spelling per protocol, no ports on
all-traffic rules), in every RuleChange and every stored row: nothing here re-normalizes them.
"""

from __future__ import annotations

from sgwatch.model import Action, Direction, RuleChange

UNKNOWN_ACTOR = "unknown"


def ports_text(change: RuleChange) -> str:
    """``22``, ``20-25``, ``all ports``; ICMP as ``type 8 code 0`` (``any`` for -1)."""
    low, high = change.from_port, change.to_port
    if change.protocol in ("icmp", "icmpv6"):
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
    protocol = change.protocol
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
    """An ARN's resource part (``user/alice``, ``assumed-role/Admin/bob``, ``root``), which may hold colons.

    Text that is not an ARN is shown as it is; no ARN at all is ``unknown``.
    """
    if not arn:
        return UNKNOWN_ACTOR
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[5]:
        return parts[5]
    return arn
