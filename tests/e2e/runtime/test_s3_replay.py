"""S3 replay end to end: the CloudTrail key layout skips out-of-range objects before any download."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from sgwatch.model import Judgement
from sgwatch.parallel import judge_files
from sgwatch.pipeline import ScanStats, Scope
from sgwatch.policy import Policy
from sgwatch.sources import Problem, RawRecord
from sgwatch.sources.base import Blob
from sgwatch.sources.files import read_data
from sgwatch.sources.s3 import iter_s3_objects, s3_client

from .conftest import load_fixture

A, B, ORG_MEMBER = "111111111111", "222222222222", "333333333333"
SSH = "AuthorizeSecurityGroupIngress__items_world_ssh"


def _log(account: str, region: str, when: str) -> bytes:
    """One log file holding one security-group record (event id names where it is) and one other record."""
    rec = load_fixture(SSH)
    rec.update(eventID=f"{account}-{region}-{when}", eventTime=when, recipientAccountId=account, awsRegion=region)
    other = rec | {"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "eventID": f"s3-{when}"}
    return gzip.compress(json.dumps({"Records": [rec, other]}).encode())


def _key(prefix: str, account: str, region: str, when: str) -> str:
    t = datetime.fromisoformat(when.replace("Z", "+00:00"))
    delivered = t.replace(minute=min(t.minute + 5, 59))
    return (f"{prefix}{account}/CloudTrail/{region}/{t:%Y/%m/%d}/"
            f"{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%M}Z_{uuid.uuid4().hex[:16]}.json.gz")  # fmt: skip


@pytest.fixture
def archive(build: Any) -> tuple[str, Any, list[str]]:
    """A bucket with logs for two accounts, two regions and three days, an organization trail and digests."""
    s3 = build.client("s3")
    bucket = f"trail-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": build.region})
    keys = []
    for account in (A, B):
        for region in ("eu-west-1", "us-east-1"):
            for when in (
                "2026-03-01T12:00:00Z",
                "2026-03-02T09:30:00Z",
                "2026-03-02T23:58:00Z",
                "2026-03-03T12:00:00Z",
            ):
                key = _key("logs/AWSLogs/", account, region, when)
                s3.put_object(Bucket=bucket, Key=key, Body=_log(account, region, when))
                keys.append(key)
    org_key = _key("logs/AWSLogs/o-abc123def4/", ORG_MEMBER, "eu-west-1", "2026-03-02T10:00:00Z")
    s3.put_object(Bucket=bucket, Key=org_key, Body=_log(ORG_MEMBER, "eu-west-1", "2026-03-02T10:00:00Z"))
    s3.put_object(Bucket=bucket, Key=f"logs/AWSLogs/{A}/CloudTrail-Digest/eu-west-1/2026/03/02/digest.json.gz",
                  Body=b"not a log")  # fmt: skip
    return bucket, s3, [*keys, org_key]


def _scan(bucket: str, s3: Any, **kwargs: Any) -> tuple[list[str], list[str]]:
    """What `sgwatch scan s3://...` judges: the objects the layout keeps, then the scope on the events."""
    downloaded: list[str] = []
    s3.meta.events.register("provide-client-params.s3.GetObject", lambda params, **_: downloaded.append(params["Key"]))
    try:
        fetched = list(iter_s3_objects(f"s3://{bucket}/logs/", client=s3, **kwargs))
    finally:
        s3.meta.events.unregister("provide-client-params.s3.GetObject")
    assert not [f for f in fetched if isinstance(f, Problem)]
    scope = Scope(
        since=kwargs.get("since"),
        until=kwargs.get("until"),
        accounts=tuple(kwargs.get("accounts", ())),
        regions=tuple(kwargs.get("regions", ())),
    )
    results = judge_files(fetched, Policy(), workers=1, stats=ScanStats(), scope=scope)
    ids = [j.change.event_id for j in results if isinstance(j, Judgement)]
    return ids, downloaded


class Recorded:
    """A progress display that writes down what it is told (sources.s3.ListingProgress)."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def listed(self, count: int) -> None:
        self.told.append(f"listed {count}")

    def fetching(self, total: int) -> None:
        self.told.append(f"fetching {total}")

    def fetched(self) -> None:
        self.told.append("fetched")


@pytest.mark.parametrize("progress", [None, Recorded()], ids=["quiet", "progress"])
def test_filters_skip_objects_before_download(archive: Any, progress: Recorded | None) -> None:
    bucket, s3, _keys = archive
    ids, downloaded = _scan(bucket, s3, since=datetime(2026, 3, 2, tzinfo=UTC), until=datetime(2026, 3, 3, tzinfo=UTC),
                            accounts=[A], regions=["eu-west-1"], progress=progress)  # fmt: skip
    assert ids == [f"{A}-eu-west-1-2026-03-02T09:30:00Z", f"{A}-eu-west-1-2026-03-02T23:58:00Z"]
    assert len(downloaded) == 2
    assert all(f"/{A}/CloudTrail/eu-west-1/2026/03/02/" in k for k in downloaded)
    if progress is not None:  # the whole listing first, then each object handed over
        assert progress.told == ["listed 1", "listed 2", "fetching 2", "fetched", "fetched"]


def test_organization_trails_and_open_ranges(archive: Any) -> None:
    bucket, s3, keys = archive
    ids, downloaded = _scan(bucket, s3, since=datetime(2026, 3, 2, 10, tzinfo=UTC), regions=["eu-west-1"])
    assert sorted(ids) == sorted([
        f"{ORG_MEMBER}-eu-west-1-2026-03-02T10:00:00Z",
        *(f"{acct}-eu-west-1-{t}" for acct in (A, B) for t in ("2026-03-02T23:58:00Z", "2026-03-03T12:00:00Z")),
    ])  # fmt: skip
    assert not any("Digest" in k or "us-east-1" in k or "/03/01/" in k for k in downloaded)
    assert len(downloaded) == 5  # the 09:30 files were delivered before `since`: not downloaded either
    everything, _ = _scan(bucket, s3)
    assert len(everything) == len(keys)


def test_unreadable_objects_and_prefixes_are_problems(build: Any) -> None:
    s3 = build.client("s3")
    bucket = f"trail-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": build.region})
    s3.put_object(Bucket=bucket, Key="flat/broken.json.gz", Body=b"\x1f\x8b" + b"garbage" * 10)
    s3.put_object(Bucket=bucket, Key="flat/ok.json", Body=json.dumps(load_fixture(SSH)).encode())
    s3.put_object(Bucket=bucket, Key="flat/readme.txt", Body=b"skip me")
    fetched = list(iter_s3_objects(f"s3://{bucket}/flat", client=s3))  # not the CloudTrail layout: every log file
    assert [(type(f), f.origin) for f in fetched] == [
        (Blob, f"s3://{bucket}/flat/broken.json.gz"),
        (Blob, f"s3://{bucket}/flat/ok.json"),
    ]
    items = [item for blob in fetched if isinstance(blob, Blob) for item in read_data(blob.data, blob.origin)]
    problems = [i for i in items if isinstance(i, Problem)]
    assert [p.origin for p in problems] == [f"s3://{bucket}/flat/broken.json.gz"]
    assert "corrupt gzip" in problems[0].message
    assert [i.origin for i in items if isinstance(i, RawRecord)] == [f"s3://{bucket}/flat/ok.json"]
    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    assert [str(p) for p in iter_s3_objects(f"s3://{missing}/", client=s3)] == [
        f"s3://{missing}/: cannot list: NoSuchBucket: The specified bucket does not exist "
        "(check the bucket name, region and s3:ListBucket)"
    ]


def test_a_folder_that_cannot_be_listed_does_not_hide_the_others(archive: Any) -> None:
    bucket, s3, keys = archive
    denied = f"logs/AWSLogs/{A}/"

    def deny(params: dict[str, Any], **_: Any) -> None:  # listing account A's folder fails, nothing else
        if params.get("Prefix") == denied:
            params["Bucket"] = f"no-such-bucket-{uuid.uuid4().hex[:8]}"

    s3.meta.events.register("provide-client-params.s3.ListObjectsV2", deny)
    try:
        fetched = list(iter_s3_objects(f"s3://{bucket}/logs/", client=s3))
    finally:
        s3.meta.events.unregister("provide-client-params.s3.ListObjectsV2", deny)
    problems = [f for f in fetched if isinstance(f, Problem)]
    assert [p.origin for p in problems] == [f"s3://{bucket}/{denied}"]
    assert "cannot list: NoSuchBucket" in problems[0].message
    listed = sorted(f.origin.removeprefix(f"s3://{bucket}/") for f in fetched if isinstance(f, Blob))
    assert listed == sorted(k for k in keys if f"/{A}/" not in k)  # account B and the organization trail


@pytest.mark.parametrize("concurrency", [1, 4])
def test_downloads_in_flight_keep_the_key_order(build: Any, concurrency: int) -> None:
    s3 = build.client("s3")
    bucket = f"trail-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": build.region})
    keys = [f"flat/{n:03d}.json" for n in range(25)]
    for n, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({"n": n}).encode())
    other = build.client("s3")

    def vanish(params: dict[str, Any], **_: Any) -> None:  # listed, then deleted before its download
        if params["Key"] == keys[7]:
            other.delete_object(Bucket=bucket, Key=keys[7])

    s3.meta.events.register("provide-client-params.s3.GetObject", vanish)
    fetched = list(iter_s3_objects(f"s3://{bucket}/flat/", client=s3, concurrency=concurrency))
    assert [f.origin for f in fetched] == [f"s3://{bucket}/{key}" for key in keys]
    assert isinstance(fetched[7], Problem)
    assert "NoSuchKey" in fetched[7].message
    blobs = [f for f in fetched if isinstance(f, Blob)]
    assert [json.loads(f.data)["n"] for f in blobs] == [n for n in range(25) if n != 7]


def test_the_default_client_reads_the_archive_with_sgwatch_settings(archive: Any) -> None:
    bucket, _, keys = archive
    fetched = list(iter_s3_objects(f"s3://{bucket}/logs/", accounts=[B], concurrency=24))  # s3_client(24)
    assert sorted(f.origin for f in fetched if isinstance(f, Blob)) == sorted(
        f"s3://{bucket}/{k}" for k in keys if f"/{B}/" in k
    )
    config = s3_client(24).meta.config
    assert config.max_pool_connections == 24  # one connection per download in flight
    assert config.user_agent_extra.startswith("sgwatch/")  # sgwatch's own calls are recognisable in CloudTrail
    assert config.retries == {"mode": "standard", "total_max_attempts": 6}  # S3 SlowDown is retried
