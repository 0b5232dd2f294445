"""The YAML policy file: severities, admin ports, the "world" threshold, allowlists and suppressions.

Example::

    version: 1
    severities: {WORLD_WEB_INGRESS: medium}
    admin_ports: [22, 3389]          # replaces the default list
    extra_admin_ports: [8443]        # adds to it
    world: {ipv4_prefix: 8, ipv6_prefix: 16}
    allowlist:
      - cidr: 203.0.113.0/24
        reason: office VPN egress
        owner: netops@example.com
        expires: 2027-06-30
      - principal: "arn:aws:sts::*:assumed-role/terraform-*/*"
        reason: infrastructure pipeline
        owner: platform
      - group: sg-0123456789abcdef0
        reason: public bastion, reviewed quarterly
        owner: secops
    suppressions:
      - finding: WORLD_WEB_INGRESS
        groups: [sg-0aaa]            # optional scope: groups, accounts, principals
        reason: public load balancer
        owner: web-team
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sgwatch.errors import PolicyError
from sgwatch.model import Severity
from sgwatch.policy.catalog import load_catalog
from sgwatch.policy.network import WORLD_IPV4_PREFIX, WORLD_IPV6_PREFIX, IPNetwork, parse_cidr
from sgwatch.yamlsrc import Node, check_keys, load_yaml

# Security Hub EC2.19 high-risk ports, plus container, cache, search and cluster admin ports.
DEFAULT_ADMIN_PORTS: frozenset[int] = frozenset(
    {
        20,
        21,
        22,
        23,
        25,
        110,
        135,
        143,
        445,
        1433,
        1434,
        3000,
        3306,
        3389,
        4333,
        5000,
        5432,
        5500,
        5601,
        8080,
        8088,
    }
    | {8888, 9200, 9300, 2375, 2376, 2379, 5984, 6379, 6443, 9042, 10250, 11211, 27017}
)
DEFAULT_WEB_PORTS: frozenset[int] = frozenset({80, 443})

_TOP_KEYS = (
    "version",
    "severities",
    "admin_ports",
    "extra_admin_ports",
    "web_ports",
    "world",
    "allowlist",
    "suppressions",
)
_ALLOW_KINDS = ("cidr", "principal", "group")
_ENTRY_META = ("reason", "owner", "expires")


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowEntry:
    """Changes this entry matches are reported at info severity and never remediated."""

    kind: str  # cidr | principal | group
    value: str
    network: IPNetwork | None = None
    reason: str
    owner: str
    expires: dt.date | None = None
    where: str = ""

    def active(self, today: dt.date) -> bool:
        return self.expires is None or today <= self.expires

    def describe(self) -> str:
        return f"{self.kind} {self.value}: {self.reason} ({self.owner})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    """Drops one finding id, everywhere or within the listed groups/accounts/principals."""

    finding_id: str
    groups: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    reason: str
    owner: str
    expires: dt.date | None = None
    where: str = ""

    def active(self, today: dt.date) -> bool:
        return self.expires is None or today <= self.expires


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    source: str = "<default policy>"
    severities: dict[str, Severity] = field(default_factory=dict)  # overrides of catalog defaults
    admin_ports: frozenset[int] = DEFAULT_ADMIN_PORTS
    web_ports: frozenset[int] = DEFAULT_WEB_PORTS
    world_ipv4_prefix: int = WORLD_IPV4_PREFIX
    world_ipv6_prefix: int = WORLD_IPV6_PREFIX
    allowlist: tuple[AllowEntry, ...] = ()
    suppressions: tuple[Suppression, ...] = ()

    def severity_of(self, finding_id: str) -> Severity:
        override = self.severities.get(finding_id)
        return override if override is not None else load_catalog()[finding_id].severity

    def expired_entries(self, today: dt.date) -> list[str]:
        """``file:line: … expired on …`` for every allowlist entry or suppression past its date."""
        out = [
            f"{e.where}: allowlist {e.kind} {e.value!r} expired on {e.expires}"
            for e in self.allowlist
            if not e.active(today)
        ]
        out += [
            f"{s.where}: suppression of {s.finding_id} expired on {s.expires}"
            for s in self.suppressions
            if not s.active(today)
        ]
        return out


def _err(node: Node, key: str | None, message: str) -> PolicyError:
    return PolicyError(f"{node.where(key)}: {message}")


def _ports(node: Node, key: str) -> frozenset[int]:
    value = node[key]
    if not isinstance(value, list) or not value:
        raise _err(node, key, f"{key}: expected a non-empty list of port numbers")
    for port in value:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise _err(node, key, f"{key}: {port!r} is not a port number (0-65535)")
    return frozenset(value)


def _text(node: Node, key: str, what: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _err(node, key if key in node else None, f"{what}: '{key}' is required and must be text")
    return value


def _expires(node: Node, what: str) -> dt.date | None:
    """The last day an entry applies: a date; a date and time counts as its day in UTC (quoted or not)."""
    value = node.get("expires")
    if value is None:
        return None
    problem = ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())  # a date alone too (midnight)
        except ValueError as exc:  # "day is out of range for month" says more than "Invalid isoformat string"
            problem = "" if str(exc).startswith("Invalid isoformat") else f" ({exc})"
    if isinstance(value, dt.datetime):
        return value.date() if value.tzinfo is None else value.astimezone(dt.UTC).date()
    if isinstance(value, dt.date):
        return value
    raise _err(node, "expires", f"{what}: expires: expected a date like 2027-01-31, got {node['expires']!r}{problem}")


def _str_list(node: Node, key: str, what: str) -> tuple[str, ...]:
    value = node.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(node, key, f"{what}: {key}: expected a list of strings")
    return tuple(value)


def _allow_entry(node: Any, parent: Node, index: int) -> AllowEntry:
    if not isinstance(node, Node):
        raise _err(
            parent,
            "allowlist",
            f"allowlist[{index}]: expected a mapping with one of: {', '.join(_ALLOW_KINDS)}",
        )
    what = f"allowlist[{index}]"
    check_keys(node, (*_ALLOW_KINDS, *_ENTRY_META), what, PolicyError)
    kinds = [k for k in _ALLOW_KINDS if k in node]
    if len(kinds) != 1:
        raise _err(
            node,
            None,
            f"{what}: give exactly one of {', '.join(_ALLOW_KINDS)} (got {', '.join(kinds) or 'none'})",
        )
    kind = kinds[0]
    value = _text(node, kind, what)
    network = None
    if kind == "cidr":
        network = parse_cidr(value)
        if network is None:
            raise _err(node, kind, f"{what}: cidr: {value!r} is not a CIDR")
    elif kind == "group" and not value.startswith("sg-"):
        raise _err(node, kind, f"{what}: group: expected a group id like sg-0123abcd, got {value!r}")
    return AllowEntry(
        kind=kind,
        value=value,
        network=network,
        reason=_text(node, "reason", what),
        owner=_text(node, "owner", what),
        expires=_expires(node, what),
        where=node.where(kind),
    )


def _suppression(node: Any, parent: Node, index: int) -> Suppression:
    what = f"suppressions[{index}]"
    if not isinstance(node, Node):
        raise _err(parent, "suppressions", f"{what}: expected a mapping with 'finding'")
    check_keys(node, ("finding", "groups", "accounts", "principals", *_ENTRY_META), what, PolicyError)
    finding_id = _text(node, "finding", what)
    if finding_id not in load_catalog():
        raise _err(node, "finding", f"{what}: unknown finding id {finding_id!r} (see `sgwatch explain --list`)")
    return Suppression(
        finding_id=finding_id,
        groups=_str_list(node, "groups", what),
        accounts=_str_list(node, "accounts", what),
        principals=_str_list(node, "principals", what),
        reason=_text(node, "reason", what),
        owner=_text(node, "owner", what),
        expires=_expires(node, what),
        where=node.where("finding"),
    )


def parse_policy(doc: Any, source: str) -> Policy:
    """Validate a parsed policy document; errors carry file, line and key."""
    if doc is None:
        return Policy(source=source)
    if not isinstance(doc, Node):
        raise PolicyError(f"{source}: a policy must be a YAML mapping (keys: {', '.join(_TOP_KEYS)})")
    check_keys(doc, _TOP_KEYS, "policy", PolicyError)
    if doc.get("version", 1) != 1:
        raise _err(doc, "version", f"version: unsupported policy version {doc['version']!r} (expected 1)")
    severities: dict[str, Severity] = {}
    raw_sev = doc.get("severities")
    if raw_sev is None:
        raw_sev = Node()
        raw_sev.source, raw_sev.line, raw_sev.key_lines = source, doc.line, {}
    if not isinstance(raw_sev, Node):
        raise _err(doc, "severities", "severities: expected a mapping of finding id to severity")
    catalog = load_catalog()
    for finding_id, value in raw_sev.items():
        if finding_id not in catalog:
            raise _err(
                raw_sev,
                finding_id,
                f"severities: unknown finding id {finding_id!r} (see `sgwatch explain --list`)",
            )
        try:
            severities[finding_id] = Severity.parse(str(value))
        except ValueError as exc:
            raise _err(raw_sev, finding_id, f"severities: {finding_id}: {exc}") from None
    admin = _ports(doc, "admin_ports") if "admin_ports" in doc else DEFAULT_ADMIN_PORTS
    if "extra_admin_ports" in doc:
        admin = admin | _ports(doc, "extra_admin_ports")
    web = _ports(doc, "web_ports") if "web_ports" in doc else DEFAULT_WEB_PORTS
    world = doc.get("world") or {}
    v4, v6 = WORLD_IPV4_PREFIX, WORLD_IPV6_PREFIX
    if world:
        if not isinstance(world, Node):
            raise _err(doc, "world", "world: expected a mapping with ipv4_prefix and/or ipv6_prefix")
        check_keys(world, ("ipv4_prefix", "ipv6_prefix"), "world", PolicyError)
        for key, limit in (("ipv4_prefix", 32), ("ipv6_prefix", 128)):
            value = world.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit):
                raise _err(world, key, f"world: {key}: expected a prefix length 0-{limit}, got {value!r}")
        v4 = WORLD_IPV4_PREFIX if world.get("ipv4_prefix") is None else world["ipv4_prefix"]  # null: the default
        v6 = WORLD_IPV6_PREFIX if world.get("ipv6_prefix") is None else world["ipv6_prefix"]
    for key in ("allowlist", "suppressions"):
        if doc.get(key) is not None and not isinstance(doc[key], list):
            raise _err(doc, key, f"{key}: expected a list")
    return Policy(
        source=source,
        severities=severities,
        admin_ports=admin,
        web_ports=web,
        world_ipv4_prefix=v4,
        world_ipv6_prefix=v6,
        allowlist=tuple(_allow_entry(e, doc, i) for i, e in enumerate(doc.get("allowlist") or [])),
        suppressions=tuple(_suppression(e, doc, i) for i, e in enumerate(doc.get("suppressions") or [])),
    )


def load_policy(path: Path | None) -> Policy:
    """The policy from a YAML file, or the defaults when ``path`` is None."""
    if path is None:
        return Policy()
    return parse_policy(load_yaml(path, PolicyError), str(path))
