"""Read paths (files, directories, ``-`` for stdin) into parsed JSON documents, then unwrap them."""

from __future__ import annotations

import gzip
import json
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sgwatch.sources.base import Problem, SourceItem
from sgwatch.sources.envelopes import unwrap

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


def decompress(data: bytes) -> bytes:
    """Gunzip when the bytes are gzip (by magic, not by name): python-isal when installed, else zlib."""
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        from isal import igzip  # noqa: PLC0415 - optional accelerator

        out: bytes = igzip.decompress(data)  # type: ignore[no-untyped-call]
        return out
    except ImportError:
        return gzip.decompress(data)


def parse_documents(data: bytes, origin: str) -> Iterator[tuple[Any, str] | Problem]:
    """One JSON document, or JSON lines; yields (document, origin) pairs or problems naming the line."""
    stripped = data.strip()
    if not stripped:
        yield Problem(origin=origin, message="empty input")
        return
    try:
        yield json.loads(stripped), origin
        return
    except json.JSONDecodeError as exc:
        if stripped.count(b"\n") == 0:
            yield Problem(origin=origin, message=f"invalid JSON: {exc}")
            return
        whole_error = exc
    parsed_any = False
    problems: list[Problem] = []
    for number, line in enumerate(stripped.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(origin=f"{origin}:{number}", message=f"invalid JSON line: {exc}"))
            continue
        parsed_any = True
        yield doc, f"{origin}:{number}"
    if not parsed_any:
        # Neither one document nor JSON lines: report the whole-document error, it is the useful one.
        yield Problem(origin=origin, message=f"invalid JSON: {whole_error}")
        return
    yield from problems


def read_bytes(source: str | Path, stdin: BinaryIO | None = None) -> bytes:
    if source == "-":
        return (stdin or sys.stdin.buffer).read()
    return Path(source).read_bytes()


def read_source(source: str | Path, stdin: BinaryIO | None = None) -> Iterator[SourceItem]:
    """Every record (or problem) in one file or stdin, whatever its envelope."""
    origin = str(source)
    try:
        data = decompress(read_bytes(source, stdin))
    except OSError as exc:
        message = exc.strerror or str(exc)
        if isinstance(exc, gzip.BadGzipFile) or "gzip" in str(exc).lower():
            message = f"corrupt gzip: {exc}"
        yield Problem(origin=origin, message=f"cannot read: {message}")
        return
    except (EOFError, zlib.error) as exc:
        yield Problem(origin=origin, message=f"truncated or corrupt gzip: {exc or 'unexpected end of data'}")
        return
    for parsed in parse_documents(data, origin):
        if isinstance(parsed, Problem):
            yield parsed
        else:
            doc, where = parsed
            yield from unwrap(doc, where)


def read_paths(paths: Iterable[str], stdin: BinaryIO | None = None) -> Iterator[SourceItem]:
    """Every record (or problem) in all the given paths, in order."""
    for entry in walk(paths):
        if isinstance(entry, Problem):
            yield entry
        else:
            yield from read_source(entry, stdin)
