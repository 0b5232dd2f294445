"""Sources: unwrap EventBridge, SNS, SQS, CloudWatch Logs, S3 notifications and files into raw records.

``read_paths`` and ``read_source`` (files, the fast path) are loaded on first access, so the Lambda alert
path, which only unwraps envelopes, does not import the file readers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgwatch.lazy import lazy_exports
from sgwatch.sources.base import Problem, RawRecord, S3ObjectRef, SourceItem
from sgwatch.sources.envelopes import unwrap

if TYPE_CHECKING:
    from sgwatch.sources.files import read_paths, read_source

__all__ = ["Problem", "RawRecord", "S3ObjectRef", "SourceItem", "read_paths", "read_source", "unwrap"]

__getattr__, __dir__ = lazy_exports(__name__, {"read_paths": "files", "read_source": "files"})
