"""judge_files in process (workers=1): same output and counters as pipeline.judge; results pickle; memory is flat."""

from __future__ import annotations

import io
import pickle
import shutil
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from sgwatch.model import Judgement
from sgwatch.parallel import FileResult, judge_file, judge_files
from sgwatch.pipeline import ScanStats
from sgwatch.policy import Policy
from sgwatch.sources import Problem
from sgwatch.sources.files import walk

from .conftest import TODAY, judged, load_fixture, log_file, write


def tree(tmp_path: Path) -> list[str]:
    """Three log files where the third repeats changes of the first, plus a broken file and a missing path."""
    ssh = load_fixture("AuthorizeSecurityGroupIngress__items_world_ssh")
    egress = load_fixture("AuthorizeSecurityGroupEgress__world_all_traffic")
    other = load_fixture("DescribeSecurityGroups__read_only")
    write(tmp_path, "a", log_file([other, ssh, other]), gz=True)
    write(tmp_path, "b", log_file([egress, other]))
    write(tmp_path, "c", log_file([ssh, other, egress, ssh]), gz=True)
    (tmp_path / "d.json").write_text('{"Records": [')
    return [str(tmp_path), str(tmp_path / "missing.json"), str(tmp_path / "a.json.gz")]


def test_in_process_equals_pipeline_judge(tmp_path: Path) -> None:
    paths = tree(tmp_path)
    expected, expected_stats = judged(paths, fast=False)
    stats = ScanStats()
    out = list(judge_files(walk(paths), Policy(), workers=1, stats=stats, today=TODAY))
    assert out == expected
    assert stats == expected_stats
    assert stats.duplicates >= 3
    assert stats.problems == 2
    assert stats.records == 12
    assert [type(r).__name__ for r in out].count("Problem") == 2


def test_stdin_is_read_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = log_file([load_fixture("CreateSecurityGroup__vpc")])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    paths = [*tree(tmp_path)[:1], "-"]
    stats = ScanStats()
    out = list(judge_files(walk(paths), Policy(), workers=1, stats=stats, today=TODAY))
    assert isinstance(out[-1], Judgement)
    assert out[-1].change.origin == "-#0"


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(judge_files(walk([]), Policy(), workers=0, stats=ScanStats()))


def test_file_results_pickle(tmp_path: Path) -> None:
    tree(tmp_path)
    part = judge_file(str(tmp_path / "c.json.gz"), Policy(), TODAY)
    assert part.stats.records == 4
    assert part.stats.duplicates == 1
    assert any(isinstance(r, Judgement) for r in part.results)
    again = pickle.loads(pickle.dumps(part))
    assert isinstance(again, FileResult)
    assert again == part


def test_adding_stats_adds_every_counter() -> None:
    total = ScanStats(records=1, candidates=1, changes=1, duplicates=0, problems=1, by_severity={"high": 1})
    total.add(
        ScanStats(records=2, candidates=2, changes=2, duplicates=3, problems=4, by_severity={"high": 1, "low": 2}),
    )
    assert total == ScanStats(
        records=3, candidates=3, changes=3, duplicates=3, problems=5, by_severity={"high": 2, "low": 2}
    )


def peak_bytes(paths: list[str]) -> tuple[int, int]:
    """Peak traced memory of a streaming in-process run (results counted, not kept), and records seen."""
    stats = ScanStats()
    tracemalloc.start()
    try:
        count = sum(1 for _ in judge_files(walk(paths), Policy(), workers=1, stats=stats, today=TODAY))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count > 0
    return peak, stats.records


def test_peak_memory_stays_flat_as_input_grows_4x(tmp_path: Path, archive: Any) -> None:
    source = max(archive.files, key=lambda p: p.stat().st_size)
    small, large = tmp_path / "small", tmp_path / "large"
    for folder, copies in ((small, 3), (large, 12)):
        folder.mkdir()
        for i in range(copies):
            shutil.copy(source, folder / f"{i:03d}.json.gz")
    peak_small, records_small = peak_bytes([str(small)])
    peak_large, records_large = peak_bytes([str(large)])
    assert records_large == 4 * records_small
    assert peak_large < 1.25 * peak_small, (peak_small, peak_large)


def test_problems_from_workerless_run_name_their_file(tmp_path: Path) -> None:
    paths = tree(tmp_path)
    problems = [r for r in judge_files(walk(paths), Policy(), workers=1, stats=ScanStats()) if isinstance(r, Problem)]
    assert sorted((Path(p.origin).name, p.message.split(":")[0]) for p in problems) == [
        ("d.json", "invalid JSON"),
        ("missing.json", "no such file or directory"),
    ]
