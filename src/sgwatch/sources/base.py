"""What every source yields: raw CloudTrail record mappings, S3 object references, or problems; and the
fetched bytes (``Blob``) that readers turn into them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sgwatch.model import compact_pickle


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class RawRecord:
    """One CloudTrail record as parsed JSON, with where it came from."""

    data: Mapping[str, Any]
    origin: str  # "file.json.gz#12", "-#3", "s3://bucket/key#0"
    item_id: str | None = None  # the Lambda batch item (SQS messageId) it arrived in


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class S3ObjectRef:
    """An S3 object-created notification: the caller fetches and scans the object."""

    bucket: str
    key: str
    origin: str
    item_id: str | None = None


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Input that could not be read or understood; the rest of the input is still processed."""

    origin: str
    message: str
    item_id: str | None = None

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class Blob:
    """The stored bytes of one file or object fetched elsewhere (an S3 object), read like a local file."""

    data: bytes  # gzip or not, any envelope
    origin: str  # "s3://bucket/key"
    item_id: str | None = None


SourceItem = RawRecord | S3ObjectRef | Problem


@dataclass(slots=True)
class Skipped:
    """How many records a fast read left out because they cannot be security-group changes."""

    records: int = 0


class NestingError(ValueError):
    """JSON nested deeper than Python's parser follows (``json`` raises RecursionError)."""


def load_json(data: str | bytes) -> Any:
    """``json.loads`` for input from outside: every unreadable input is a ValueError, deep nesting included."""
    try:
        return json.loads(data)
    except RecursionError:
        raise NestingError("nested too deeply to read") from None
