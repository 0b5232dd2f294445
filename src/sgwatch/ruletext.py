"""How a rule reads in every human text (pure): finding reasons, alerts, the scan and history tables, the report.

One wording for one rule, from a RuleChange as ``sgwatch.normalize`` gives it (``tcp``, ``udp``, ``icmp``,
``icmpv6``, ``-1`` for all traffic, other IANA protocols as numbers; ICMP type and code in the port fields):

- ``tcp/22``, ``udp/1000-2000``: one port, a range, as recorded (``tcp/0-65535`` stays so);
- ``tcp (all ports)`` for ports -1/-1, ``tcp (no ports recorded)`` (``tcp/22-?`` when one port is missing);
- ``all traffic`` for protocol -1;
- ``icmp type 8 code 0``, ``icmp type 8 (all codes)``, ``icmpv6 (all types)``;
- ``protocol 47`` for other protocols: AWS lets every port of them through, so no port is shown.

Peers read as recorded (``0.0.0.0/0``, ``::/0``, ``pl-0abc``), a group of another account with its owner.
A change to the group itself names the group (``security group sg-0abc (web)``), and a failed API call says so
after the change: ``(the call failed: UnauthorizedOperation)``.
"""

from __future__ import annotations

from sgwatch.model import Action, Direction, Outcome, PeerKind, RuleChange

_ICMP = ("icmp", "icmpv6")
_PORTED = ("tcp", "udp")


def _port(value: int | None) -> str:
    return "?" if value is None else str(value)


def format_ports(protocol: str | None, from_port: int | None, to_port: int | None) -> str:
    """Protocol and ports (ICMP type and code) in the wording above; ``""`` when there is no protocol."""
    if not protocol:
        return ""
    if protocol == "-1":
        return "all traffic"
    if protocol in _ICMP:
        if from_port is None or from_port == -1:
            return f"{protocol} (all types)"
        if to_port is None or to_port == -1:
            return f"{protocol} type {from_port} (all codes)"
        return f"{protocol} type {from_port} code {to_port}"
    if protocol not in _PORTED:
        return f"protocol {protocol}"
    if from_port is None and to_port is None:
        return f"{protocol} (no ports recorded)"
    if from_port == -1 and to_port == -1:
        return f"{protocol} (all ports)"
    if from_port == to_port:
        return f"{protocol}/{from_port}"
    return f"{protocol}/{_port(from_port)}-{_port(to_port)}"


def ports_text(change: RuleChange) -> str:
    """``tcp/22``, ``all traffic``, ``icmp type 8 (all codes)``, ``protocol 47``; ``""`` for no rule."""
    return format_ports(change.protocol, change.from_port, change.to_port)


def peer_text(change: RuleChange) -> str:
    """The peer as recorded; a referenced group owned by another account names it: ``sg-0abc (account 4444…)``."""
    if not change.peer:
        return ""
    owner = change.peer_account_id
    if change.peer_kind is PeerKind.GROUP and owner and owner != change.account_id:
        return f"{change.peer} (account {owner})"
    return change.peer


def group_text(change: RuleChange) -> str:
    """``security group sg-0abc (web)``; ``security group web`` when only the name is recorded."""
    named = [change.group_id] if change.group_id else []
    if change.group_name:
        named.append(f"({change.group_name})" if named else change.group_name)
    return " ".join(["security group", *named])


GROUP_EVENTS = frozenset({Action.CREATED, Action.DELETED, Action.ATTACHED})  # rule_text names the group itself


def action_text(change: RuleChange) -> str:
    """The action as a person reads it: ``added``, ``removed``, ``description changed``."""
    return str(change.action).replace("_", " ")


def rule_text(change: RuleChange) -> str:
    """The rule a change is about, without its group; for a change to the group itself, the group.

    ``ingress tcp/22 from 0.0.0.0/0``, ``egress all traffic to ::/0``, ``rule tcp/443 from sg-0abc`` (direction
    not recorded), ``ingress rule sgr-0abc`` (a rule named by id only). Created and deleted groups:
    ``security group sg-0abc (web)``; a group attached to an interface or instance: ``security group sg-0abc to
    eni-0abc``. The action is the caller's (``created: security group sg-0abc (web)``), so it is never repeated.
    """
    if change.action in (Action.CREATED, Action.DELETED):
        return group_text(change)
    if change.action is Action.ATTACHED:
        return f"{group_text(change)} to {change.target or 'an interface'}"
    words = [str(change.direction)] if change.direction else []
    ports = ports_text(change)
    if ports:
        words = words or ["rule"]
        words.append(ports)
    else:
        words.append("rule")
        if change.rule_id:
            words.append(change.rule_id)
    peer = peer_text(change)
    if peer:
        words.append(("to " if change.direction is Direction.EGRESS else "from ") + peer)
    return " ".join(words)


def failure_text(change: RuleChange) -> str:
    """``(the call failed: UnauthorizedOperation)`` after a change whose API call failed; ``""`` otherwise.

    A failed call changed nothing: the text says it was the AWS call that failed (not sgwatch, a delivery or a
    revert) and gives AWS's error code; ``(the call failed)`` when no code is recorded.
    """
    if change.outcome != Outcome.FAILURE:
        return ""
    return f"(the call failed: {change.error_code})" if change.error_code else "(the call failed)"
