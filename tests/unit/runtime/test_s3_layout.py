"""sources.s3: which layout folders and log files are in range (pure parts)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sgwatch.errors import SourceError
from sgwatch.sources.s3 import KeyFilter, _child_ok, _start, parse_s3_url

SINCE = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
UNTIL = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
F = KeyFilter(since=SINCE, until=UNTIL, accounts=("111122223333",), regions=("eu-west-1",))


def test_parse_url() -> None:
    assert parse_s3_url("s3://trail/logs/AWSLogs/") == ("trail", "logs/AWSLogs/")
    assert parse_s3_url("s3://trail") == ("trail", "")
    with pytest.raises(SourceError, match="not an S3 URL"):
        parse_s3_url("https://trail/x")


def test_folders_outside_the_filters_are_skipped() -> None:
    assert _child_ok("account", "111122223333", (), F)[0]
    assert not _child_ok("account", "444455556666", (), F)[0]
    assert not _child_ok("service", "CloudTrail-Digest", (), F)[0]
    assert not _child_ok("region", "us-east-1", (), F)[0]
    assert _child_ok("year", "2026", (), F) == (True, (2026,))
    assert not _child_ok("month", "02", (2026,), F)[0]
    assert not _child_ok("day", "01", (2026, 3), F)[0]
    assert _child_ok("day", "02", (2026, 3), F)[0]
    assert _child_ok("day", "03", (2026, 3), F)[0]  # files delivered just after `until` may hold its last events
    assert not _child_ok("day", "04", (2026, 3), F)[0]
    assert not _child_ok("day", "31", (2026, 2), KeyFilter())[0]  # not a date


def test_file_delivery_minute() -> None:
    name = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/02/111122223333_CloudTrail_eu-west-1_{}Z_ab12.json.gz"
    assert not F.file_ok(name.format("20260301T2358"))
    assert F.file_ok(name.format("20260302T0000"))  # the minute of `since` itself may hold events after it
    assert F.file_ok(name.format("20260303T0040"))
    assert not F.file_ok(name.format("20260303T0200"))
    assert F.file_ok("custom-name.json.gz")


def test_where_a_prefix_starts_in_the_layout() -> None:
    assert _start("AWSLogs/", F) == (0, (), True)
    assert _start("x/AWSLogs/o-abc123/", F) == (0, (), False)
    assert _start("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/", F) == (5, (2026, 3), False)
    assert _start("AWSLogs/444455556666/", F) is None
    assert KeyFilter().first_day == date.min
    assert KeyFilter().last_day == date.max
