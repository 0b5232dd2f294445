"""Decode: raw CloudTrail mapping -> CloudTrailRecord, with a JSON path in every error."""

from sgwatch.decode.record import decode_record, is_sg_candidate, parse_time

__all__ = ["decode_record", "is_sg_candidate", "parse_time"]
