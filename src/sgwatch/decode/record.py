"""Raw CloudTrail dict -> CloudTrailRecord. Strict about types, lenient about values.

Every error names the record (origin and eventID) and the JSON path of the offending value. AWS camelCase
stays inside this package.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sgwatch.errors import DecodeError
from sgwatch.model import Actor, CloudTrailRecord
from sgwatch.normalize.events import EVENT_SOURCE, SG_EVENT_NAMES
from sgwatch.normalize.values import MAPPING, flag, type_name

_PLAIN_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")  # what CloudTrail writes: one fast path
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S")


def is_sg_candidate(data: Mapping[str, Any]) -> bool:
    """True for EC2 records whose event name is one sgwatch understands (cheap; before decoding)."""
    return data.get("eventSource") == EVENT_SOURCE and data.get("eventName") in SG_EVENT_NAMES


class _Ctx:
    """Error context: where the record came from and its eventID."""

    def __init__(self, origin: str, event_id: str | None) -> None:
        self.origin = origin
        self.event_id = event_id

    def error(self, path: str, message: str) -> DecodeError:
        ident = f" (eventID {self.event_id})" if self.event_id else ""
        return DecodeError(f"{self.origin}{ident}", f"{path}: {message}")


def _opt_str(data: Mapping[str, Any], key: str, ctx: _Ctx, path: str = "$") -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise ctx.error(f"{path}.{key}", f"expected a string, got {type_name(value)}")
    if isinstance(value, int):  # account ids occasionally arrive as numbers
        return str(value)
    raise ctx.error(f"{path}.{key}", f"expected a string, got {type_name(value)}")


def _opt_mapping(data: Mapping[str, Any], key: str, ctx: _Ctx) -> Mapping[str, Any] | None:
    value = data.get(key)
    if value is None or isinstance(value, MAPPING):
        return value
    raise ctx.error(f"$.{key}", f"expected an object or null, got {type_name(value)}")


def parse_time(text: str) -> datetime:
    """CloudTrail time (``2023-07-10T12:10:08Z``, fractional seconds, or a space separator) as aware UTC."""
    if _PLAIN_TIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text)  # same value as strptime's first format, ~20x faster
        except ValueError:
            pass  # out-of-range fields: let strptime word the error
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    parsed = datetime.fromisoformat(text)  # offsets such as +00:00; raises ValueError otherwise
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _lower_keys(value: Any) -> Mapping[str, Any]:
    """One level of ``userIdentity`` with its keys case-folded (some log pipelines lower-case them)."""
    if isinstance(value, MAPPING):
        return {str(k).lower(): v for k, v in value.items()}
    return {}


def decode_actor(raw: Any, ctx: _Ctx) -> Actor:
    if raw is None:
        return Actor()
    if not isinstance(raw, MAPPING):
        raise ctx.error("$.userIdentity", f"expected an object, got {type_name(raw)}")
    ident = _lower_keys(raw)
    session = _lower_keys(ident.get("sessioncontext"))
    issuer = _lower_keys(session.get("sessionissuer"))
    attributes = _lower_keys(session.get("attributes"))
    for key in ("arn", "type", "accountid", "principalid", "username", "invokedby", "accesskeyid"):
        value = ident.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise ctx.error(f"$.userIdentity.{key}", f"expected a string, got {type_name(value)}")
    arn = ident.get("arn")
    user_name = ident.get("username")
    if user_name is None and isinstance(arn, str) and ":assumed-role/" in arn:
        user_name = arn.rsplit("/", 1)[-1]  # the role session name
    account = ident.get("accountid")
    return Actor(
        arn=arn,
        type=ident.get("type"),
        account_id=None if account is None else str(account),
        principal_id=ident.get("principalid"),
        user_name=user_name,
        session_issuer_arn=issuer.get("arn") if isinstance(issuer.get("arn"), str) else None,
        invoked_by=ident.get("invokedby"),
        access_key_id=ident.get("accesskeyid"),
        mfa_authenticated=flag(attributes.get("mfaauthenticated")),
    )


def synthetic_event_id(data: Mapping[str, Any]) -> str:
    """A stable id for a record without ``eventID`` (hash of its canonical JSON)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def decode_record(data: Mapping[str, Any], origin: str) -> CloudTrailRecord:
    """Decode one CloudTrail record; DecodeError names the record and the JSON path."""
    raw_id = data.get("eventID")
    ctx = _Ctx(origin, raw_id if isinstance(raw_id, str) else None)
    if raw_id is not None and not isinstance(raw_id, str):
        raise ctx.error("$.eventID", f"expected a string, got {type_name(raw_id)}")
    event_name = data.get("eventName")
    if not isinstance(event_name, str) or not event_name:
        raise ctx.error("$.eventName", f"expected a non-empty string, got {type_name(event_name)}")
    event_source = _opt_str(data, "eventSource", ctx) or ""
    raw_time = data.get("eventTime")
    if not isinstance(raw_time, str):
        raise ctx.error("$.eventTime", f"expected a timestamp string, got {type_name(raw_time)}")
    try:
        event_time = parse_time(raw_time)
    except ValueError:
        raise ctx.error("$.eventTime", f"not a timestamp: {raw_time!r}") from None
    actor = decode_actor(data.get("userIdentity"), ctx)
    read_only = data.get("readOnly")
    return CloudTrailRecord(
        event_id=raw_id or synthetic_event_id(data),
        event_name=event_name,
        event_source=event_source,
        event_time=event_time,
        event_version=_opt_str(data, "eventVersion", ctx),
        event_type=_opt_str(data, "eventType", ctx),
        read_only=flag(read_only),
        account_id=_opt_str(data, "recipientAccountId", ctx) or actor.account_id,
        region=_opt_str(data, "awsRegion", ctx),
        actor=actor,
        source_ip=_opt_str(data, "sourceIPAddress", ctx),
        user_agent=_opt_str(data, "userAgent", ctx),
        error_code=_opt_str(data, "errorCode", ctx),
        error_message=_opt_str(data, "errorMessage", ctx),
        request_parameters=_opt_mapping(data, "requestParameters", ctx),
        response_elements=_opt_mapping(data, "responseElements", ctx),
        origin=origin,
    )
