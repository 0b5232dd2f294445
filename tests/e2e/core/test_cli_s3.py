"""`sgwatch scan s3://…` as a user runs it: a subprocess against a moto server on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "cloudtrail"


@pytest.fixture(scope="module")
def bucket(moto_url: str, support: Callable[[str], ModuleType]) -> str:
    s3 = support("support/aws.py").client("s3", moto_url, "eu-west-1")
    s3.create_bucket(Bucket="trail", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for path in sorted(EXAMPLES.rglob("*.json.gz")):
        s3.upload_file(str(path), "trail", f"org/{path.relative_to(EXAMPLES).as_posix()}")
    s3.put_object(
        Bucket="trail",
        Key="org/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/broken_20260301T1500Z_x.json.gz",
        Body=b"\x1f\x8bnot gzip",
    )
    return "trail"


Scan = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def scan(cli: Any, moto_url: str, aws_environ: Callable[..., dict[str, str | None]]) -> Scan:
    """``scan(*args)``: ``sgwatch scan ARGS --format jsonl`` against the session's moto server."""
    env = aws_environ(moto_url, "eu-west-1")
    return lambda *args: cli("scan", *args, "--format", "jsonl", env=env, timeout=120)


def test_s3_archive_scans_like_the_local_files(scan: Scan, bucket: str) -> None:
    local = scan(str(EXAMPLES))
    remote = scan(f"s3://{bucket}/org/", "--until", "2026-03-01T14:00:00Z")
    assert remote.returncode == 2  # the broken object is reported, the rest is scanned
    assert "s3://trail/org/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01/broken_" in remote.stderr
    assert "Traceback" not in remote.stderr
    assert [json.loads(line) for line in remote.stdout.splitlines()] == [
        json.loads(line) for line in local.stdout.splitlines()
    ]


def test_s3_time_window_and_region_filters(scan: Scan, bucket: str) -> None:
    result = scan(f"s3://{bucket}/org/", "--since", "2026-03-01T11:00:00Z", "--until", "2026-03-01T12:00:00Z")
    times = {json.loads(line)["event_time"] for line in result.stdout.splitlines()}
    assert times == {"2026-03-01T11:05:00Z", "2026-03-01T11:30:00Z"}
    other = scan(f"s3://{bucket}/org/", "--regions", "us-east-1")
    assert other.returncode == 0
    assert other.stdout == ""


def test_missing_bucket_is_one_line(scan: Scan) -> None:
    result = scan("s3://no-such-bucket/x/")
    assert result.returncode == 2
    assert "sgwatch: s3://no-such-bucket/x/: cannot list: NoSuchBucket" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_bucket_does_not_stop_the_other_inputs(scan: Scan, bucket: str) -> None:
    local = scan(str(EXAMPLES))
    both = scan("s3://no-such-bucket/x/", str(EXAMPLES), "--workers", "2", "--s3-concurrency", "3")
    assert both.returncode == 2
    assert both.stdout == local.stdout
    assert both.stdout
    assert "Traceback" not in both.stderr
    bad = scan("s3://", str(EXAMPLES))
    assert bad.returncode == 2
    assert "not an S3 URL" in bad.stderr
    assert bad.stdout == ""  # a malformed URL is a usage error: found before anything is read


def test_a_change_in_several_inputs_is_judged_once(scan: Scan, bucket: str) -> None:
    local = scan(str(EXAMPLES))
    expected = [json.loads(line) for line in local.stdout.splitlines()]
    assert expected
    for workers in ("1", "2"):
        both = scan(
            str(EXAMPLES), f"s3://{bucket}/org/", str(EXAMPLES), "--until", "2026-03-01T14:00:00Z",
            "--workers", workers, "--s3-concurrency", "2",
        )  # fmt: skip
        assert [json.loads(line) for line in both.stdout.splitlines()] == expected
        assert f"{len(expected)} security-group changes" in both.stderr
