"""gzip by magic with python-isal, zlib-ng or the stdlib; every backend's errors become the same kind of problem."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sgwatch.sources import Problem, read_source
from sgwatch.sources.files import _gunzip, decompress

from .conftest import log_file, write

DATA = log_file([{"eventName": "GetObject", "eventSource": "s3.amazonaws.com", "n": i} for i in range(200)])


@pytest.fixture(params=["isal", "zlib_ng", "stdlib"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Force one decompressor by hiding the faster ones."""
    hidden = {"isal": [], "zlib_ng": ["isal"], "stdlib": ["isal", "zlib_ng"]}[request.param]
    if request.param != "stdlib":
        pytest.importorskip(request.param)
    for name in hidden:
        monkeypatch.setitem(sys.modules, name, None)
    _gunzip.cache_clear()
    yield request.param
    _gunzip.cache_clear()


def test_backend_is_the_one_asked_for(backend: str) -> None:
    assert _gunzip()[2] == backend


def test_round_trip_and_plain_bytes(backend: str) -> None:
    assert decompress(gzip.compress(DATA)) == DATA
    assert decompress(gzip.compress(DATA) + gzip.compress(b" ")) == DATA + b" "  # concatenated members
    assert decompress(DATA) is DATA
    assert decompress(gzip.compress(DATA) + b"\0\0\0\0") == gzip.decompress(gzip.compress(DATA) + b"\0\0\0\0")


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "crc"])
def test_damaged_gzip_is_one_problem(backend: str, tmp_path: Path, damage: str) -> None:
    path = write(tmp_path, "log", DATA, gz=True)
    raw = bytearray(path.read_bytes())
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "corrupt":
        raw[20:60] = b"\xff" * 40
    else:
        raw[-8:-4] = b"\0\0\0\0"
    path.write_bytes(bytes(raw))
    for fast in (False, True):
        (problem,) = list(read_source(path, fast=fast))
        assert isinstance(problem, Problem)
        assert "gzip" in problem.message
        assert problem.origin == str(path)
