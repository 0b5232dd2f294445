"""Value readers for CloudTrail's EC2 shapes: ``{"items": [...]}`` lists, protocols, ports.

Strict about types (a port that is an object is an error, with its JSON path), lenient about values (a
port given as ``"22"`` is 22; an unknown protocol name is kept as written).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sgwatch.errors import DecodeError

# isinstance(x, MAPPING) tries dict first: the abstract Mapping check alone costs ~0.5 us per call.
MAPPING = (dict, Mapping)

PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "-1": "-1"}


class Where:
    """The record being normalized, for error messages."""

    def __init__(self, origin: str, event_id: str) -> None:
        self.origin = origin
        self.event_id = event_id

    def error(self, path: str, message: str) -> DecodeError:
        return DecodeError(f"{self.origin} (eventID {self.event_id})", f"{path}: {message}")


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(value), type(value).__name__)


def items(value: Any, path: str, where: Where) -> list[Mapping[str, Any]]:
    """CloudTrail list shapes: ``{"items": [...]}``, a bare list, ``{}`` or null; each entry an object."""
    if value is None:
        return []
    if isinstance(value, MAPPING):
        if "items" not in value:
            return []
        value = value["items"]
        path = f"{path}.items"
        if value is None:
            return []
    if isinstance(value, MAPPING):  # a single entry where a list was expected
        value = [value]
    if not isinstance(value, list):
        raise where.error(path, f"expected a list, got {type_name(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, MAPPING):
            raise where.error(f"{path}[{index}]", f"expected an object, got {type_name(entry)}")
    return value


def string(mapping: Mapping[str, Any], key: str, path: str, where: Where) -> str | None:
    value = mapping.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise where.error(f"{path}.{key}", f"expected a string, got {type_name(value)}")


def protocol(value: Any, path: str, where: Where) -> str | None:
    """``6``/``"6"``/``"TCP"`` -> ``"tcp"``; ``-1`` -> ``"-1"``; other numbers stay numeric strings."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise where.error(path, f"expected a protocol name or number, got {type_name(value)}")
    text = str(value).strip().lower()
    if not text:
        return None
    return PROTOCOL_NAMES.get(text, text)


def port(value: Any, path: str, where: Where) -> int | None:
    """Ports (or ICMP type/code) as int; numeric strings accepted; absent -> None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise where.error(path, "expected a port number, got boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise where.error(path, f"expected a port number, got {value!r}") from None
    raise where.error(path, f"expected a port number, got {type_name(value)}")


def rule_ports(
    entry: Mapping[str, Any], path: str, where: Where, keys: tuple[str, str, str] = ("ipProtocol", "fromPort", "toPort")
) -> tuple[str | None, int | None, int | None]:
    """(protocol, from_port, to_port) of one permission or rule entry, normalized."""
    proto_key, from_key, to_key = keys
    proto = protocol(entry.get(proto_key), f"{path}.{proto_key}", where)
    from_port, to_port = ports_for(
        proto,
        port(entry.get(from_key), f"{path}.{from_key}", where),
        port(entry.get(to_key), f"{path}.{to_key}", where),
    )
    return proto, from_port, to_port


def ports_for(proto: str | None, from_port: int | None, to_port: int | None) -> tuple[int | None, int | None]:
    """All-traffic rules carry no ports (AWS records 0/0, -1/-1 or nothing): normalize to None."""
    if proto == "-1":
        return None, None
    return from_port, to_port


def flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None
