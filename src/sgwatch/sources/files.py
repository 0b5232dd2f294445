"""Read paths (files, directories, ``-`` for stdin) into parsed JSON documents, then unwrap them.

Two ways to read, with the same results: the plain path parses every document with ``json`` and unwraps it;
the fast path (``fast=True``, the default) hands CloudTrail log files to ``sources.fast``, which only parses
the records that can be security-group changes, and leaves out (but counts, in ``skipped``) every record that
cannot be one, whatever its envelope.
"""

from __future__ import annotations

import functools
import gzip
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from sgwatch.decode import is_sg_candidate
from sgwatch.sources.base import Problem, RawRecord, Skipped, SourceItem, load_json
from sgwatch.sources.envelopes import unwrap
from sgwatch.sources.fast import scan_log

SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson")
GZIP_MAGIC = b"\x1f\x8b"


def walk(paths: Iterable[str]) -> Iterator[str | Path | Problem]:
    """Expand directories (recursively, sorted) into the files sgwatch reads; ``-`` stays ``-``."""
    for name in paths:
        if name == "-":
            yield name
            continue
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
            if not found:
                yield Problem(origin=name, message=f"directory holds no {', '.join(SUFFIXES)} files")
            yield from found
        elif path.exists():
            yield path
        else:
            yield Problem(origin=name, message="no such file or directory")


Gunzip = tuple[Callable[[bytes], bytes], tuple[type[Exception], ...], str]  # gunzip, its errors, backend


class TrailingBytes(Exception):
    """Complete gzip data followed by bytes that are not gzip: ``data`` is what the gzip data held."""

    def __init__(self, data: bytes, extra: int) -> None:
        super().__init__(f"{extra} bytes after the end of the gzip data are not gzip")
        self.data = data
        self.extra = extra


def _one_member_first(zlib_module: Any, full: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """gunzip that inflates a single-member file (what CloudTrail writes) in one call, ~15% faster than the
    module's gzip reader. Zero padding after it is ignored (as ``gzip`` does); other bytes that do not start
    another member raise TrailingBytes with the inflated data (``gzip -d`` reads them the same way, with a
    warning); several members and damage go to ``full``, which decides and words the errors."""

    def gunzip(data: bytes) -> bytes:
        inflater = zlib_module.decompressobj(wbits=31)  # 31: gzip header and trailer, checked
        try:
            out: bytes = inflater.decompress(data)
        except zlib_module.error:
            return full(data)
        rest = inflater.unused_data
        if inflater.eof and not rest.strip(b"\0"):
            return out
        if inflater.eof and not rest.startswith(GZIP_MAGIC):
            raise TrailingBytes(out, len(rest))
        return full(data)

    return gunzip


@functools.cache
def _gunzip() -> Gunzip:
    """The fastest gzip decompressor installed (python-isal, then zlib-ng, then the stdlib) and its errors."""
    found: Gunzip
    try:
        from isal import igzip, igzip_lib, isal_zlib  # noqa: PLC0415 - optional accelerator

        found = (
            _one_member_first(isal_zlib, igzip.decompress),
            (cast("type[Exception]", igzip_lib.IsalError),),
            "isal",
        )
    except ImportError:
        try:
            from zlib_ng import gzip_ng, zlib_ng  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

            found = (
                _one_member_first(zlib_ng, gzip_ng.decompress),
                (cast("type[Exception]", zlib_ng.error),),
                "zlib_ng",
            )
        except ImportError:
            found = (_one_member_first(zlib, gzip.decompress), (), "stdlib")
    return found


def decompress(data: bytes) -> bytes:
    """Gunzip when the bytes are gzip (by magic, not by name): python-isal or zlib-ng when installed, else zlib."""
    if not data.startswith(GZIP_MAGIC):
        return data
    out: bytes = _gunzip()[0](data)
    return out


def parse_documents(data: bytes, origin: str) -> Iterator[tuple[Any, str] | Problem]:
    """One JSON document, or JSON lines; yields (document, origin) pairs or problems naming the line."""
    stripped = data.strip()
    if not stripped:
        yield Problem(origin=origin, message="empty input")
        return
    try:
        doc = load_json(stripped)
    except UnicodeDecodeError as exc:
        yield Problem(origin=origin, message=f"not UTF-8 text: {exc.reason} at byte {exc.start}")
        return
    except ValueError as exc:  # not JSON, or nested too deeply
        if stripped.count(b"\n") == 0:
            yield Problem(origin=origin, message=f"invalid JSON: {exc}")
            return
        whole_error = exc
    else:
        yield doc, origin
        return
    # Bad lines before the first good one wait: if no line parses, the input is one broken document instead,
    # and the whole-document error is the useful one. After that, everything comes out in line order.
    held: list[Problem] | None = []
    for number, line in enumerate(stripped.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            doc = load_json(line)
        except ValueError as exc:  # not JSON, not UTF-8, or nested too deeply
            problem = Problem(origin=f"{origin}:{number}", message=f"invalid JSON line: {exc}")
            if held is None:
                yield problem
            else:
                held.append(problem)
            continue
        if held is not None:
            yield from held
            held = None
        yield doc, f"{origin}:{number}"
    if held is not None:
        yield Problem(origin=origin, message=f"invalid JSON: {whole_error}")


def read_bytes(source: str | Path, stdin: BinaryIO | None = None) -> bytes:
    if source == "-":
        return (stdin or sys.stdin.buffer).read()
    return Path(source).read_bytes()


def _unwrap_all(data: bytes, origin: str, item_id: str | None) -> Iterator[SourceItem]:
    for parsed in parse_documents(data, origin):
        if isinstance(parsed, Problem):
            yield Problem(origin=parsed.origin, message=parsed.message, item_id=item_id)
        else:
            doc, where = parsed
            yield from unwrap(doc, where, item_id)


def _only_candidates(items: Iterable[SourceItem], skipped: Skipped) -> Iterator[SourceItem]:
    for item in items:
        if isinstance(item, RawRecord) and not is_sg_candidate(item.data):
            skipped.records += 1
        else:
            yield item


def read_source(
    source: str | Path, stdin: BinaryIO | None = None, *, fast: bool = True, skipped: Skipped | None = None
) -> Iterator[SourceItem]:
    """Every record (or problem) in one file or stdin, whatever its envelope.

    With ``fast`` (the default), records that cannot be security-group changes are left out and counted in
    ``skipped``; problems, S3 references and every record that can be a change come out exactly as with
    ``fast=False``, in the same order.
    """
    origin = str(source)
    try:
        data = read_bytes(source, stdin)
    except OSError as exc:
        yield Problem(origin=origin, message=f"cannot read: {exc.strerror or exc}")
        return
    yield from read_data(data, origin, fast=fast, skipped=skipped)


def read_data(
    data: bytes, origin: str, *, item_id: str | None = None, fast: bool = True, skipped: Skipped | None = None
) -> Iterator[SourceItem]:
    """Every record (or problem) in the bytes of one file or object named ``origin`` (gzip or not, any
    envelope); ``item_id`` goes on each item; ``fast`` and ``skipped``: see read_source."""
    damaged: tuple[type[Exception], ...] = (EOFError, zlib.error, *_gunzip()[1])
    try:
        data = decompress(data)
    except TrailingBytes as exc:  # the records are intact (checksum verified): read them, and say so
        yield Problem(origin=origin, message=f"{exc}; read what comes before them", item_id=item_id)
        data = exc.data
    except OSError as exc:  # gzip.BadGzipFile and its kin
        yield Problem(origin=origin, message=f"cannot read: corrupt gzip: {exc}", item_id=item_id)
        return
    except damaged as exc:
        message = f"truncated or corrupt gzip: {exc or 'unexpected end of data'}"
        yield Problem(origin=origin, message=message, item_id=item_id)
        return
    if not fast:
        yield from _unwrap_all(data, origin, item_id)
        return
    counter = skipped if skipped is not None else Skipped()
    scan = scan_log(data, origin, item_id)
    if scan is None:
        yield from _only_candidates(_unwrap_all(data, origin, item_id), counter)
        return
    counter.records += scan.skipped
    yield from scan.items


def read_paths(
    paths: Iterable[str], stdin: BinaryIO | None = None, *, fast: bool = True, skipped: Skipped | None = None
) -> Iterator[SourceItem]:
    """Every record (or problem) in all the given paths, in order (``fast`` and ``skipped``: see read_source)."""
    for entry in walk(paths):
        if isinstance(entry, Problem):
            yield entry
        else:
            yield from read_source(entry, stdin, fast=fast, skipped=skipped)
