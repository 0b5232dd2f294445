"""``watch --lookup-events``: one query per event name, paging, and a checkpoint that neither misses nor
repeats across restarts (CloudTrail LookupEvents through botocore's Stubber: moto does not implement it)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from sgwatch.normalize.events import SG_EVENT_NAMES
from sgwatch.runtime import build_app
from sgwatch.runtime.checkpoint import load_checkpoint
from sgwatch.runtime.lookup_watch import LookupOptions, run_lookup_watch
from sgwatch.settings import load_settings

from .conftest import load_fixture

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LOOKBACK = timedelta(minutes=20)


def _event(event_id: str, at: datetime) -> dict[str, Any]:
    rec = load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")
    rec.update(eventID=event_id, eventTime=at.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return {"EventId": event_id, "EventName": rec["eventName"], "EventTime": at, "CloudTrailEvent": json.dumps(rec)}


def _stub(client: Any, start: datetime, end: datetime, pages: list[list[dict[str, Any]]]) -> Stubber:
    """Expect one query per event name; the Authorize... query returns ``pages`` (paged with NextToken)."""
    stubber = Stubber(client)
    for name in SG_EVENT_NAMES:
        chunks = pages if name == "AuthorizeSecurityGroupIngress" else [[]]
        for index, events in enumerate(chunks):
            params: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                                      "StartTime": start, "EndTime": end, "MaxResults": 50}  # fmt: skip
            if index:
                params["NextToken"] = f"page-{index}"
            response: dict[str, Any] = {"Events": events}
            if index + 1 < len(chunks):
                response["NextToken"] = f"page-{index + 1}"
            stubber.add_response("lookup_events", response, params)
    stubber.activate()
    return stubber


@pytest.fixture
def cloudtrail(build: Any) -> Any:
    import boto3

    return boto3.session.Session().client("cloudtrail", region_name=build.region)


def _run(config_path: Path, client: Any, checkpoint: Path, now: datetime) -> bool:
    app = build_app(load_settings(config_path, environ=dict(os.environ)))
    options = LookupOptions(checkpoint_path=checkpoint, lookback=LOOKBACK, min_call_interval=0)
    return run_lookup_watch(app, client, options, once=True, now=lambda: now)


def test_restarts_neither_miss_nor_repeat(cloudtrail: Any, config: Any, receiver: Any, tmp_path: Path) -> None:
    path = config("enrich: false\n")
    checkpoint = tmp_path / "lookup.json"
    first = [_event("ev-1", NOW - timedelta(minutes=9)), _event("ev-2", NOW - timedelta(minutes=5))]
    stubber = _stub(cloudtrail, NOW - LOOKBACK, NOW, [first[:1], first[1:]])
    assert _run(path, cloudtrail, checkpoint, NOW)
    stubber.assert_no_pending_responses()
    stubber.deactivate()
    assert sorted(a["event_id"] for a in receiver.alerts()) == ["ev-1", "ev-2"]
    saved = load_checkpoint(checkpoint)
    assert saved.time == NOW
    assert set(saved.seen) == {"ev-1", "ev-2"}

    # A restart two minutes later: the window reaches back `lookback` before the checkpoint, so an event
    # CloudTrail made visible late (ev-3, older than the last poll) is caught; ev-1/ev-2 are not repeated.
    later = NOW + timedelta(minutes=2)
    late = _event("ev-3", NOW - timedelta(minutes=1))
    stubber = _stub(cloudtrail, NOW - LOOKBACK, later, [[*first, late]])
    assert _run(path, cloudtrail, checkpoint, later)
    stubber.assert_no_pending_responses()
    stubber.deactivate()
    assert sorted(a["event_id"] for a in receiver.alerts()) == ["ev-1", "ev-2", "ev-3"]
    assert set(load_checkpoint(checkpoint).seen) == {"ev-1", "ev-2", "ev-3"}


def test_a_failed_delivery_is_read_again_on_the_next_poll(
    cloudtrail: Any, config: Any, receiver: Any, tmp_path: Path
) -> None:
    path = config("enrich: false\n")
    checkpoint = tmp_path / "lookup.json"
    events = [_event("ev-ok", NOW - timedelta(minutes=8)), _event("ev-bad", NOW - timedelta(minutes=4))]
    receiver.fail_events.add("ev-bad")
    stubber = _stub(cloudtrail, NOW - LOOKBACK, NOW, [events])
    assert not _run(path, cloudtrail, checkpoint, NOW)
    stubber.deactivate()
    saved = load_checkpoint(checkpoint)
    assert set(saved.seen) == {"ev-ok"}
    assert saved.time == NOW - timedelta(minutes=4)

    receiver.fail_events.clear()
    later = NOW + timedelta(hours=3)  # even hours later the window still starts before the failed event
    stubber = _stub(cloudtrail, NOW - timedelta(minutes=4) - LOOKBACK, later, [events])
    assert _run(path, cloudtrail, checkpoint, later)
    stubber.assert_no_pending_responses()
    stubber.deactivate()
    assert sorted(a["event_id"] for a in receiver.alerts()) == ["ev-bad", "ev-ok"]
    assert load_checkpoint(checkpoint).time == later


def test_access_denied_names_the_permission(cloudtrail: Any, config: Any, tmp_path: Path) -> None:
    from sgwatch.errors import SourceError

    stubber = Stubber(cloudtrail)
    stubber.add_client_error("lookup_events", "AccessDeniedException", "not authorized")
    stubber.activate()
    with pytest.raises(
        SourceError, match=r"AccessDeniedException: not authorized \(the credentials need cloudtrail:LookupEvents\)"
    ):
        _run(config("enrich: false\n"), cloudtrail, tmp_path / "cp.json", NOW)
    assert not (tmp_path / "cp.json").exists()


def test_events_of_one_second_are_handled_in_cloudtrails_order_not_by_event_id(
    cloudtrail: Any, config: Any, receiver: Any, tmp_path: Path
) -> None:
    """LookupEvents answers newest first; times have one-second resolution, so within a second its answer is
    the only order there is (an event id says nothing about time)."""
    path = config("enrich: false\n")
    second = NOW - timedelta(minutes=3)
    newest_first = [_event("aa-happened-second", second), _event("zz-happened-first", second)]
    stubber = _stub(cloudtrail, NOW - LOOKBACK, NOW, [newest_first])
    assert _run(path, cloudtrail, tmp_path / "lookup.json", NOW)
    stubber.deactivate()
    assert [a["event_id"] for a in receiver.alerts()] == ["zz-happened-first", "aa-happened-second"]
