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


def test_bytes_after_the_gzip_data_are_a_problem_and_the_records_are_still_read(backend: str, tmp_path: Path) -> None:
    sg = {"eventName": "CreateSecurityGroup", "eventSource": "ec2.amazonaws.com", "eventID": "kept"}
    data = log_file([sg, {"eventName": "GetObject", "eventSource": "s3.amazonaws.com"}])
    path = tmp_path / "log.json.gz"
    path.write_bytes(gzip.compress(data) + b"garbage\n")
    for fast in (False, True):  # the plain path yields every record, the fast path the candidates
        problem, *records = list(read_source(path, fast=fast))
        assert isinstance(problem, Problem)
        assert (problem.origin, problem.message) == (
            str(path),
            "8 bytes after the end of the gzip data are not gzip; read what comes before them",
        )
        assert [r.data.get("eventID") for r in records] == (["kept"] if fast else ["kept", None])
    path.write_bytes(gzip.compress(data) + b"\0" * 512)  # zero padding (tape blocks, preallocation): no problem
    assert [type(item).__name__ for item in read_source(path)] == ["RawRecord"]
