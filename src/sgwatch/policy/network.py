"""CIDR and port logic (pure): what counts as "the world", what is private, which ports a rule covers."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import cache, lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges that never route on the internet: RFC 1918, shared (CGNAT), loopback, link-local, ULA.
_PRIVATE_TEXT = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
)

ALL_PORTS = (0, 65535)


@cache
def _private() -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(text) for text in _PRIVATE_TEXT)


def parse_cidr(text: str | None) -> IPNetwork | None:
    """A CIDR as AWS recorded it; host bits are allowed (``10.0.0.5/24`` is 10.0.0.0/24); None if invalid."""
    if not text:
        return None
    return _parse_cidr(text)


@lru_cache(maxsize=4096)  # a trail repeats the same few CIDRs; networks are immutable
def _parse_cidr(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def is_wholly_private(net: IPNetwork) -> bool:
    return any(within(net, p) for p in _private())


WORLD_IPV4_PREFIX = 8  # a public IPv4 range this wide or wider is "the world" (the policy's ``world`` default)
WORLD_IPV6_PREFIX = 16  # and for IPv6


def is_world(net: IPNetwork, ipv4_prefix: int = WORLD_IPV4_PREFIX, ipv6_prefix: int = WORLD_IPV6_PREFIX) -> bool:
    """Not wholly private and at least as wide as /8 (IPv4) or /16 (IPv6): 0.0.0.0/1 and 2000::/3 count."""
    limit = ipv4_prefix if net.version == 4 else ipv6_prefix
    return net.prefixlen <= limit and not is_wholly_private(net)


def covered_ports(
    protocol: str | None, from_port: int | None, to_port: int | None, ports: Iterable[int]
) -> tuple[int, ...]:
    """The ``ports`` a rule lets through: all for all-traffic, by range coverage for TCP/UDP."""
    if protocol == "-1":
        return tuple(sorted(set(ports)))
    if protocol not in ("tcp", "udp") or from_port is None or to_port is None:
        return ()
    if from_port == -1 and to_port == -1:
        return tuple(sorted(set(ports)))
    return tuple(sorted(p for p in set(ports) if from_port <= p <= to_port))


def is_all_ports(protocol: str | None, from_port: int | None, to_port: int | None) -> bool:
    """All traffic, or a TCP/UDP range covering every port."""
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "udp") or from_port is None or to_port is None:
        return False
    return (from_port == -1 and to_port == -1) or (from_port <= 1 and to_port >= 65535)


def only_ports(protocol: str | None, from_port: int | None, to_port: int | None, allowed: Iterable[int]) -> bool:
    """True when a TCP/UDP rule's range holds a port and lies wholly within ``allowed`` (e.g. only 80 and 443).

    Ports are as recorded (the decoder keeps any integer): a reversed range (``443-80``) holds no port, so it
    is never "only these ports"; nor is -1 (all ports) or a range reaching past the ports in ``allowed``.
    """
    if protocol not in ("tcp", "udp") or from_port is None or to_port is None or from_port < 0:
        return False
    if from_port > to_port:
        return False
    allowed_set = set(allowed)
    if to_port - from_port + 1 > len(allowed_set):
        return False
    return all(p in allowed_set for p in range(from_port, to_port + 1))


def overlaps(a: IPNetwork, b: IPNetwork) -> bool:
    return a.version == b.version and a.overlaps(b)


def within(inner: IPNetwork, outer: IPNetwork) -> bool:
    """``inner`` lies wholly inside ``outer`` (False across IP versions)."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False
