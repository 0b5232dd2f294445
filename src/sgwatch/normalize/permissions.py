"""Rules out of requests and responses: one ``Rule`` per (permission x peer).

Three sources describe the same rules: the request's ``ipPermissions`` (items form), the legacy flat request
form (top-level ``cidrIp``/``ipProtocol``/``fromPort``/``toPort``), and the response's
``securityGroupRuleSet`` (rule ids, the group id even when the request named the group by name). ``merge``
joins request and response so each rule is reported once, with the response's details preferred.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sgwatch.model import Direction, PeerKind
from sgwatch.normalize.values import MAPPING, Where, flag, items, rule_ports, string


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One rule x peer, as far as the record tells."""

    direction: Direction | None = None
    protocol: str | None = None
    from_port: int | None = None
    to_port: int | None = None
    peer: str | None = None
    peer_kind: PeerKind | None = None
    peer_account_id: str | None = None
    rule_id: str | None = None
    description: str | None = None
    group_id: str | None = None

    @property
    def match_key(self) -> tuple[Any, ...]:
        peer = self.peer.lower() if self.peer else None
        return (self.protocol, self.from_port, self.to_port, peer)


def _peers(
    permission: Mapping[str, Any], path: str, where: Where
) -> list[tuple[str | None, PeerKind, str | None, str | None]]:
    """(peer, kind, peer_account_id, description) for every peer of one IpPermission, in AWS's order."""
    peers: list[tuple[str | None, PeerKind, str | None, str | None]] = []
    for i, entry in enumerate(items(permission.get("ipRanges"), f"{path}.ipRanges", where)):
        p = f"{path}.ipRanges.items[{i}]"
        peers.append((string(entry, "cidrIp", p, where), PeerKind.IPV4, None, string(entry, "description", p, where)))
    for i, entry in enumerate(items(permission.get("ipv6Ranges"), f"{path}.ipv6Ranges", where)):
        p = f"{path}.ipv6Ranges.items[{i}]"
        peers.append((string(entry, "cidrIpv6", p, where), PeerKind.IPV6, None, string(entry, "description", p, where)))
    for i, entry in enumerate(items(permission.get("prefixListIds"), f"{path}.prefixListIds", where)):
        p = f"{path}.prefixListIds.items[{i}]"
        peers.append(
            (
                string(entry, "prefixListId", p, where),
                PeerKind.PREFIX_LIST,
                None,
                string(entry, "description", p, where),
            )
        )
    for i, entry in enumerate(items(permission.get("groups"), f"{path}.groups", where)):
        p = f"{path}.groups.items[{i}]"
        group = string(entry, "groupId", p, where) or string(entry, "groupName", p, where)
        owner = string(entry, "userId", p, where)
        peers.append((group, PeerKind.GROUP, owner, string(entry, "description", p, where)))
    return peers


def request_rules(params: Mapping[str, Any], direction: Direction, where: Where) -> list[Rule]:
    """Rules named by an Authorize/Revoke/UpdateDescriptions request, items form and flat form."""
    rules = permission_rules(params.get("ipPermissions"), direction, "$.requestParameters.ipPermissions", where)
    rules.extend(_flat_rule(params, direction, where))
    return rules


def permission_rules(value: Any, direction: Direction, base: str, where: Where) -> list[Rule]:
    """One Rule per peer of every IpPermission in an items-form list."""
    rules: list[Rule] = []
    for index, permission in enumerate(items(value, base, where)):
        path = f"{base}.items[{index}]"
        proto, from_port, to_port = rule_ports(permission, path, where)
        peers = _peers(permission, path, where)
        if not peers:  # a permission with no peer at all: still one attempted rule
            peers = [(None, PeerKind.IPV4, None, None)]
        for peer, kind, owner, description in peers:
            rules.append(
                Rule(
                    direction=direction,
                    protocol=proto,
                    from_port=from_port,
                    to_port=to_port,
                    peer=peer,
                    peer_kind=kind if peer is not None else None,
                    peer_account_id=owner,
                    description=description,
                )
            )
    return rules


def _flat_rule(params: Mapping[str, Any], direction: Direction, where: Where) -> list[Rule]:
    """The legacy flat form: ``cidrIp``/``ipProtocol``/``fromPort``/``toPort`` at the top level."""
    path = "$.requestParameters"
    cidr = string(params, "cidrIp", path, where)
    source_group = string(params, "sourceSecurityGroupName", path, where)
    if cidr is None and source_group is None and params.get("ipProtocol") is None:
        return []
    proto, from_port, to_port = rule_ports(params, path, where)
    if proto is None and source_group is not None:
        proto = "-1"  # a source group without protocol grants all traffic from that group
        from_port, to_port = None, None
    rules = []
    if cidr is not None or source_group is None:
        rules.append(
            Rule(
                direction=direction,
                protocol=proto,
                from_port=from_port,
                to_port=to_port,
                peer=cidr,
                peer_kind=PeerKind.IPV4 if cidr is not None else None,
            )
        )
    if source_group is not None:
        rules.append(
            Rule(
                direction=direction,
                protocol=proto,
                from_port=from_port,
                to_port=to_port,
                peer=source_group,
                peer_kind=PeerKind.GROUP,
                peer_account_id=string(params, "sourceSecurityGroupOwnerId", path, where),
            )
        )
    return rules


def response_rules(response: Mapping[str, Any] | None, key: str, where: Where) -> list[Rule] | None:
    """Rules from ``responseElements.<key>`` (``securityGroupRuleSet``); None when the response has none."""
    if response is None or key not in response:
        return None
    base = f"$.responseElements.{key}"
    rules = []
    for index, entry in enumerate(items(response.get(key), base, where)):
        path = f"{base}.items[{index}]"
        proto, from_port, to_port = rule_ports(entry, path, where)
        peer: str | None
        owner = None
        if entry.get("cidrIpv4") is not None:
            peer, kind = string(entry, "cidrIpv4", path, where), PeerKind.IPV4
        elif entry.get("cidrIpv6") is not None:
            peer, kind = string(entry, "cidrIpv6", path, where), PeerKind.IPV6
        elif entry.get("prefixListId") is not None:
            peer, kind = string(entry, "prefixListId", path, where), PeerKind.PREFIX_LIST
        else:
            ref = entry.get("referencedGroupInfo")
            ref = ref if isinstance(ref, MAPPING) else {}
            peer = string(ref, "groupId", f"{path}.referencedGroupInfo", where) or string(
                entry, "referencedGroupId", path, where
            )
            owner = string(ref, "userId", f"{path}.referencedGroupInfo", where)
            kind = PeerKind.GROUP
        egress = flag(entry.get("isEgress"))
        rules.append(
            Rule(
                direction=None if egress is None else (Direction.EGRESS if egress else Direction.INGRESS),
                protocol=proto,
                from_port=from_port,
                to_port=to_port,
                peer=peer,
                peer_kind=kind if peer is not None else None,
                peer_account_id=owner,
                rule_id=string(entry, "securityGroupRuleId", path, where),
                description=string(entry, "description", path, where),
                group_id=string(entry, "groupId", path, where),
            )
        )
    return rules


def loose_key(rule: Rule) -> tuple[Any, ...]:
    """Protocol, ports and peer kind: pairs a group named by name with the same group by id."""
    return (rule.protocol, rule.from_port, rule.to_port, rule.peer_kind)


def pair(requested: list[Rule], offered: list[Rule]) -> tuple[list[Rule | None], list[Rule]]:
    """The entry of ``offered`` that names each requested rule (or None), and the entries named by none.

    Exact peers first for every rule, then by protocol/ports/peer kind (a group named by name in the request
    comes back by id; a CIDR written with host bits comes back as AWS stored it), so a loose match never takes
    the entry that is another rule's exact one.
    """
    pool = list(offered)
    matched: list[Rule | None] = [None] * len(requested)
    for key in (lambda r: r.match_key, loose_key):
        for index, rule in enumerate(requested):
            if matched[index] is not None:
                continue
            found = next((r for r in pool if key(r) == key(rule)), None)
            if found is not None:
                pool.remove(found)
                matched[index] = found
    return matched, pool


def merge(requested: list[Rule], responded: list[Rule] | None) -> list[Rule]:
    """Each rule once: response entries (rule ids, group id) matched to the request's, request order kept.

    Response entries that match no request entry are added after (the response is authoritative); request
    entries with no response entry are kept (records from before rule ids existed have no response set).
    """
    if not responded:
        return requested
    matched, pool = pair(requested, responded)
    merged = [
        rule
        if match is None
        else replace(
            match,
            direction=match.direction or rule.direction,
            description=match.description if match.description is not None else rule.description,
            peer_account_id=match.peer_account_id or rule.peer_account_id,
        )
        for rule, match in zip(requested, matched, strict=True)
    ]
    merged.extend(pool)
    return merged
