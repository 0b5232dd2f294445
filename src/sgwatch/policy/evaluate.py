"""Judge one RuleChange: which catalog findings fire, at what severity, and whether an allowlist matches."""

from __future__ import annotations

import datetime as dt
from fnmatch import fnmatchcase

from sgwatch.model import (
    Action,
    Direction,
    Finding,
    GroupInfo,
    Judgement,
    Outcome,
    PeerKind,
    RuleChange,
    Severity,
)
from sgwatch.policy.catalog import load_catalog
from sgwatch.policy.network import (
    IPNetwork,
    covered_ports,
    is_all_ports,
    is_wholly_private,
    is_world,
    only_ports,
    parse_cidr,
    within,
)
from sgwatch.policy.schema import AllowEntry, Policy
from sgwatch.ruletext import ports_text

_DENIED_SUFFIXES = ("UnauthorizedOperation",)
_DENIED_PREFIXES = ("AccessDenied", "Client.AccessDenied")


def _finding(policy: Policy, finding_id: str, reason: str) -> Finding:
    entry = load_catalog()[finding_id]
    return Finding(finding_id=finding_id, title=entry.title, severity=policy.severity_of(finding_id), reason=reason)


def is_denied(error_code: str) -> bool:
    return error_code.endswith(_DENIED_SUFFIXES) or error_code.startswith(_DENIED_PREFIXES)


def _failure_findings(change: RuleChange, policy: Policy) -> list[Finding]:
    code = change.error_code or ""
    if is_denied(code):
        return [_finding(policy, "DENIED_ATTEMPT", f"{change.event_name} was denied ({code})")]
    if code.endswith("DryRunOperation"):
        return [_finding(policy, "DRY_RUN_CALL", f"{change.event_name} was a dry run")]
    return [_finding(policy, "FAILED_CALL", f"{change.event_name} failed ({code})")]


def _world_findings(change: RuleChange, net: IPNetwork, policy: Policy, group: GroupInfo | None) -> list[Finding]:
    what = f"{ports_text(change)} from {change.peer}"
    proto, lo, hi = change.protocol, change.from_port, change.to_port
    admin = covered_ports(proto, lo, hi, policy.admin_ports)
    if is_all_ports(proto, lo, hi):
        found = [_finding(policy, "WORLD_ALL_TRAFFIC_INGRESS", f"{what}: every port is reachable from the internet")]
    elif proto in ("icmp", "icmpv6"):
        found = [_finding(policy, "WORLD_ICMP_INGRESS", f"{what}: ICMP from the internet")]
    elif admin:
        ports = ", ".join(str(p) for p in admin)
        found = [_finding(policy, "WORLD_ADMIN_PORT_INGRESS", f"{what} covers admin/database port(s) {ports}")]
    elif only_ports(proto, lo, hi, policy.web_ports):
        found = [_finding(policy, "WORLD_WEB_INGRESS", f"{what}: public web only")]
    else:
        found = [_finding(policy, "WORLD_INGRESS", f"{what}: reachable from the internet")]
    if group is not None and group.exposed_now:
        count = len(group.instance_ids) or group.interface_count or 0
        found.append(
            _finding(
                policy,
                "GROUP_EXPOSED_NOW",
                f"{net} can reach {count} attached resource(s) with a public IP now",
            )
        )
    return found


def _ingress_findings(change: RuleChange, policy: Policy, group: GroupInfo | None) -> list[Finding]:
    proto, lo, hi = change.protocol, change.from_port, change.to_port
    what = f"{ports_text(change)} from {change.peer}"
    admin = covered_ports(proto, lo, hi, policy.admin_ports)
    if change.peer_kind is PeerKind.GROUP:
        owner = change.peer_account_id
        if owner and change.account_id and owner != change.account_id:
            return [_finding(policy, "CROSS_ACCOUNT_GROUP_REFERENCE", f"{what}: group owned by account {owner}")]
        return [_finding(policy, "RULE_ADDED", f"{what}: a group in the same account")]
    if change.peer_kind is PeerKind.PREFIX_LIST:
        cidrs = group.prefix_list_cidrs.get(change.peer or "", ()) if group else ()
        world = [
            n
            for n in map(parse_cidr, cidrs)
            if n is not None and is_world(n, policy.world_ipv4_prefix, policy.world_ipv6_prefix)
        ]
        if world:
            listed = ", ".join(str(n) for n in world)
            return [
                _finding(policy, "PREFIX_LIST_WORLD_INGRESS", f"{change.peer} contains {listed}"),
                *_world_findings(change, world[0], policy, group),
            ]
        if admin:
            ports = ", ".join(str(p) for p in admin)
            return [_finding(policy, "PREFIX_LIST_ADMIN_PORT_INGRESS", f"{what} covers admin/database port(s) {ports}")]
        return [_finding(policy, "RULE_ADDED", f"{what}: a managed prefix list")]
    net = parse_cidr(change.peer)
    if net is None:
        if change.peer is None:
            return [
                _finding(policy, "RULE_ADDED", f"{ports_text(change) or change.rule_id or 'rule'}: no peer recorded")
            ]
        return [_finding(policy, "UNPARSED_PEER", f"{change.peer!r} is not a CIDR")]
    if is_world(net, policy.world_ipv4_prefix, policy.world_ipv6_prefix):
        return _world_findings(change, net, policy, group)
    if is_wholly_private(net) or not admin:
        return [_finding(policy, "RULE_ADDED", f"{what}")]
    ports = ", ".join(str(p) for p in admin)
    if net.prefixlen <= (24 if net.version == 4 else 48):
        return [
            _finding(policy, "PUBLIC_RANGE_ADMIN_PORT_INGRESS", f"{what} (/{net.prefixlen}) covers port(s) {ports}")
        ]
    return [_finding(policy, "PUBLIC_HOST_ADMIN_PORT_INGRESS", f"{what} (/{net.prefixlen}) covers port(s) {ports}")]


def _egress_findings(change: RuleChange, policy: Policy) -> list[Finding]:
    net = parse_cidr(change.peer) if change.peer_kind in (PeerKind.IPV4, PeerKind.IPV6) else None
    if net is not None and is_world(net, policy.world_ipv4_prefix, policy.world_ipv6_prefix):
        return [_finding(policy, "WORLD_EGRESS", f"{ports_text(change)} to {change.peer}")]
    return [_finding(policy, "RULE_ADDED", f"egress {ports_text(change)} to {change.peer}")]


def _rule_findings(change: RuleChange, policy: Policy, group: GroupInfo | None) -> list[Finding]:
    direction = change.direction or (group.rule_direction if group else None) or Direction.INGRESS
    if direction is Direction.EGRESS:
        found = _egress_findings(change, policy)
    else:
        found = _ingress_findings(change, policy, group)
    # CIS 5.4: a VPC's default group should restrict all traffic, inbound and outbound alike.
    is_default = (group.is_default if group else None) or change.group_name == "default"
    if is_default:
        found.append(
            _finding(policy, "DEFAULT_GROUP_RULE_ADDED", f"{change.group_id or 'default'} is a VPC default group")
        )
    return found


def _action_findings(change: RuleChange, policy: Policy, group: GroupInfo | None) -> list[Finding]:
    match change.action:
        case Action.ADDED:
            return _rule_findings(change, policy, group)
        case Action.MODIFIED:
            judged = [f for f in _rule_findings(change, policy, group) if f.finding_id != "RULE_ADDED"]
            return [
                _finding(
                    policy,
                    "RULE_MODIFIED",
                    f"{change.rule_id or 'rule'} now {ports_text(change)} from {change.peer}",
                ),
                *judged,
            ]
        case Action.REMOVED:
            return [
                _finding(
                    policy,
                    "RULE_REMOVED",
                    f"{ports_text(change) or change.rule_id or 'rule'} revoked",
                )
            ]
        case Action.DESCRIPTION_CHANGED:
            return [_finding(policy, "DESCRIPTION_CHANGED", f"description now {change.description!r}")]
        case Action.CREATED:
            return [_finding(policy, "GROUP_CREATED", f"{change.group_id or change.group_name} created")]
        case Action.DELETED:
            return [_finding(policy, "GROUP_DELETED", f"{change.group_id or change.group_name} deleted")]
        case Action.ATTACHED:
            return [_finding(policy, "GROUP_SET_REPLACED", f"{change.target} now uses {change.group_id}")]
    raise AssertionError(f"unhandled action {change.action}")  # pragma: no cover


def _allow_match(change: RuleChange, entry: AllowEntry) -> bool:
    if entry.kind == "group":
        return change.group_id == entry.value
    if entry.kind == "principal":
        arns = [a for a in (change.actor.arn, change.actor.session_issuer_arn) if a]
        return any(fnmatchcase(arn, entry.value) for arn in arns)
    net = parse_cidr(change.peer) if change.peer_kind in (PeerKind.IPV4, PeerKind.IPV6) else None
    return net is not None and entry.network is not None and within(net, entry.network)


def evaluate(
    change: RuleChange, policy: Policy, *, group: GroupInfo | None = None, today: dt.date | None = None
) -> Judgement:
    """The verdict on one change. ``group`` (enrichment) may raise or lower the result."""
    today = today or dt.datetime.now(dt.UTC).date()
    findings: list[Finding] = []
    if change.actor.type == "Root":
        findings.append(_finding(policy, "ROOT_ACTOR", "the call used the account's root credentials"))
    if change.outcome is Outcome.FAILURE:
        findings += _failure_findings(change, policy)
    else:
        findings += _action_findings(change, policy, group)
    kept = [f for f in findings if not _suppressed(change, f, policy, today)]
    severity = max((f.severity for f in kept), default=Severity.INFO)
    allowed = next((e for e in policy.allowlist if e.active(today) and _allow_match(change, e)), None)
    if allowed is not None:
        severity = Severity.INFO
    return Judgement(
        change=change,
        findings=tuple(sorted(kept, key=lambda f: (-f.severity, f.finding_id))),
        severity=severity,
        allowed_by=allowed.describe() if allowed else None,
        suppressed=len(kept) < len(findings),
    )


def _suppressed(change: RuleChange, finding: Finding, policy: Policy, today: dt.date) -> bool:
    for s in policy.suppressions:
        if s.finding_id != finding.finding_id or not s.active(today):
            continue
        if s.groups and change.group_id not in s.groups:
            continue
        if s.accounts and change.account_id not in s.accounts:
            continue
        arns = [a for a in (change.actor.arn, change.actor.session_issuer_arn) if a]
        if s.principals and not any(fnmatchcase(a, p) for a in arns for p in s.principals):
            continue
        return True
    return False
