"""Typed readers for values in the ``notify:`` and ``delivery:`` config sections, with file:line errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sgwatch.errors import ConfigError
from sgwatch.yamlsrc import Node, check_keys, fail

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*\.?\d*)\s*([a-z]+)\s*$")
_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """At most ``count`` messages per ``period`` seconds to one destination."""

    count: int
    period: float

    def __str__(self) -> str:
        return f"{self.count}/{self.period:g}s"


@dataclass(frozen=True, slots=True, kw_only=True)
class BurstGuard:
    """More than ``max_alerts`` alerts within ``window`` seconds (event time) become one digest."""

    max_alerts: int
    window: float


def _bad(node: Node, key: str, what: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{node.where(key)}: {what}: {key}: expected {expected}, got {value!r}")


def get_str(node: Node, key: str, what: str, *, required: bool = False) -> str | None:
    value = node.get(key)
    if value is None:
        if required:
            fail(node, None, f"{what}: missing required key {key!r}", ConfigError)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise _bad(node, key, what, "a non-empty string", value)
    return str(value).strip()


def get_bool(node: Node, key: str, what: str, default: bool) -> bool:
    value = node.get(key, default)
    if not isinstance(value, bool):
        raise _bad(node, key, what, "true or false", value)
    return value


def get_number(node: Node, key: str, what: str, default: float, *, minimum: float = 0.0) -> float:
    value = node.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise _bad(node, key, what, f"a number of seconds >= {minimum:g}", value)
    return float(value)


def get_int(node: Node, key: str, what: str, default: int, *, minimum: int = 0, maximum: int = 1 << 31) -> int:
    value = node.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise _bad(node, key, what, f"an integer from {minimum} to {maximum}", value)
    return value


def get_str_list(node: Node, key: str, what: str) -> tuple[str, ...]:
    """A string or a list of strings (ints are accepted as their decimal text)."""
    value = node.get(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or str(item).strip() == "":
            raise _bad(node, key, what, "a string or a list of strings", item)
        out.append(str(item).strip())
    return tuple(out)


def parse_rate(node: Node, key: str, what: str) -> RateLimit | None:
    """``"1/s"``, ``"120/min"``, ``"10/5s"``; ``unlimited`` (or false) turns the limit off."""
    value = node.get(key)
    if value is False or (isinstance(value, str) and value.strip().lower() in ("unlimited", "none", "off")):
        return None
    match = _RATE.match(value) if isinstance(value, str) else None
    unit = _UNITS.get(match.group(3)) if match else None
    if match is None or unit is None or int(match.group(1)) < 1:
        raise _bad(node, key, what, "a rate like 1/s, 120/min or 10/5s, or unlimited", value)
    multiple = float(match.group(2)) if match.group(2) not in ("", ".") else 1.0
    if multiple <= 0:
        raise _bad(node, key, what, "a positive period", value)
    return RateLimit(count=int(match.group(1)), period=multiple * unit)


def parse_burst(node: Node, key: str, what: str) -> BurstGuard | None:
    """``{max_alerts: 10, window: 60}``, or false to send every alert on its own."""
    value = node.get(key)
    if value is False:
        return None
    if not isinstance(value, Node):
        raise _bad(node, key, what, "a mapping with max_alerts and window, or false", value)
    check_keys(value, ("max_alerts", "window"), f"{what}: {key}", ConfigError)
    return BurstGuard(
        max_alerts=get_int(value, "max_alerts", f"{what}: {key}", 10, minimum=1),
        window=get_number(value, "window", f"{what}: {key}", 60.0, minimum=0.001),
    )
