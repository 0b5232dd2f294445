"""Property tests for port coverage, the world/private logic and the normalizer."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sgwatch.decode import decode_record
from sgwatch.normalize import normalize
from sgwatch.policy.network import covered_ports, is_all_ports, is_wholly_private, is_world, parse_cidr

ports = st.integers(min_value=0, max_value=65535)
protocols = st.sampled_from(["tcp", "udp", "icmp", "-1", "47"])


@given(protocols, ports, ports, st.sets(ports, max_size=20))
def test_covered_ports_matches_brute_force(protocol: str, a: int, b: int, wanted: set[int]) -> None:
    lo, hi = min(a, b), max(a, b)
    expected = sorted(p for p in wanted if protocol == "-1" or (protocol in ("tcp", "udp") and lo <= p <= hi))
    assert list(covered_ports(protocol, lo, hi, wanted)) == expected


@given(ports, ports)
def test_all_ports_means_every_port_is_covered(a: int, b: int) -> None:
    lo, hi = min(a, b), max(a, b)
    if is_all_ports("tcp", lo, hi):
        assert covered_ports("tcp", lo, hi, [1, 22, 65535]) == (1, 22, 65535)


@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_world_v4_is_width_and_not_private(address: int, prefix: int) -> None:
    net = ipaddress.IPv4Network((address, prefix), strict=False)
    world = is_world(net)
    assert world == (prefix <= 8 and not is_wholly_private(net))
    if prefix == 0:
        assert world
    if net.subnet_of(ipaddress.ip_network("10.0.0.0/8")):
        assert not world


@given(st.integers(0, 2**128 - 1), st.integers(0, 128))
def test_world_v6_threshold(address: int, prefix: int) -> None:
    net = ipaddress.IPv6Network((address, prefix), strict=False)
    assert is_world(net) == (prefix <= 16 and not is_wholly_private(net))


@given(st.integers(0, 2**32 - 1), st.integers(0, 32))
def test_host_bits_are_accepted(address: int, prefix: int) -> None:
    text = f"{ipaddress.IPv4Address(address)}/{prefix}"
    net = parse_cidr(text)
    assert net is not None
    assert net.prefixlen == prefix
    assert ipaddress.IPv4Address(address) in net


peer_v4 = st.builds(lambda a, p: f"{ipaddress.IPv4Address(a)}/{p}", st.integers(0, 2**32 - 1), st.integers(0, 32))
peer_v6 = st.builds(lambda a, p: f"{ipaddress.IPv6Address(a)}/{p}", st.integers(0, 2**128 - 1), st.integers(0, 128))
port_value = st.one_of(ports, ports.map(str))


@st.composite
def permissions(draw: st.DrawFn) -> dict[str, Any]:
    v4 = draw(st.lists(peer_v4, max_size=3))
    v6 = draw(st.lists(peer_v6, max_size=3))
    groups = draw(st.lists(st.from_regex(r"sg-[0-9a-f]{8}", fullmatch=True), max_size=2))
    return {
        "ipProtocol": draw(st.sampled_from(["tcp", "udp", "6", "17", "icmp", "-1", "58"])),
        "fromPort": draw(port_value),
        "toPort": draw(port_value),
        "ipRanges": {"items": [{"cidrIp": c} for c in v4]} if v4 else {},
        "ipv6Ranges": {"items": [{"cidrIpv6": c} for c in v6]} if v6 else {},
        "groups": {"items": [{"groupId": g} for g in groups]} if groups else {},
        "prefixListIds": {},
    }


@settings(max_examples=150)
@given(st.lists(permissions(), min_size=1, max_size=4), st.booleans())
def test_one_change_per_rule_and_peer(perms: list[dict[str, Any]], as_json: bool) -> None:
    record = {
        "eventID": "e1",
        "eventName": "AuthorizeSecurityGroupIngress",
        "eventSource": "ec2.amazonaws.com",
        "eventTime": "2026-01-01T00:00:00Z",
        "requestParameters": {"groupId": "sg-1", "ipPermissions": {"items": perms}},
        "responseElements": {"_return": True},
    }
    if as_json:
        record = json.loads(json.dumps(record))
    result = normalize(decode_record(record, "prop"))
    expected = sum(
        max(
            1,
            len(p["ipRanges"].get("items", []))
            + len(p["ipv6Ranges"].get("items", []))
            + len(p["groups"].get("items", [])),
        )
        for p in perms
    )
    assert len(result) == expected
    assert [c.rule_index for c in result] == list(range(len(result)))
    for change in result:
        assert change.protocol in {"tcp", "udp", "icmp", "-1", "icmpv6"}
        if change.protocol == "-1":
            assert change.from_port is None
            assert change.to_port is None
        else:
            assert isinstance(change.from_port, int)
            assert isinstance(change.to_port, int)
