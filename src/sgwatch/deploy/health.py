"""Pure judgements behind ``sgwatch doctor``: what AWS answered -> healthy or not, and why.

No AWS calls here; ``doctor`` gathers the answers and these functions read them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sgwatch.normalize.events import EVENT_SOURCE, SG_EVENT_NAMES


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One doctor check: its name, whether it passed, what was found and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    skipped: bool = False

    @property
    def status(self) -> str:
        """``pass``, ``fail`` or ``skip``."""
        return "skip" if self.skipped else "pass" if self.ok else "fail"


def _field(selector: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for field in selector.get("FieldSelectors", []):
        if field.get("Field") == name:
            return dict(field)
    return None


def _advanced_records_writes(selector: Mapping[str, Any]) -> bool:
    category = _field(selector, "eventCategory")
    if category is None or "Management" not in category.get("Equals", []):
        return False
    read_only = _field(selector, "readOnly")
    if read_only is not None and read_only.get("Equals") == ["true"]:
        return False
    source = _field(selector, "eventSource")
    if source is not None:
        if "Equals" in source and EVENT_SOURCE not in source["Equals"]:
            return False
        if EVENT_SOURCE in source.get("NotEquals", []):
            return False
    return True


def records_management_writes(selectors: Mapping[str, Any]) -> bool:
    """Whether a GetEventSelectors answer (basic or advanced) records EC2 management write events."""
    advanced = selectors.get("AdvancedEventSelectors") or []
    basic = selectors.get("EventSelectors") or []
    if not advanced and not basic:
        return True  # a trail without selectors records all management events
    if any(_advanced_records_writes(s) for s in advanced):
        return True
    return any(
        s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") in ("All", "WriteOnly")
        and EVENT_SOURCE not in s.get("ExcludeManagementEventSources", [])
        for s in basic
    )  # fmt: skip


def missing_event_names(event_pattern: str | Mapping[str, Any]) -> tuple[str, ...]:
    """The sgwatch event names a rule's pattern does not match (by its ``detail.eventName`` list)."""
    pattern = json.loads(event_pattern) if isinstance(event_pattern, str) else event_pattern
    if pattern.get("source") != ["aws.ec2"]:
        return SG_EVENT_NAMES
    names = pattern.get("detail", {}).get("eventName")
    if names is None:
        return ()  # no name filter: every EC2 event matches
    return tuple(name for name in SG_EVENT_NAMES if name not in names)


def error_total(datapoints: Iterable[Mapping[str, Any]]) -> float:
    """Sum of the ``Sum`` statistic over CloudWatch datapoints (no datapoints: 0)."""
    return float(sum(float(point.get("Sum", 0.0)) for point in datapoints))


def delivery_failures(deliveries: Iterable[Any]) -> list[str]:
    """``channel: detail`` for every delivery whose status is ``failed``."""
    return [
        f"{getattr(d, 'channel', '?')}: {getattr(d, 'detail', '') or 'failed'}"
        for d in deliveries
        if str(getattr(d, "status", "")) == "failed"
    ]
