"""Sources: unwrap EventBridge, SNS, SQS, CloudWatch Logs, S3 notifications and files into raw records."""

from sgwatch.sources.base import Problem, RawRecord, S3ObjectRef, SourceItem
from sgwatch.sources.envelopes import unwrap
from sgwatch.sources.files import read_paths, read_source

__all__ = ["Problem", "RawRecord", "S3ObjectRef", "SourceItem", "read_paths", "read_source", "unwrap"]
