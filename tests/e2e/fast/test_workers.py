"""Real worker processes: output, order, deduplication across files and counters equal the one-process run."""

from __future__ import annotations

import io
import json
import multiprocessing
import sys
from pathlib import Path

import pytest

from sgwatch.model import Judgement
from sgwatch.parallel import judge_files
from sgwatch.pipeline import ScanStats
from sgwatch.policy import Policy
from sgwatch.sources import Problem
from sgwatch.sources.base import Blob
from sgwatch.sources.files import walk

from .conftest import TODAY, load_fixture, plain_run

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("workers", "batch_bytes"), [(2, 1), (2, 1 << 20), (3, 300)])
def test_workers_equal_one_process(archive: Path, workers: int, batch_bytes: int) -> None:
    paths = [str(archive / "AWSLogs" / "2"), str(archive / "missing.json"), str(archive)]
    expected, expected_stats = plain_run(paths)
    one = ScanStats()
    in_process = list(judge_files(walk(paths), Policy(), workers=1, stats=one, today=TODAY))
    many = ScanStats()
    parallel = list(
        judge_files(walk(paths), Policy(), workers=workers, stats=many, today=TODAY, batch_bytes=batch_bytes)
    )
    assert in_process == expected
    assert one == expected_stats
    assert parallel == expected
    assert many == expected_stats
    assert expected_stats.duplicates > 20  # the second directory pass and the repeats in later files
    assert [p.origin for p in parallel if isinstance(p, Problem)] == [
        p.origin for p in expected if isinstance(p, Problem)
    ]
    keys = [j.change.dedup_key for j in parallel if isinstance(j, Judgement)]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("workers", [1, 2])
def test_fetched_bytes_are_judged_like_the_files_they_were(archive: Path, workers: int) -> None:
    files = [str(f) for f in walk([str(archive)]) if not isinstance(f, Problem)]
    expected, expected_stats = plain_run(files)
    # every other file arrives as downloaded bytes (as S3 objects do), named like the file
    blobs = [i % 2 == 1 or f.endswith("f500.json.gz") for i, f in enumerate(files)]
    entries = [Blob(data=Path(f).read_bytes(), origin=f) if blob else f for f, blob in zip(files, blobs, strict=True)]
    stats = ScanStats()
    out = list(judge_files(entries, Policy(), workers=workers, stats=stats, today=TODAY, batch_bytes=1))
    assert out == expected
    assert stats == expected_stats
    assert any(isinstance(p, Problem) and p.origin.endswith("f500.json.gz") for p in out)  # a damaged blob


def test_stdin_keeps_its_place(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = json.dumps({"Records": [load_fixture("CreateSecurityGroup__vpc")]}).encode()
    paths = [str(archive / "AWSLogs" / "0"), "-", str(archive / "AWSLogs" / "1")]
    expected, expected_stats = plain_run(paths, stdin=data)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    stats = ScanStats()
    out = list(judge_files(walk(paths), Policy(), workers=2, stats=stats, today=TODAY))
    assert out == expected
    assert stats == expected_stats
    assert any(isinstance(j, Judgement) and j.change.origin == "-#0" for j in out)


def test_stopping_early_shuts_the_pool_down(archive: Path) -> None:
    stats = ScanStats()
    results = judge_files(walk([str(archive)]), Policy(), workers=2, stats=stats, today=TODAY, batch_bytes=1)
    first = next(results)
    results.close()
    assert isinstance(first, Judgement | Problem)
    assert stats.records < 100


def _children_while_running(paths: list[str], batch_bytes: int) -> tuple[int, list[Judgement | Problem], ScanStats]:
    """How many worker processes are alive once the first result is out, the results and the counters."""
    stats = ScanStats()
    results = judge_files(walk(paths), Policy(), workers=2, stats=stats, today=TODAY, batch_bytes=batch_bytes)
    out = [next(results)]
    alive = len(multiprocessing.active_children())
    out.extend(results)
    return alive, out, stats


def test_an_input_of_one_batch_is_judged_without_starting_workers(archive: Path) -> None:
    paths = [str(archive / "missing.json"), str(archive / "AWSLogs" / "0"), str(archive)]
    expected, expected_stats = plain_run(paths)
    alive, out, stats = _children_while_running(paths, batch_bytes=1 << 30)
    assert alive == 0
    assert out == expected
    assert stats == expected_stats


def test_an_input_of_two_batches_starts_the_other_worker(archive: Path) -> None:
    paths = [str(archive / "AWSLogs" / "0"), str(archive / "AWSLogs" / "1")]
    expected, expected_stats = plain_run(paths)
    alive, out, stats = _children_while_running(paths, batch_bytes=1)
    assert alive == 1  # --workers counts this process
    assert out == expected
    assert stats == expected_stats


def test_a_file_gone_before_batching_is_a_problem_not_a_crash(archive: Path) -> None:
    files = [str(f) for f in walk([str(archive)]) if not isinstance(f, Problem)]
    gone = str(archive / "gone.json")  # listed, then deleted before the batches were made
    entries = [*files[:5], gone, *files[5:]]
    out = list(judge_files(entries, Policy(), workers=2, stats=ScanStats(), today=TODAY, batch_bytes=1))
    assert [p.message for p in out if isinstance(p, Problem) and p.origin == gone] == [
        "cannot read: No such file or directory"
    ]
