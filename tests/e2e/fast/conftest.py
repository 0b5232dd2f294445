"""Helpers for the multi-process tests: an archive with duplicates across files, problems and stdin."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from sgwatch.model import Judgement
from sgwatch.pipeline import ScanStats, judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, read_paths
from tests.conftest import support_module

_cloudtrail = support_module("support/cloudtrail.py")
TODAY = _cloudtrail.TODAY
load_fixture = _cloudtrail.load_fixture


def plain_run(paths: list[str], stdin: bytes | None = None) -> tuple[list[Judgement | Problem], ScanStats]:
    """The reference: pipeline.judge over the plain read of every path."""
    stats = ScanStats()
    source = io.BytesIO(stdin) if stdin is not None else None
    out = list(judge(read_paths(paths, source, fast=False), Policy(), stats=stats, today=TODAY))
    return out, stats


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """40 log files: every SG fixture spread over them, each change also repeated in a later file."""
    changes = [load_fixture(name) for name in _cloudtrail.fixture_names()]
    other = load_fixture("DescribeSecurityGroups__read_only")
    for number in range(40):
        records = [other] * (number % 5)
        records.append(changes[number % len(changes)])
        if number >= 20:
            records.append(changes[(number * 7) % len(changes)])  # seen in an earlier file already
        data = json.dumps({"Records": records}).encode()
        folder = tmp_path / "AWSLogs" / f"{number % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"f{number:03d}.json{'.gz' if number % 2 else ''}"
        target.write_bytes(gzip.compress(data, mtime=0) if number % 2 else data)
    (tmp_path / "AWSLogs" / "1" / "f500.json.gz").write_bytes(b"\x1f\x8b\x08\x00broken")
    return tmp_path
