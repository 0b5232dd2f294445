"""CloudTrail LookupEvents as a source (``sgwatch watch --lookup-events``): no infrastructure needed.

One query per security-group event name (LookupEvents filters on one attribute at a time), paged, paced
to stay under the API's 2 requests per second. Each event's ``CloudTrailEvent`` field is the record JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sgwatch.errors import SourceError, aws_error, aws_error_text
from sgwatch.sources.base import Problem, RawRecord, SourceItem, load_json

MIN_INTERVAL = 0.5  # seconds between calls: LookupEvents allows 2 per second per account and region


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupEvent:
    """One event LookupEvents returned: its id and time (for the checkpoint) and the record to judge."""

    event_id: str
    event_time: datetime
    item: SourceItem


def _event(raw: Any) -> LookupEvent:
    event_id = str(raw.get("EventId") or "")
    at = raw.get("EventTime")
    event_time = at.astimezone(UTC) if isinstance(at, datetime) else datetime.now(UTC)
    origin = f"cloudtrail:LookupEvents:{event_id}"
    text = raw.get("CloudTrailEvent")
    try:
        data = load_json(text) if isinstance(text, str) else None
    except ValueError as exc:
        data, error = None, f"CloudTrailEvent is not valid JSON: {exc}"
    else:
        error = "CloudTrailEvent is missing or not a JSON object"
    if not isinstance(data, dict):
        return LookupEvent(
            event_id=event_id, event_time=event_time, item=Problem(origin=origin, message=error, item_id=event_id)
        )
    return LookupEvent(
        event_id=event_id, event_time=event_time, item=RawRecord(data=data, origin=origin, item_id=event_id)
    )


def lookup_events(
    client: Any,
    event_names: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    min_interval: float = MIN_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[LookupEvent]:
    """Every event named in ``event_names`` with start <= time <= end (newest first per name)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    first = True
    for name in event_names:
        token: str | None = None
        while True:
            if not first and min_interval > 0:
                sleep(min_interval)
            first = False
            kwargs: dict[str, Any] = {
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                "StartTime": start,
                "EndTime": end,
                "MaxResults": 50,
            }
            if token:
                kwargs["NextToken"] = token
            try:
                response = client.lookup_events(**kwargs)
            except ClientError as exc:
                hint = " (the credentials need cloudtrail:LookupEvents)" if "Denied" in aws_error(exc)[0] else ""
                raise SourceError(f"cloudtrail:LookupEvents {name}: {aws_error_text(exc, None)}{hint}") from exc
            except BotoCoreError as exc:
                raise SourceError(f"cloudtrail:LookupEvents {name}: {exc}") from exc
            for raw in response.get("Events") or ():
                yield _event(raw)
            token = response.get("NextToken")
            if not token:
                break
