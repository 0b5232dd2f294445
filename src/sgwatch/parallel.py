"""Judge many files on several cores: ordered, deduplicated, streaming output.

Each worker process reads and judges whole files (the fast source path, then decode, normalize and policy);
the parent yields their results in input order, drops changes already seen in an earlier file (the same
``RuleChange.dedup_key`` rule as ``pipeline.judge``) and merges the counters, so the output and the stats are
those of one ``pipeline.judge`` over all the files. A file is a local path or a ``Blob`` (the bytes of an S3
object, downloaded by the parent). Files travel in batches of about ``BATCH_BYTES`` and at most
``2 * workers`` batches are in flight, so memory stays flat however large the archive. ``workers=1`` runs in
this process, without a pool, and so does an input that makes a single batch: one batch keeps one worker busy
while the others wait, so starting them would only add their start-up time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from sgwatch.model import Judgement, compact_pickle
from sgwatch.pipeline import ScanStats, Scope, judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, SourceItem
from sgwatch.sources.base import Blob, Skipped
from sgwatch.sources.files import read_data, read_source

Result = Judgement | Problem
File = str | Blob  # a local path (or ``-``), or the bytes of an object fetched elsewhere
Entry = File | Path | Problem  # what ``judge_files`` takes: ``files.walk`` output, Blobs, problems
BATCH_BYTES = 1 << 20  # stored bytes per worker task: a few files, so round trips cost little


@compact_pickle
@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """One file judged on its own (deduplicated within the file), with its counters."""

    results: tuple[Result, ...]
    stats: ScanStats


# Set once per worker process by _init_worker: the policy and date every file is judged with.
_worker_policy: Policy | None = None
_worker_today: dt.date | None = None
_worker_scope: Scope | None = None


def _init_worker(policy: Policy, today: dt.date | None, scope: Scope | None) -> None:
    global _worker_policy, _worker_today, _worker_scope
    _worker_policy, _worker_today, _worker_scope = policy, today, scope


def _read_file(file: File | Path, skipped: Skipped) -> Iterator[SourceItem]:
    if isinstance(file, Blob):
        return read_data(file.data, file.origin, item_id=file.item_id, skipped=skipped)
    return read_source(file, skipped=skipped)


def judge_file(file: File, policy: Policy, today: dt.date | None = None, scope: Scope | None = None) -> FileResult:
    """Read (fast path) and judge one file; records skipped unparsed still count in ``stats.records``."""
    stats = ScanStats()
    results = tuple(_judge_here(lambda skipped: _read_file(file, skipped), policy, stats, today, scope))
    return FileResult(results=results, stats=stats)


def _judge_batch(
    files: tuple[File, ...], policy: Policy, today: dt.date | None, scope: Scope | None
) -> tuple[FileResult, ...]:
    return tuple(judge_file(file, policy, today, scope) for file in files)


def _judge_in_worker(files: tuple[File, ...]) -> tuple[FileResult, ...]:
    if _worker_policy is None:
        raise RuntimeError("worker process was not initialised with a policy")
    return _judge_batch(files, _worker_policy, _worker_today, _worker_scope)


def _size(file: File) -> int:
    """Stored bytes, for batching; 0 for a file that vanished since it was listed (its reader reports it)."""
    if isinstance(file, Blob):
        return len(file.data)
    try:
        return Path(file).stat().st_size
    except OSError:
        return 0


def _batches(entries: Iterable[Entry], batch_bytes: int) -> Iterator[tuple[File, ...] | str | Problem]:
    """Consecutive files grouped up to ``batch_bytes`` (fewer round trips); problems and ``-`` on their own."""
    batch: list[File] = []
    size = 0
    for entry in entries:
        if isinstance(entry, Problem) or entry == "-":
            if batch:
                yield tuple(batch)
                batch, size = [], 0
            yield entry if isinstance(entry, Problem) else "-"
            continue
        file = entry if isinstance(entry, Blob) else str(entry)
        batch.append(file)
        size += _size(file)
        if size >= batch_bytes:
            yield tuple(batch)
            batch, size = [], 0
    if batch:
        yield tuple(batch)


def _read_entries(entries: Iterable[Entry | tuple[File, ...]], skipped: Skipped) -> Iterator[SourceItem]:
    """Every record (or problem) of the entries, batched or not, in order: what ``read_paths`` yields."""
    for entry in entries:
        if isinstance(entry, Problem):
            yield entry
        else:
            for file in entry if isinstance(entry, tuple) else (entry,):
                yield from _read_file(file, skipped)


def _judge_here(
    read: Callable[[Skipped], Iterable[SourceItem]],
    policy: Policy,
    stats: ScanStats,
    today: dt.date | None,
    scope: Scope | None,
) -> Iterator[Result]:
    """``pipeline.judge`` in this process over what ``read`` yields, counting the records it skipped unparsed."""
    skipped = Skipped()
    try:
        yield from judge(read(skipped), policy, stats=stats, today=today, scope=scope)
    finally:
        stats.records += skipped.records


def _dedup(part: FileResult, seen: set[tuple[str, str]], stats: ScanStats) -> Iterator[Result]:
    """Yield one file's results, dropping changes an earlier file already produced; changes are counted here."""
    stats.add(replace(part.stats, changes=0, by_severity={}))
    for result in part.results:
        if isinstance(result, Judgement):
            key = result.change.dedup_key
            if key in seen:
                stats.duplicates += 1
                continue
            seen.add(key)
            stats.count(result)
        yield result


def _context() -> multiprocessing.context.BaseContext:
    """fork when this process is single-threaded (workers start at once); else the platform's safe default."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def judge_files(
    entries: Iterable[Entry],
    policy: Policy,
    *,
    workers: int,
    stats: ScanStats,
    today: dt.date | None = None,
    scope: Scope | None = None,
    batch_bytes: int = BATCH_BYTES,
) -> Iterator[Judgement | Problem]:
    """Judge every security-group change in the files (walked local paths, ``-``, Blobs; problems pass
    through) on ``workers`` processes, with the results, order and ``stats`` of one ``pipeline.judge`` over
    them all, every record counted.

    Stdin (``-``) is read in this process. ``workers`` counts this process: it starts ``workers - 1``
    others, keeps each of them at most two batches of about ``batch_bytes`` (as stored) ahead, and judges
    further batches itself while it waits for theirs, so no core idles on bookkeeping.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        yield from _judge_here(lambda skipped: _read_entries(entries, skipped), policy, stats, today, scope)
        return
    batched = _batches(entries, batch_bytes)
    ahead: list[tuple[File, ...] | str | Problem] = []
    file_batches = 0
    for early in batched:  # look ahead until a second batch of files shows that workers can share the work
        ahead.append(early)
        file_batches += isinstance(early, tuple)
        if file_batches > 1:
            break
    else:
        yield from _judge_here(lambda skipped: _read_entries(ahead, skipped), policy, stats, today, scope)
        return
    helpers = workers - 1
    seen: set[tuple[str, str]] = set()  # changes judged in earlier files
    pending: deque[Future[tuple[FileResult, ...]] | tuple[FileResult, ...] | str | Problem] = deque()
    submitted = 0  # futures in ``pending``
    context = _context()
    with ProcessPoolExecutor(
        helpers, mp_context=context, initializer=_init_worker, initargs=(policy, today, scope)
    ) as pool:
        queue = itertools.chain(ahead, batched)

        def pull(here: bool) -> bool:
            """Queue the next entry (a batch goes to the pool, or is judged here); False once none is left."""
            nonlocal submitted
            entry = next(queue, None)
            if entry is None:
                return False
            if not isinstance(entry, tuple):
                pending.append(entry)  # a problem, or stdin: handled here, in order, when its turn comes
            elif here:
                pending.append(_judge_batch(entry, policy, today, scope))
            else:
                pending.append(pool.submit(_judge_in_worker, entry))
                submitted += 1
            return True

        exhausted = False
        while True:
            while not exhausted and submitted < 2 * helpers:
                exhausted = not pull(here=False)
            if not pending:
                break
            head = pending[0]
            if isinstance(head, Future) and not head.done() and not exhausted and len(pending) < 4 * workers:
                exhausted = not pull(here=True)  # the others are busy: judge the next batch here meanwhile
                continue
            pending.popleft()
            if isinstance(head, Problem):
                stats.problems += 1
                yield head
            elif isinstance(head, str):
                yield from _dedup(judge_file(head, policy, today, scope), seen, stats)
            else:
                if isinstance(head, Future):
                    submitted -= 1
                    head = head.result()
                for part in head:
                    yield from _dedup(part, seen, stats)
