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


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretEnvironment:
    """The variables the test alert's ``env:`` secret references read, and whose they are."""

    variables: Mapping[str, str]
    origin: str  # "the environment of function NAME", or this shell's and why
    of_function: bool  # the function's own variables


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


# Lambda reads the queue in these states (Enabling/Creating/Updating settle as Enabled on their own).
ACTIVE_MAPPING_STATES = frozenset({"Creating", "Enabling", "Enabled", "Updating"})
QUEUE_CONSUMER = "Queue consumer"
QUEUE_BACKLOG = "Queue backlog"


def judge_consumer(mappings: Iterable[Mapping[str, Any]], *, function: str, queue_arn: str) -> Check:
    """Whether ListEventSourceMappings shows Lambda reading ``queue_arn`` into ``function``."""
    found = [m for m in mappings if m.get("EventSourceArn") == queue_arn]
    for mapping in found:
        if mapping.get("State") in ACTIVE_MAPPING_STATES:
            return Check(
                name=QUEUE_CONSUMER,
                ok=True,
                detail=f"event source mapping {mapping.get('UUID')} from the queue to {function} is "
                f"{mapping.get('State')}",
            )
    create = (
        f"aws lambda create-event-source-mapping --function-name {function} --event-source-arn {queue_arn} "
        "--function-response-types ReportBatchItemFailures"
    )
    if not found:
        return Check(
            name=QUEUE_CONSUMER,
            ok=False,
            detail=f"no event source mapping from {queue_arn} to {function}: nothing reads the queue",
            fix=create,
        )
    mapping = found[0]
    uuid, state = mapping.get("UUID"), mapping.get("State")
    reason = f" ({mapping['StateTransitionReason']})" if mapping.get("StateTransitionReason") else ""
    return Check(
        name=QUEUE_CONSUMER,
        ok=False,
        detail=f"event source mapping {uuid} from {queue_arn} to {function} is {state}{reason}: "
        "nothing reads the queue",
        fix=f"aws lambda update-event-source-mapping --uuid {uuid} --enabled"
        if state in ("Disabled", "Disabling")
        else create,
    )


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''}"
    return f"{seconds} s" if seconds else "the queue's retention period"


def judge_backlog(attributes: Mapping[str, Any], *, url: str, consumed: bool | None) -> Check:
    """Whether events wait in the main queue with nothing to read them (``consumed`` None: not known).

    Without a consumer they are never received, so they never reach the dead-letter queue: they expire.
    """
    waiting = int(attributes.get("ApproximateNumberOfMessages", 0))
    in_flight = int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
    if not waiting + in_flight:
        return Check(name=QUEUE_BACKLOG, ok=True, detail="empty")
    counts = f"{waiting} event(s) waiting, {in_flight} in flight in {url}"
    if consumed:
        return Check(name=QUEUE_BACKLOG, ok=True, detail=f"{counts}; the function reads the queue")
    expiry = _duration(int(attributes.get("MessageRetentionPeriod", 0)))
    if consumed is None:
        return Check(
            name=QUEUE_BACKLOG,
            ok=False,
            detail=f"{counts}; whether anything reads the queue is not known",
            fix=f"fix the {QUEUE_CONSUMER} check first: unread events expire after {expiry}",
        )
    return Check(
        name=QUEUE_BACKLOG,
        ok=False,
        detail=f"{counts} and nothing reads the queue: they expire after {expiry} without reaching the "
        "dead-letter queue",
        fix=f"restore the function's event source mapping (see {QUEUE_CONSUMER}) before they expire; "
        "the function then processes them",
    )


def function_variables(configuration: Mapping[str, Any]) -> tuple[dict[str, str] | None, str]:
    """A function configuration's (GetFunction ``Configuration``) environment variables, or None and why they are
    not readable."""
    environment = configuration.get("Environment") or {}
    error = environment.get("Error")
    if error:
        return None, (
            f"the function's environment is not readable: {error.get('ErrorCode', '?')}: {error.get('Message', '')}"
        )
    return {str(k): str(v) for k, v in (environment.get("Variables") or {}).items()}, ""
