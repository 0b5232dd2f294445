"""What the EC2 describe calls tell about a group, in sgwatch's own spelling (no AWS camelCase)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sgwatch.model import Direction, PeerKind


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupFacts:
    """DescribeSecurityGroups: one group."""

    group_id: str
    group_name: str | None = None
    vpc_id: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleFacts:
    """DescribeSecurityGroupRules: one rule as it stands now."""

    rule_id: str
    group_id: str | None = None
    direction: Direction
    protocol: str | None = None  # "tcp", "udp", "icmp", "-1", or an IANA number as a string
    from_port: int | None = None  # None for all-traffic rules
    to_port: int | None = None
    peer: str | None = None
    peer_kind: PeerKind | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InterfaceFacts:
    """DescribeNetworkInterfaces: one interface that uses the group."""

    interface_id: str
    instance_id: str | None = None
    public_ip: str | None = None  # public IPv4 (association) or a global IPv6 address
