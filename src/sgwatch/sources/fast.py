"""Fast path for CloudTrail log files: find the few records that can be security-group changes in one C pass.

A CloudTrail log file is ``{"Records": [...]}`` in which about one record in two hundred is a security-group
change. The plain path json-parses every record into Python objects. This path instead decodes the whole file
once with msgspec into a two-field view per record (``eventSource``, ``eventName``; every other byte is
validated and skipped in C), keeps the indices whose event name is one sgwatch understands, and only then
json-parses exactly those records (a second msgspec pass hands over their raw bytes). Records that cannot be
security-group changes never become Python dicts; they are only counted.

The result is the plain path's, filtered: the same ``RawRecord`` data (parsed by the same ``json`` module), the
same ``file#index`` origins, the same problems. Whenever this path cannot vouch for that, ``scan_log``
returns None and the caller takes the plain path: msgspec is not installed, the bytes are not valid UTF-8,
msgspec rejects the document (``NaN``, lone surrogates, a byte-order mark, malformed JSON, ``Records`` that is
not a list of objects, ...), or the ``Records`` are another envelope (SQS, SNS, S3 notifications).
"""

# No ``from __future__ import annotations``: msgspec reads the Struct annotations of the classes built
# inside _codecs() at run time, and they must resolve there.
import functools
import itertools
import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sgwatch.decode import is_sg_candidate
from sgwatch.normalize.events import SG_EVENT_NAMES
from sgwatch.sources.base import RawRecord
from sgwatch.sources.envelopes import cloudtrail_log, detect

# The pre-filter keeps every record whose eventName is one of these; is_sg_candidate then decides exactly.
# It relies on is_sg_candidate requiring ``eventName in SG_EVENT_NAMES`` (true by its definition).
_NAMES: frozenset[str] = frozenset(SG_EVENT_NAMES)
_event_name = operator.attrgetter("eventName")


@dataclass(slots=True)
class Skipped:
    """How many records a fast read left out because they cannot be security-group changes."""

    records: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class LogScan:
    """What the fast path found in one CloudTrail log file."""

    items: tuple[RawRecord, ...]  # the records that can be security-group changes, in file order
    records: int  # every record in the file, including the skipped ones

    @property
    def skipped(self) -> int:
        return self.records - len(self.items)


@dataclass(frozen=True, slots=True)
class _Codecs:
    heads: Any  # msgspec Decoder: {"Records": [{eventName, eventSource, EventSource, s3}]}
    spans: Any  # msgspec Decoder: {"Records": [Raw]}
    errors: tuple[type[BaseException], ...]
    unset: Any


@functools.cache
def _codecs() -> _Codecs | None:
    """msgspec decoders, built on first use (msgspec is optional and not imported at start-up)."""
    try:
        import msgspec  # noqa: PLC0415 - optional accelerator, imported on first use
    except ImportError:
        return None

    class Head(msgspec.Struct, gc=False):
        """The fields the pre-filter and the envelope check read; msgspec skips the rest in C."""

        eventName: Any = None
        eventSource: Any = None
        EventSource: Any = None
        s3: Any = msgspec.UNSET  # S3 notifications, for envelope detection

    class HeadLog(msgspec.Struct, gc=False):
        Records: list[Head]

    class SpanLog(msgspec.Struct, gc=False):
        Records: list[msgspec.Raw]

    return _Codecs(
        heads=msgspec.json.Decoder(HeadLog),
        spans=msgspec.json.Decoder(SpanLog),
        errors=(msgspec.DecodeError, UnicodeDecodeError, RecursionError),
        unset=msgspec.UNSET,
    )


def available() -> bool:
    """True when the fast path can run (msgspec is installed)."""
    return _codecs() is not None


def _valid_utf8(data: bytes) -> bool:
    """Whether ``json.loads`` can decode the bytes (UTF-8, surrogates passed through, as it decodes them)."""
    if data.isascii():
        return True
    try:
        data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


def _candidates(heads: Sequence[Any]) -> list[int]:
    """Indices of the records whose event name is a security-group event (C-level iteration)."""
    try:
        flags = map(_NAMES.__contains__, map(_event_name, heads))
        return list(itertools.compress(itertools.count(), flags))
    except TypeError:  # an unhashable eventName (an object or a list) cannot be one: compare strings only
        return [i for i, head in enumerate(heads) if isinstance(head.eventName, str) and head.eventName in _NAMES]


def _is_cloudtrail_log(first: Any, unset: Any) -> bool:
    """Whether the plain path would unwrap this document as a CloudTrail log file (by its first record)."""
    probe: dict[str, Any] = {"eventSource": first.eventSource, "EventSource": first.EventSource}
    if first.s3 is not unset:
        probe["s3"] = first.s3
    return detect({"Records": [probe]}) is cloudtrail_log


def scan_log(data: bytes, origin: str) -> LogScan | None:
    """The security-group candidates of one CloudTrail log file, or None when the plain path must decide."""
    codecs = _codecs()
    if codecs is None:
        return None
    if not _valid_utf8(data):  # json.loads raises on it; msgspec does not check the bytes it skips
        return None
    try:
        heads = codecs.heads.decode(data).Records
    except codecs.errors:
        return None
    if heads and not _is_cloudtrail_log(heads[0], codecs.unset):
        return None
    wanted = _candidates(heads)
    if not wanted:
        return LogScan(items=(), records=len(heads))
    spans = codecs.spans.decode(data).Records
    items = []
    for index in wanted:
        record = json.loads(bytes(spans[index]))
        if is_sg_candidate(record):
            items.append(RawRecord(data=record, origin=f"{origin}#{index}"))
    return LogScan(items=tuple(items), records=len(heads))
