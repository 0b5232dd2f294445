"""Unwrap every way a CloudTrail record arrives: one small unwrapper per envelope, one signature.

Each unwrapper takes a parsed JSON document, the origin label and the batch item id, and yields
``RawRecord`` / ``S3ObjectRef`` / ``Problem``. ``unwrap`` detects the envelope and recurses, so SNS inside
SQS, EventBridge inside SNS and so on all work.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote_plus

from sgwatch.sources.base import Problem, RawRecord, S3ObjectRef, SourceItem, load_json

Unwrapper = Callable[[Mapping[str, Any], str, str | None], Iterator[SourceItem]]


def _parse_json_text(text: Any, origin: str, what: str, item_id: str | None) -> Iterator[SourceItem]:
    if not isinstance(text, str):
        yield Problem(origin=origin, message=f"{what} is not a string (got {type(text).__name__})", item_id=item_id)
        return
    try:
        doc = load_json(text)
    except ValueError as exc:
        yield Problem(origin=origin, message=f"{what} is not valid JSON: {exc}", item_id=item_id)
        return
    yield from unwrap(doc, origin, item_id)


def bare_record(doc: Mapping[str, Any], origin: str, item_id: str | None) -> Iterator[SourceItem]:
    yield RawRecord(data=doc, origin=origin, item_id=item_id)


def cloudtrail_log(doc: Mapping[str, Any], origin: str, item_id: str | None) -> Iterator[SourceItem]:
    """A CloudTrail log file as S3 delivers it: ``{"Records": [...]}``."""
    for index, record in enumerate(doc["Records"]):
        where = f"{origin}#{index}"
        if isinstance(record, Mapping):
            yield RawRecord(data=record, origin=where, item_id=item_id)
        else:
            yield Problem(origin=where, message=f"record is a {type(record).__name__}, not an object", item_id=item_id)


def eventbridge(doc: Mapping[str, Any], origin: str, item_id: str | None) -> Iterator[SourceItem]:
    """An EventBridge event ("AWS API Call via CloudTrail"): the record is ``detail``."""
    detail = doc.get("detail")
    if not isinstance(detail, Mapping):
        yield Problem(origin=origin, message="EventBridge event has no 'detail' object", item_id=item_id)
        return
    yield RawRecord(data=detail, origin=origin, item_id=item_id)


def sqs_event(doc: Mapping[str, Any], origin: str, item_id: str | None) -> Iterator[SourceItem]:
    """A Lambda SQS event: each message body is an envelope of its own."""
    for index, message in enumerate(doc["Records"]):
        if not isinstance(message, Mapping):
            yield Problem(origin=f"{origin}#{index}", message="SQS record is not an object", item_id=item_id)
            continue
        message_id = message.get("messageId")
        mid = message_id if isinstance(message_id, str) else None
        where = f"{origin}#sqs:{mid or index}"
        yield from _parse_json_text(message.get("body"), where, "SQS message body", mid or item_id)


def sns_event(doc: Mapping[str, Any], origin: str, item_id: str | None) -> Iterator[SourceItem]:
    """A Lambda SNS event: each ``Sns.Message`` is an envelope of its own."""
    for index, record in enumerate(doc["Records"]):
        sns = record.get("Sns") if isinstance(record, Mapping) else None
        if not isinstance(sns, Mapping):
            yield Problem(origin=f"{origin}#{index}", message="SNS record has no 'Sns' object", item_id=item_id)
            continue
        yield from sns_notification(sns, f"{origin}#sns:{sns.get('MessageId') or index}", item_id)


def sns_notification(doc: Mapping[str, Any], origin: str, item_id: str | None) -> Iterator[SourceItem]:
    """An SNS notification (as SNS delivers it to SQS, or inside a Lambda SNS record)."""
    yield from _parse_json_text(doc.get("Message"), origin, "SNS Message", item_id)


def cloudwatch_logs(doc: Mapping[str, Any], origin: str, item_id: str | None) -> Iterator[SourceItem]:
    """A CloudWatch Logs subscription event: base64(gzip(JSON)) whose logEvents carry records."""
    data = doc["awslogs"].get("data") if isinstance(doc["awslogs"], Mapping) else None
    if not isinstance(data, str):
        yield Problem(origin=origin, message="awslogs.data is missing or not a string", item_id=item_id)
        return
    try:
        payload = load_json(gzip.decompress(base64.b64decode(data, validate=True)))
    except (binascii.Error, OSError, EOFError, zlib.error) as exc:
        yield Problem(origin=origin, message=f"awslogs.data is not base64 gzip: {exc}", item_id=item_id)
        return
    except ValueError as exc:  # not JSON, not UTF-8, or nested too deeply
        yield Problem(origin=origin, message=f"awslogs.data does not hold JSON: {exc}", item_id=item_id)
        return
    if not isinstance(payload, Mapping):
        yield Problem(origin=origin, message="awslogs.data does not hold a JSON object", item_id=item_id)
        return
    if payload.get("messageType") == "CONTROL_MESSAGE":
        return
    events = payload.get("logEvents")
    if not isinstance(events, list):
        yield Problem(origin=origin, message="CloudWatch Logs payload has no 'logEvents' list", item_id=item_id)
        return
    for index, event in enumerate(events):
        where = f"{origin}#log:{event.get('id') if isinstance(event, Mapping) else index}"
        message = event.get("message") if isinstance(event, Mapping) else None
        yield from _parse_json_text(message, where, "log event message", item_id)


def s3_notification(doc: Mapping[str, Any], origin: str, item_id: str | None) -> Iterator[SourceItem]:
    """An S3 object-created notification: yield the objects to fetch (CloudTrail log files)."""
    for index, record in enumerate(doc["Records"]):
        s3 = record.get("s3") if isinstance(record, Mapping) else None
        bucket = s3.get("bucket", {}).get("name") if isinstance(s3, Mapping) else None
        key = s3.get("object", {}).get("key") if isinstance(s3, Mapping) else None
        if not isinstance(bucket, str) or not isinstance(key, str):
            yield Problem(
                origin=f"{origin}#{index}",
                message="S3 record has no bucket name or object key",
                item_id=item_id,
            )
            continue
        key = unquote_plus(key)  # S3 notifications URL-encode keys
        yield S3ObjectRef(bucket=bucket, key=key, origin=f"s3://{bucket}/{key}", item_id=item_id)


def _records_kind(records: list[Any]) -> Unwrapper:
    first = next((r for r in records if isinstance(r, Mapping)), None)
    if first is None:
        return cloudtrail_log
    source = first.get("eventSource") or first.get("EventSource")
    if source == "aws:sqs":
        return sqs_event
    if source == "aws:sns":
        return sns_event
    if source == "aws:s3" or "s3" in first:
        return s3_notification
    return cloudtrail_log


def s3_test_event(doc: Mapping[str, Any], origin: str, item_id: str | None = None) -> Iterator[SourceItem]:
    """``{"Service": "Amazon S3", "Event": "s3:TestEvent", ...}``: what S3 sends once when a notification is
    set up. It names no object: nothing to read, and nothing wrong (it must not end in a dead-letter queue)."""
    return iter(())


def detect(doc: Mapping[str, Any]) -> Unwrapper | None:
    """The unwrapper for a document's envelope, or None when the shape is unknown."""
    records = doc.get("Records")
    if isinstance(records, list):
        return _records_kind(records)
    if doc.get("Event") == "s3:TestEvent" and doc.get("Service") == "Amazon S3":
        return s3_test_event
    if "awslogs" in doc:
        return cloudwatch_logs
    if "detail-type" in doc and "detail" in doc:
        return eventbridge
    if doc.get("Type") == "Notification" and "Message" in doc:
        return sns_notification
    if "eventName" in doc and ("eventSource" in doc or "eventVersion" in doc):
        return bare_record
    return None


def unwrap(doc: Any, origin: str, item_id: str | None = None) -> Iterator[SourceItem]:
    """Yield the CloudTrail records (or S3 objects, or problems) inside any supported envelope."""
    if not isinstance(doc, Mapping):
        yield Problem(origin=origin, message=f"expected a JSON object, got {type(doc).__name__}", item_id=item_id)
        return
    unwrapper = detect(doc)
    if unwrapper is None:
        keys = ", ".join(sorted(str(k) for k in doc)[:8])
        yield Problem(
            origin=origin,
            message=(
                "unknown shape: not a CloudTrail record, CloudTrail log file, EventBridge, SNS, SQS, "
                f"CloudWatch Logs or S3 event (top-level keys: {keys})"
            ),
            item_id=item_id,
        )
        return
    yield from unwrapper(doc, origin, item_id)
