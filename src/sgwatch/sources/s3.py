"""CloudTrail archives in S3: list ``s3://bucket/prefix`` and download its log files, several at a time.

The CloudTrail key layout ``[prefix/]AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz``
lets out-of-range accounts, regions and days be skipped by listing with a delimiter, level by level, before
anything is downloaded. Objects that cannot be downloaded and prefixes that cannot be listed become
``Problem``s naming them; the rest is still read.
"""

from __future__ import annotations

import calendar
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sgwatch.errors import SourceError, aws_error_text
from sgwatch.sources.base import Blob, Problem, Skipped, SourceItem
from sgwatch.sources.files import SUFFIXES, read_data

# CloudTrail delivers a file within minutes of its events (its key holds the delivery day and minute);
# keep files delivered up to this long after ``until`` so late events are not missed.
DELIVERY_LAG = timedelta(hours=1)
_FILE_TIME = re.compile(r"_(\d{8}T\d{4})Z_")
_ACCOUNT = re.compile(r"^\d{12}$")
CONCURRENCY = 16  # downloads in flight: a GET waits tens of milliseconds on S3, judging what it brings a few


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix); SourceError when it is not an S3 URL."""
    if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
        raise SourceError(f"{url}: not an S3 URL (expected s3://bucket/prefix)")
    bucket, _, prefix = url[5:].partition("/")
    return bucket, prefix


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyFilter:
    """Which parts of the layout to keep; empty tuples and None bounds keep everything."""

    since: datetime | None = None
    until: datetime | None = None
    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def first_day(self) -> date:
        return self.since.date() if self.since else date.min

    @property
    def last_day(self) -> date:
        return (self.until + DELIVERY_LAG).date() if self.until else date.max

    def days_overlap(self, first: date, last: date) -> bool:
        return first <= self.last_day and last >= self.first_day

    def file_ok(self, key: str) -> bool:
        """A log file's delivery minute (in its name) can hold events in [since, until)."""
        found = _FILE_TIME.search(key.rsplit("/", 1)[-1])
        if found is None:
            return True
        delivered = datetime.strptime(found.group(1), "%Y%m%dT%H%M").replace(tzinfo=UTC)
        if self.since is not None and delivered + timedelta(minutes=1) <= self.since:
            return False
        return self.until is None or delivered <= self.until + DELIVERY_LAG


class ListingError(SourceError):
    """An S3 prefix cannot be listed; ``where`` names it, ``reason`` says why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class _Lister:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto only for S3

        try:
            yield from self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise ListingError(
                f"s3://{self.bucket}/{kwargs.get('Prefix', '')}",
                f"cannot list: {aws_error_text(exc)} (check the bucket name, region and s3:ListBucket)",
            ) from exc

    def folders(self, prefix: str) -> Iterator[str]:
        for page in self._pages(Prefix=prefix, Delimiter="/"):
            for entry in page.get("CommonPrefixes") or ():
                yield str(entry["Prefix"])

    def keys(self, prefix: str) -> Iterator[str]:
        for page in self._pages(Prefix=prefix):
            for entry in page.get("Contents") or ():
                yield str(entry["Key"])


_LEVELS = ("account", "service", "region", "year", "month", "day")


def _child_ok(level: str, name: str, parents: tuple[int, ...], f: KeyFilter) -> tuple[bool, tuple[int, ...]]:
    """Whether a folder ``name`` at ``level`` is in range; the date parts so far for the next level."""
    if level == "account":
        return (not f.accounts or name in f.accounts) and bool(_ACCOUNT.match(name)), parents
    if level == "service":
        return name == "CloudTrail", parents
    if level == "region":
        return not f.regions or name in f.regions, parents
    if not name.isdigit():
        return False, parents
    parts = (*parents, int(name))
    try:
        if level == "year":
            first, last = date(parts[0], 1, 1), date(parts[0], 12, 31)
        elif level == "month":
            first = date(parts[0], parts[1], 1)
            last = date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
        else:
            first = last = date(*parts)
    except ValueError:
        return False, parents
    return f.days_overlap(first, last), parts


def _descend(
    lister: _Lister, prefix: str, level: int, parents: tuple[int, ...], f: KeyFilter, *, org: bool
) -> Iterator[str | Problem]:
    """Day-level (or deeper) prefixes under ``prefix`` whose layout position is in range; a folder that
    cannot be listed is a Problem in its place, and its siblings are still listed.

    ``org``: an organization folder (``o-…``) may still come before the account folders.
    """
    if level == len(_LEVELS):
        yield prefix
        return
    for child in _listed(lister.folders(prefix)):
        if isinstance(child, Problem):
            yield child
            continue
        name = child[len(prefix) :].rstrip("/")
        if org and _LEVELS[level] == "account" and name.startswith("o-"):
            yield from _descend(lister, child, level, parents, f, org=False)  # organization trail
            continue
        ok, parts = _child_ok(_LEVELS[level], name, parents, f)
        if ok:
            yield from _descend(lister, child, level + 1, parts, f, org=False)


def _start(prefix: str, f: KeyFilter) -> tuple[int, tuple[int, ...], bool] | None:
    """Where ``prefix`` (ending in ``/``, at or below ``AWSLogs/``) sits in the layout: level, date parts,
    and whether an organization folder may still follow; None when the prefix itself is out of range."""
    segments = prefix.split("/")
    parts = [p for p in segments[segments.index("AWSLogs") + 1 :] if p]
    org = not parts
    if parts and parts[0].startswith("o-"):
        parts = parts[1:]
    level = 0
    dates: tuple[int, ...] = ()
    for name in parts:
        if level == len(_LEVELS):
            break
        ok, dates = _child_ok(_LEVELS[level], name, dates, f)
        if not ok:
            return None
        level += 1
    return level, dates, org


def _log_keys(lister: _Lister, prefix: str, f: KeyFilter) -> Iterator[str | Problem]:
    """Every CloudTrail log file key to download, in listing order; a Problem for each folder that cannot be
    listed, in its place (what can be listed is still read)."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if "AWSLogs" not in prefix.split("/"):
        found: list[str] = []
        for folder in _listed(lister.folders(prefix)):
            if isinstance(folder, Problem):
                yield folder
                return
            if folder.endswith("/AWSLogs/") or folder == "AWSLogs/":
                found.append(folder)
        if not found:  # not the CloudTrail layout: every log-like file under the prefix
            yield from _logs(lister, prefix, f)
            return
        prefix = found[0]
    start = _start(prefix, f)
    if start is None:
        return
    level, dates, org = start
    for folder in _descend(lister, prefix, level, dates, f, org=org):
        if isinstance(folder, Problem):
            yield folder
        else:
            yield from _logs(lister, folder, f)


def _logs(lister: _Lister, folder: str, f: KeyFilter) -> Iterator[str | Problem]:
    """The log file keys under ``folder`` whose delivery time is in range, or a Problem if it cannot be listed."""
    for key in _listed(lister.keys(folder)):
        if isinstance(key, Problem) or (key.endswith(SUFFIXES) and f.file_ok(key)):
            yield key


def fetch_object(client: Any, bucket: str, key: str, *, item_id: str | None = None) -> Blob | Problem:
    """The stored bytes of one S3 object, or a Problem naming it when it cannot be downloaded."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    origin = f"s3://{bucket}/{key}"
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        return Problem(origin=origin, message=f"cannot read: {aws_error_text(exc)}", item_id=item_id)
    return Blob(data=body, origin=origin, item_id=item_id)


def read_object(
    client: Any, bucket: str, key: str, *, item_id: str | None = None, skipped: Skipped | None = None
) -> Iterator[SourceItem]:
    """The records in one S3 object (any envelope, gzip or not) that can be security-group changes, the
    others counted in ``skipped`` (``files.read_data``'s fast path); a Problem naming it when unreadable."""
    fetched = fetch_object(client, bucket, key, item_id=item_id)
    if isinstance(fetched, Problem):
        yield fetched
        return
    yield from read_data(fetched.data, fetched.origin, item_id=item_id, skipped=skipped)


def _listed(names: Iterator[str]) -> Iterator[str | Problem]:
    """What one listing yields, then a Problem naming it when it failed part-way."""
    try:
        yield from names
    except ListingError as exc:
        yield Problem(origin=exc.where, message=exc.reason)


def _fetch_all(client: Any, bucket: str, keys: Iterable[str | Problem], concurrency: int) -> Iterator[Blob | Problem]:
    """The objects in key order, ``concurrency`` downloads in flight (botocore waits on the network outside
    the GIL, so threads are enough); at most ``concurrency`` objects are held ahead of the consumer."""
    pending: deque[Future[Blob | Problem] | Problem] = deque()
    pool = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="sgwatch-s3")
    try:
        for key in keys:
            pending.append(key if isinstance(key, Problem) else pool.submit(fetch_object, client, bucket, key))
            if len(pending) >= concurrency:
                head = pending.popleft()
                yield head if isinstance(head, Problem) else head.result()
        while pending:
            head = pending.popleft()
            yield head if isinstance(head, Problem) else head.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def s3_client(concurrency: int) -> Any:
    """An S3 client with a connection for every concurrent download and sgwatch's client settings (user
    agent, timeouts, standard retries: S3's ``SlowDown`` is retried); ``AWS_ENDPOINT_URL``/``AWS_REGION`` apply."""
    from sgwatch.runtime.clients import AwsClients  # noqa: PLC0415

    return AwsClients(max_pool_connections=max(10, concurrency), max_attempts=5).client("s3")


class ListingProgress(Protocol):
    """What a progress display is told while an archive is read (the command line draws it)."""

    def listed(self, count: int) -> None: ...  # ``count`` keys listed so far

    def fetching(self, total: int) -> None: ...  # the listing is done: ``total`` objects to hand over

    def fetched(self) -> None: ...  # one more handed over


def iter_s3_objects(
    url: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    accounts: Sequence[str] = (),
    regions: Sequence[str] = (),
    progress: ListingProgress | None = None,
    client: Any = None,
    concurrency: int = CONCURRENCY,
) -> Iterator[Blob | Problem]:
    """The stored bytes of the CloudTrail log files under ``url`` that can hold events of these accounts and
    regions in [since, until) (UTC when naive), in listing order, ``concurrency`` downloads at a time.

    Only the key layout decides (account, region, day and delivery minute); the records' own times are for
    the caller's scope (``pipeline.Scope``). A prefix that cannot be listed and an object that cannot be
    downloaded come out as Problems naming them. ``client``: an S3 client (default: ``s3_client(concurrency)``).
    ``progress``: told how many keys are listed, then of each object handed over (the listing ends first).
    """
    bucket, prefix = parse_s3_url(url)
    keep = KeyFilter(since=_utc(since), until=_utc(until), accounts=tuple(accounts), regions=tuple(regions))
    client = client if client is not None else s3_client(concurrency)
    keys = _log_keys(_Lister(client, bucket), prefix, keep)
    if progress is None:
        yield from _fetch_all(client, bucket, keys, concurrency)
        return
    found: list[str | Problem] = []
    for key in keys:  # listed first, so the progress has a total
        found.append(key)
        progress.listed(len(found))
    progress.fetching(len(found))
    for fetched in _fetch_all(client, bucket, found, concurrency):
        yield fetched
        progress.fetched()
