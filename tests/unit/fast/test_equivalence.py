"""The fast read returns exactly what the plain read returns (minus non-candidates): fixtures, corpus, archives."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest

from sgwatch.model import Judgement
from sgwatch.sources import RawRecord
from sgwatch.sources.fast import scan_log
from sgwatch.sources.files import decompress

from .conftest import CORPUS, FIXTURES, assert_same, judged

FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
CORPUS_FILES = sorted(CORPUS.rglob("*.json")) if CORPUS.is_dir() else []


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[str(p.relative_to(FIXTURES)) for p in FIXTURE_FILES])
def test_every_fixture(path: Path) -> None:
    assert_same(path)


def test_fixture_log_file_takes_the_fast_path() -> None:
    (path,) = (FIXTURES / "envelopes").glob("*CloudTrail*.json.gz")
    scan = scan_log(decompress(path.read_bytes()), str(path))
    assert scan is not None
    assert scan.records == 3
    assert scan.skipped == 1
    assert [item.origin.rsplit("#", 1)[1] for item in scan.items] == ["1", "2"]
    assert assert_same(path) == list(scan.items)


def test_fixture_tree_judged_the_same() -> None:
    plain, plain_stats = judged([str(FIXTURES)], fast=False)
    fast, fast_stats = judged([str(FIXTURES)], fast=True)
    assert fast == plain
    assert fast_stats == plain_stats


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus not present")
def test_real_corpus_file_by_file() -> None:
    candidates = 0
    for path in CORPUS_FILES:
        fast = assert_same(path)
        assert scan_log(path.read_bytes(), str(path)) is not None, f"{path.name} fell back to the plain path"
        candidates += sum(isinstance(item, RawRecord) for item in fast)
    assert candidates >= 8  # PROVENANCE.md: the SG events of the Stratus/Terraform run


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus not present")
def test_real_corpus_judged_the_same() -> None:
    plain, plain_stats = judged([str(CORPUS)], fast=False)
    fast, fast_stats = judged([str(CORPUS)], fast=True)
    assert fast == plain
    assert fast_stats == plain_stats
    assert plain_stats.records == 2900
    assert any(isinstance(j, Judgement) for j in fast)


def test_generated_archive_file_by_file(archive: Any) -> None:
    took_fast_path = 0
    for path in archive.files:
        assert_same(path)
        took_fast_path += scan_log(gzip.decompress(path.read_bytes()), str(path)) is not None
    assert took_fast_path == len(archive.files)


def test_generated_archive_judged_the_same(archive: Any) -> None:
    plain, plain_stats = judged([str(archive.root)], fast=False)
    fast, fast_stats = judged([str(archive.root)], fast=True)
    assert fast == plain
    assert fast_stats == plain_stats
    assert plain_stats.records == archive.records
    assert plain_stats.candidates >= archive.sg_records * 0.9  # a few carry escaped names; all are found
    assert sum(isinstance(j, Judgement) for j in fast) > 50
