"""Helpers for the fast-path tests: compare the fast read with the plain read, build archives and documents."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sgwatch.decode import is_sg_candidate
from sgwatch.model import Judgement
from sgwatch.pipeline import ScanStats, judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, RawRecord, SourceItem, read_paths, read_source
from sgwatch.sources.base import Skipped
from tests.conftest import support_module

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "data" / "corpus"
_cloudtrail = support_module("support/cloudtrail.py")
FIXTURES: Path = _cloudtrail.FIXTURES
TODAY = _cloudtrail.TODAY
load_fixture = _cloudtrail.load_fixture
fixture_names = _cloudtrail.fixture_names


def keep(item: SourceItem) -> bool:
    """What the fast path keeps: everything but the records that cannot be security-group changes."""
    return not isinstance(item, RawRecord) or is_sg_candidate(item.data)


def read_both(source: str | Path, data: bytes | None = None) -> tuple[list[SourceItem], list[SourceItem], int]:
    """(plain items, fast items, records the fast read skipped) for a path, or for bytes given as stdin."""

    def stdin() -> io.BytesIO | None:
        return io.BytesIO(data) if data is not None else None

    plain = list(read_source(source, stdin(), fast=False))
    skipped = Skipped()
    fast = list(read_source(source, stdin(), fast=True, skipped=skipped))
    return plain, fast, skipped.records


def assert_same(source: str | Path, data: bytes | None = None) -> list[SourceItem]:
    """The fast read is the plain read minus the non-candidates, which it counts; returns the fast items."""
    plain, fast, skipped = read_both(source, data)
    assert fast == [item for item in plain if keep(item)]
    records = sum(isinstance(item, RawRecord) for item in plain)
    assert skipped == records - sum(isinstance(item, RawRecord) for item in fast)
    return fast


def judged(paths: list[str], *, fast: bool) -> tuple[list[Judgement | Problem], ScanStats]:
    """pipeline.judge over read_paths, with skipped records added back to the count."""
    stats = ScanStats()
    skipped = Skipped()
    out = list(judge(read_paths(paths, fast=fast, skipped=skipped), Policy(), stats=stats, today=TODAY))
    stats.records += skipped.records
    return out, stats


def log_file(records: list[Any], **dumps: Any) -> bytes:
    """A CloudTrail log file document (``json.dumps`` keyword arguments choose the layout)."""
    return json.dumps({"Records": records}, **dumps).encode()


def write(tmp_path: Path, name: str, data: bytes, *, gz: bool = False) -> Path:
    path = tmp_path / (name + (".json.gz" if gz else ".json"))
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def benchmark_module(name: str) -> ModuleType:
    """A module of benchmarks/ (the archive generator), imported from its file."""
    folder = ROOT / "benchmarks"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(f"sgwatch_bench_{name}", folder / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A small generated archive (seeded): 6,000 records in 12 files, with SG changes and adversarial records."""
    generate = benchmark_module("generate")
    return generate.generate(tmp_path_factory.mktemp("archive"), records=6000, files=12, seed=11, sg_rate=0.02)
