"""Plan a revert (pure): exactly the rule an event added, or a modified rule's previous definition.

Never anything else: by rule id when the record has it, else the one IpPermission (protocol, ports, the
one peer) the request added. Failed calls, allowlisted changes, allowlisted principals and sgwatch's own
changes (loop guard) are never acted on; the reason is returned instead of a plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from sgwatch.model import (
    Action,
    Direction,
    GroupInfo,
    Judgement,
    Outcome,
    PeerKind,
    RemediationStatus,
    RevokePlan,
    RuleChange,
)
from sgwatch.remediate.config import RemediationConfig
from sgwatch.ruletext import format_ports, rule_text

# sgwatch's own AWS clients send ``sgwatch/<version>`` in their user agent; its role sessions start with it.
SELF_MARK = "sgwatch"
# The catalog ids that mean "ingress open to the world". ``policy.evaluate`` emits them only after applying
# the policy's world thresholds and the rule's direction (egress to the world is WORLD_EGRESS, not here).
WORLD_FINDINGS = frozenset(
    {
        "WORLD_ADMIN_PORT_INGRESS",
        "WORLD_ALL_TRAFFIC_INGRESS",
        "WORLD_INGRESS",
        "WORLD_WEB_INGRESS",
        "WORLD_ICMP_INGRESS",
        "PREFIX_LIST_WORLD_INGRESS",
    }
)


def own_change_reason(
    change: RuleChange, config: RemediationConfig, own_session_names: Sequence[str] = ()
) -> str | None:
    """Why this change looks like sgwatch's own (loop guard), or None.

    With sgwatch's role known (``own_role_arns``: configured, or found through STS) only the role counts: a
    session name or a user agent is chosen by the caller, so anyone could use ``sgwatch`` in them to escape a
    revert. Without a known role those marks are all there is.
    """
    actor = change.actor
    arns = [a for a in (actor.arn, actor.session_issuer_arn) if a]
    for pattern in config.own_role_arns:
        for arn in arns:
            if fnmatchcase(arn, pattern):
                return f"made by sgwatch's own role ({arn} matches {pattern})"
    if config.own_role_arns:
        return None
    session = actor.user_name if actor.type == "AssumedRole" else None
    if session and (session.lower().startswith(SELF_MARK) or session in own_session_names):
        return f"made by sgwatch's own role session {session!r}"
    if change.user_agent and f"{SELF_MARK}/" in change.user_agent.lower():
        return "made by sgwatch (its user agent marks the call)"
    return None


def skip_reason(
    judgement: Judgement,
    config: RemediationConfig,
    own_session_names: Sequence[str] = (),
    own_account: str | None = None,
) -> str | None:
    """Why this change must not be acted on, or None when it may be.

    ``own_account``: the account sgwatch's credentials act in (None: unknown); changes elsewhere are left.
    """
    change = judgement.change
    if change.outcome is not Outcome.SUCCESS:
        return f"the call failed ({change.error_code or 'error'}): nothing was changed"
    if own_account and change.account_id and change.account_id != own_account:
        return f"the change is in account {change.account_id}; sgwatch acts in account {own_account} only"
    if judgement.allowed_by:
        return f"allowlisted by policy: {judgement.allowed_by}"
    own = own_change_reason(change, config, own_session_names)
    if own:
        return f"loop guard: {own}"
    arns = [a for a in (change.actor.arn, change.actor.session_issuer_arn) if a]
    for pattern in config.allowlist:
        for arn in arns:
            if fnmatchcase(arn, pattern):
                return f"principal {arn} is in the remediation allowlist ({pattern})"
    if change.action not in (Action.ADDED, Action.MODIFIED):
        return f"only added or modified rules are reverted (this change: {change.action})"
    return None


def in_scope(judgement: Judgement, config: RemediationConfig) -> bool:
    """Remediation is on and the change is judged at least ``min_severity``."""
    return config.enabled and judgement.severity >= config.min_severity


def exact_permission(change: RuleChange) -> dict[str, Any] | str:
    """The one EC2 IpPermission the change added (protocol, ports, one peer), or why it cannot be built."""
    protocol, peer = change.protocol, change.peer
    if protocol is None:
        return "the record names no protocol for this rule"
    if not peer or change.peer_kind is None:
        return "the record names no peer for this rule"
    permission: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        if change.from_port is None or change.to_port is None:
            if protocol in ("tcp", "udp"):
                return "the record names no port range for this rule"
        else:
            permission["FromPort"] = change.from_port
            permission["ToPort"] = change.to_port
    match change.peer_kind:
        case PeerKind.IPV4:
            permission["IpRanges"] = [{"CidrIp": peer}]
        case PeerKind.IPV6:
            permission["Ipv6Ranges"] = [{"CidrIpv6": peer}]
        case PeerKind.PREFIX_LIST:
            permission["PrefixListIds"] = [{"PrefixListId": peer}]
        case PeerKind.GROUP:
            pair = {"GroupId": peer} if peer.startswith("sg-") else {"GroupName": peer}
            if change.peer_account_id:
                pair["UserId"] = change.peer_account_id
            permission["UserIdGroupPairs"] = [pair]
    return permission


def rule_request(rule: RuleChange) -> dict[str, Any] | None:
    """A ModifySecurityGroupRules ``SecurityGroupRule`` restoring ``rule``, or None when it cannot be expressed."""
    if rule.protocol is None or not rule.peer or rule.peer_kind is None:
        return None
    request: dict[str, Any] = {
        "IpProtocol": rule.protocol,
        "FromPort": -1 if rule.from_port is None else rule.from_port,
        "ToPort": -1 if rule.to_port is None else rule.to_port,
    }
    match rule.peer_kind:
        case PeerKind.IPV4:
            request["CidrIpv4"] = rule.peer
        case PeerKind.IPV6:
            request["CidrIpv6"] = rule.peer
        case PeerKind.PREFIX_LIST:
            request["PrefixListId"] = rule.peer
        case PeerKind.GROUP:
            if not rule.peer.startswith("sg-"):
                return None
            request["ReferencedGroupId"] = rule.peer
    if rule.description is not None:
        request["Description"] = rule.description
    return request


def is_world_open(judgement: Judgement) -> bool:
    """The change opens its rule to inbound traffic from the internet, as the policy judged it.

    Decided from the judgement's findings only: they already applied the policy's world thresholds and the
    rule's direction. The CIDR alone would call an egress rule to 0.0.0.0/0 world-open.
    """
    return not WORLD_FINDINGS.isdisjoint(judgement.finding_ids)


def _plan_added(change: RuleChange, group_id: str) -> RevokePlan | str:
    if change.direction is None:
        return "the record does not say whether the rule is ingress or egress"
    if change.rule_id:
        return RevokePlan(
            event_id=change.event_id,
            rule_key=change.rule_key,
            group_id=group_id,
            direction=change.direction,
            rule_id=change.rule_id,
            reason="revoke the added rule by id",
        )
    permission = exact_permission(change)
    if isinstance(permission, str):
        return permission
    return RevokePlan(
        event_id=change.event_id,
        rule_key=change.rule_key,
        group_id=group_id,
        direction=change.direction,
        ip_permission=permission,
        reason="revoke the exact permission the request added (no rule id recorded)",
    )


def _exposure(rule: RuleChange) -> tuple[object, ...]:
    """What lets traffic through a rule: protocol, ports (none for all traffic) and peer (not the description)."""
    ports = (None, None) if rule.protocol == "-1" else (rule.from_port, rule.to_port)
    return (rule.protocol, *ports, rule.peer, rule.peer_kind)


def _plan_modified(
    judgement: Judgement,
    group_id: str,
    previous: RuleChange | None,
    group: GroupInfo | None,
    current: RuleChange | None,
) -> RevokePlan | str:
    change = judgement.change
    if not change.rule_id:
        return "the record names no rule id"
    if current is not None and _exposure(current) != _exposure(change):
        # Changed again since (a later event, a revert already done): undoing this event now would undo that.
        return f"the rule no longer has the definition this event gave it (it is now {rule_text(current)}): left as is"
    direction = change.direction or (group.rule_direction if group else None)
    restore = rule_request(previous) if previous is not None else None
    if previous is not None and restore is not None:
        if rule_request(change) == restore:
            return "the rule already has its previous definition"
        return RevokePlan(
            event_id=change.event_id,
            rule_key=change.rule_key,
            group_id=group_id,
            rule_id=change.rule_id,
            direction=direction or previous.direction or Direction.INGRESS,
            restore_to=restore,
            reason="restore the rule's previous definition",
        )
    if not is_world_open(judgement):
        return "previous definition unknown and the rule is not open to the world: left as is"
    if direction is None:
        return "previous definition unknown and the rule's direction is unknown (turn enrichment on)"
    return RevokePlan(
        event_id=change.event_id,
        rule_key=change.rule_key,
        group_id=group_id,
        rule_id=change.rule_id,
        direction=direction,
        reason="previous definition unknown; the rule is now open to the world, so it is revoked",
    )


def plan_revert(
    judgement: Judgement,
    *,
    previous: RuleChange | None = None,
    group: GroupInfo | None = None,
    current: RuleChange | None = None,
) -> RevokePlan | str:
    """The plan undoing exactly this change, or why there is none. Call ``skip_reason`` first.

    For a modified rule: ``previous`` is its definition before the change (restored when known); ``current`` is
    the rule as described just now (enrichment), when known: a rule that no longer has the definition the
    event gave it is left as is (changed again since, or already put back by an earlier delivery).
    """
    change = judgement.change
    group_id = change.group_id or (group.group_id if group else None)
    if not group_id:
        return "the record names the group by name only (no group id)"
    if change.action is Action.MODIFIED:
        return _plan_modified(judgement, group_id, previous, group, current)
    if change.action is Action.ADDED:
        return _plan_added(change, group_id)
    return f"only added or modified rules are reverted (this change: {change.action})"


def _peers_text(direction: Direction, peers: Sequence[object]) -> str:
    """``from 0.0.0.0/0`` for ingress, ``to ::/0`` for egress (``sgwatch.ruletext``'s wording)."""
    return ("to " if direction is Direction.EGRESS else "from ") + ", ".join(str(p) for p in peers)


def restore_text(plan: RevokePlan) -> str | None:
    """The definition a restore plan writes back, as a rule reads: ``tcp/22 from 10.0.0.0/8``; None otherwise."""
    restore = plan.restore_to
    if restore is None:
        return None
    peer = next(
        (restore[k] for k in ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupId") if k in restore), "?"
    )
    return f"{_ports(restore)} {_peers_text(plan.direction, (peer,))}"


def describe_plan(plan: RevokePlan) -> str:
    """One line naming what the plan touches: ``sg-1 ingress sgr-2``, ``sg-1 ingress tcp/22 from 0.0.0.0/0``,
    ``sg-1 egress all traffic to ::/0``, ``sg-1 ingress sgr-2 back to tcp/22 from 10.0.0.0/8``."""
    what = plan.rule_id
    if what is None and plan.ip_permission is not None:
        p = plan.ip_permission
        peers = [
            *(r.get("CidrIp") for r in p.get("IpRanges", ())),
            *(r.get("CidrIpv6") for r in p.get("Ipv6Ranges", ())),
            *(r.get("PrefixListId") for r in p.get("PrefixListIds", ())),
            *(r.get("GroupId") or r.get("GroupName") for r in p.get("UserIdGroupPairs", ())),
        ]
        what = f"{_ports(p)} {_peers_text(plan.direction, peers)}"
    text = f"{plan.group_id} {plan.direction} {what or 'rule'}"
    restored = restore_text(plan)
    if restored is not None:
        text += f" back to {restored}"
    return text


def outcome_text(plan: RevokePlan, status: RemediationStatus) -> str:
    """What a remediation did, without the rule (alerts and the audit name the rule beside it): ``revoked``,
    ``restored to tcp/22 from 10.0.0.0/8``, or for a dry run ``would revoke the added rule by id``."""
    restored = restore_text(plan)
    if status is RemediationStatus.PLANNED:
        return f"would {plan.reason}" + (f": {restored}" if restored else "")
    if status is RemediationStatus.RESTORED:
        return f"restored to {restored}" if restored else "restored"
    if status is RemediationStatus.REVERTED:
        return "revoked"
    return str(status).replace("_", " ")


def _ports(spec: Mapping[str, Any]) -> str:
    """An EC2 API rule's protocol and ports in ``sgwatch.ruletext``'s wording (``tcp/22``, ``all traffic``)."""
    protocol = spec.get("IpProtocol")
    return format_ports(None if protocol is None else str(protocol), spec.get("FromPort"), spec.get("ToPort"))
