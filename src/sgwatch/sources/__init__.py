"""Sources: unwrap EventBridge, SNS, SQS, CloudWatch Logs, S3 notifications and files into raw records.

``read_paths`` and ``read_source`` (files, the fast path) are loaded on first access, so the Lambda alert
path, which only unwraps envelopes, does not import the file readers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sgwatch.sources.base import Problem, RawRecord, S3ObjectRef, SourceItem
from sgwatch.sources.envelopes import unwrap

if TYPE_CHECKING:
    from sgwatch.sources.files import read_paths, read_source

__all__ = ["Problem", "RawRecord", "S3ObjectRef", "SourceItem", "read_paths", "read_source", "unwrap"]

_LAZY = {"read_paths": "files", "read_source": "files"}


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
