"""Normalize: CloudTrailRecord -> one RuleChange per rule x peer (or per group-level event)."""

from sgwatch.normalize.changes import normalize
from sgwatch.normalize.events import SG_EVENT_NAMES

__all__ = ["SG_EVENT_NAMES", "normalize"]
