"""Replay benchmark: the same CloudTrail archive through a naive loop, sgwatch's plain path and its fast path.

    python benchmarks/bench_replay.py /tmp/trail              # an archive made by generate.py
    python benchmarks/bench_replay.py --records 50000 --files 100

Every method must return the same judgements and problems (asserted). Prints records/s, MB/s of uncompressed
JSON and the ratio to the naive loop, as the median of ``--runs`` rounds (and best round against best round),
then checks the targets: >= 8x the naive loop on one core, >= 1.8x with 2 workers vs 1, the latter next to
what the same cores give a pure-Python loop on 2 processes vs 1 in the same rounds (the machine's ceiling).
Methods alternate their order from round to round, so slow drift in the machine's speed favours none.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import gzip
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sgwatch.decode import is_sg_candidate
from sgwatch.model import Judgement
from sgwatch.normalize.events import EVENT_SOURCE, SG_EVENT_NAMES
from sgwatch.parallel import judge_files
from sgwatch.pipeline import ScanStats, judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, RawRecord, read_paths
from sgwatch.sources.fast import available as fast_available
from sgwatch.sources.files import decompress, walk

TODAY = dt.date(2026, 6, 1)
TARGET_ONE_CORE = 8.0
TARGET_TWO_WORKERS = 1.8
Output = list[Judgement | Problem]


@dataclass(frozen=True, slots=True, kw_only=True)
class Corpus:
    root: Path
    files: tuple[Path, ...]
    records: int
    raw_bytes: int
    gz_bytes: int


@dataclass(slots=True)
class Row:
    name: str
    seconds: list[float]
    output: Output | None = None  # None: a reference line that produces no judgements

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


def survey(root: Path) -> Corpus:
    files = tuple(sorted(p for p in root.rglob("*.json.gz") if p.is_file()))
    records = raw = gz = 0
    for path in files:
        packed = path.read_bytes()
        data = gzip.decompress(packed)
        records += len(json.loads(data)["Records"])
        raw += len(data)
        gz += len(packed)
    return Corpus(root=root, files=files, records=records, raw_bytes=raw, gz_bytes=gz)


def naive(corpus: Corpus, policy: Policy) -> Output:
    """What one writes first: gzip.open + json.load, a loop over the records, sgwatch on the matches."""

    def matches() -> Iterator[RawRecord]:
        for path in corpus.files:
            with gzip.open(path) as handle:
                doc = json.load(handle)
            for index, record in enumerate(doc["Records"]):
                if record.get("eventSource") == EVENT_SOURCE and record.get("eventName") in SG_EVENT_NAMES:
                    yield RawRecord(data=record, origin=f"{path}#{index}")

    return list(judge(matches(), policy, today=TODAY))


def plain(corpus: Corpus, policy: Policy) -> Output:
    return list(judge(read_paths([str(corpus.root)], fast=False), policy, today=TODAY))


CANDIDATES: dict[int, int] = {}  # workers -> security-group candidates the fast path judged


def fast(workers: int) -> Callable[[Corpus, Policy], Output]:
    def run(corpus: Corpus, policy: Policy) -> Output:
        stats = ScanStats()
        out = list(judge_files(walk([str(corpus.root)]), policy, workers=workers, stats=stats, today=TODAY))
        if stats.records != corpus.records:
            raise AssertionError(f"fast path counted {stats.records} records, the archive holds {corpus.records}")
        CANDIDATES[workers] = stats.candidates
        return out

    return run


def decompress_only(corpus: Corpus, policy: Policy) -> None:
    for path in corpus.files:
        decompress(path.read_bytes())


def _view_scanner() -> Callable[[tuple[Path, ...]], None] | None:
    """The reference technique over some files: inflate, then one msgspec pass into a two-field Struct per
    record, and nothing else (no UTF-8 check, no judging, no fallbacks)."""
    try:
        import msgspec  # noqa: PLC0415 - optional
    except ImportError:
        return None

    # defstruct: this module's annotations are strings, which msgspec cannot resolve for local classes
    view: Any = msgspec.defstruct("View", [("eventSource", str, ""), ("eventName", str, "")], gc=False)
    decoder: Any = msgspec.json.Decoder(msgspec.defstruct("Log", [("Records", list[view])], gc=False))
    names = frozenset(SG_EVENT_NAMES)

    def scan(files: tuple[Path, ...]) -> None:
        for path in files:
            for record in decoder.decode(decompress(path.read_bytes())).Records:
                if record.eventName in names and record.eventSource == EVENT_SOURCE:
                    pass

    return scan


def two_field_view() -> Callable[[Corpus, Policy], None] | None:
    """The reference technique on one core: the most any exact path built on it can reach."""
    scan = _view_scanner()
    if scan is None:
        return None
    return lambda corpus, policy: scan(corpus.files)


def view_ceiling(processes: int) -> Callable[[Corpus, Policy], None] | None:
    """The reference technique with the files split over ``processes`` forked processes: how far work of
    this kind (inflating and parsing megabytes, the memory traffic included) scales on these cores."""
    scan = _view_scanner()
    if scan is None:
        return None

    def run(corpus: Corpus, policy: Policy) -> None:
        context = multiprocessing.get_context("fork")
        children = [context.Process(target=scan, args=(corpus.files[i::processes],)) for i in range(processes)]
        for child in children:
            child.start()
        for child in children:
            child.join()

    return run


def floor(corpus: Corpus) -> Callable[[Corpus, Policy], None]:
    """Decompress everything and judge the candidates (found beforehand): what any exact path must still do."""
    matches = [
        RawRecord(data=record, origin=f"{path}#{index}")
        for path in corpus.files
        for index, record in enumerate(json.loads(gzip.decompress(path.read_bytes()))["Records"])
        if is_sg_candidate(record)
    ]

    def run(corpus: Corpus, policy: Policy) -> None:
        decompress_only(corpus, policy)
        for _ in judge(matches, policy, today=TODAY):
            pass

    return run


def duckdb_scan(corpus: Corpus, policy: Policy) -> int:
    """DuckDB's read_json on one thread, selecting the security-group candidates (its count is compared)."""
    import duckdb  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415 - optional

    names = ", ".join(f"'{n}'" for n in SG_EVENT_NAMES)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    # read_json_objects + json_extract: much faster here than read_json with a typed STRUCT column.
    query = f"""
        SELECT count(*) FROM (
            SELECT unnest(json_extract(json, '$.Records[*]')) AS r
            FROM read_json_objects('{corpus.root}/**/*.json.gz', format = 'auto', maximum_object_size = 268435456)
        ) WHERE r->>'$.eventSource' = '{EVENT_SOURCE}' AND r->>'$.eventName' IN ({names})
    """
    row = con.execute(query).fetchone()
    con.close()
    return int(row[0]) if row else 0


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def _calibrate(seconds: float) -> int:
    """Iterations of ``_spin`` that take about ``seconds`` on one core here."""
    n = 200_000
    while True:
        start = time.perf_counter()
        _spin(n)
        took = time.perf_counter() - start
        if took > 0.1:
            return int(n * seconds / took)
        n *= 4


def ceiling(processes: int, n: int) -> Callable[[Corpus, Policy], None]:
    """What the machine gives: ``n`` iterations of a pure-Python loop (no memory traffic, no I/O, nothing
    shared) split over ``processes`` forked processes. Two of them vs one is the most any parallel
    Python program can scale on these cores."""

    def run(corpus: Corpus, policy: Policy) -> None:
        if processes == 1:
            _spin(n)
            return
        context = multiprocessing.get_context("fork")
        children = [context.Process(target=_spin, args=(n // processes,)) for _ in range(processes)]
        for child in children:
            child.start()
        for child in children:
            child.join()

    return run


def timed(fn: Callable[[Corpus, Policy], object], corpus: Corpus, policy: Policy) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    out = fn(corpus, policy)
    return time.perf_counter() - start, out


def have_duckdb() -> bool:
    try:
        import duckdb  # noqa: F401, PLC0415 - optional
    except ImportError:
        return False
    return True


def bench(corpus: Corpus, runs: int, workers: tuple[int, ...]) -> dict[str, object]:
    policy = Policy()
    methods: list[tuple[str, Callable[[Corpus, Policy], object]]] = [
        ("naive gzip+json loop", naive),
        ("sgwatch plain path", plain),
    ]
    methods += [(f"sgwatch fast, {w} worker{'s' if w > 1 else ''}", fast(w)) for w in workers]
    if 1 in workers and 2 in workers and "fork" in multiprocessing.get_all_start_methods():
        spins = _calibrate(1.0)
        methods += [("ceiling: python loop, 1 process", ceiling(1, spins))]
        methods += [("ceiling: python loop, 2 processes", ceiling(2, spins))]
        view1, view2 = view_ceiling(1), view_ceiling(2)
        if view1 is not None and view2 is not None:
            methods += [("ceiling: reference, 1 process", view1), ("ceiling: reference, 2 processes", view2)]
    methods.append(("floor: decompress only", decompress_only))
    view = two_field_view()
    if view is not None:
        methods.append(("reference: inflate + 2-field view", view))
    methods.append(("floor: decompress + judge", floor(corpus)))
    if have_duckdb():
        methods.append(("duckdb read_json, 1 thread", duckdb_scan))
    rows = {name: Row(name=name, seconds=[]) for name, _ in methods}
    extra: dict[str, object] = {"load_before": os.getloadavg()[0]}
    for path in corpus.files:  # warm the page cache
        path.read_bytes()
    for run in range(runs):
        order = methods if run % 2 == 0 else methods[::-1]  # alternate, so drift hurts no method
        for name, fn in order:
            seconds, out = timed(fn, corpus, policy)
            rows[name].seconds.append(seconds)
            if isinstance(out, list):
                if rows[name].output is not None and rows[name].output != out:
                    raise AssertionError(f"{name}: output differs between runs")
                rows[name].output = out
            elif isinstance(out, int):
                expected = CANDIDATES.get(1)
                if expected is None:
                    raise AssertionError(f"{name}: nothing to compare with (run the fast path with 1 worker)")
                if out != expected:
                    raise AssertionError(f"{name}: found {out} candidates, sgwatch judged {expected}")
                extra[name] = out
    reference = rows["naive gzip+json loop"].output
    for row in rows.values():
        if row.output is not None and row.output != reference:
            raise AssertionError(f"{row.name}: output differs from the naive loop")
    assert reference is not None
    judgements = [r for r in reference if isinstance(r, Judgement)]
    return {
        "rows": list(rows.values()),
        "judgements": len(judgements),
        "problems": len(reference) - len(judgements),
        **extra,
    }


def report(corpus: Corpus, result: dict[str, object], runs: int) -> dict[str, float]:
    rows: list[Row] = result["rows"]  # type: ignore[assignment]
    base = next(r for r in rows if r.name.startswith("naive")).median
    mb = corpus.raw_bytes / 1e6
    print(
        f"\narchive: {len(corpus.files)} files, {corpus.records:,} records, {mb:.0f} MB JSON "
        f"({corpus.raw_bytes / corpus.records:.0f} B/record), {corpus.gz_bytes / 1e6:.0f} MB gzip; "
        f"{os.cpu_count()} cores; median of {runs} runs; load average before/after: "
        f"{result['load_before']:.2f}/{os.getloadavg()[0]:.2f}"
    )
    print(f"every method returned the same {result['judgements']} judgements and {result['problems']} problems")
    for name, count in result.items():
        if isinstance(name, str) and name.startswith("duckdb"):
            print(f"duckdb found the same {count} security-group candidate records")
    best = next(r for r in rows if r.name.startswith("naive")).best
    print(f"\n{'method':34s} {'seconds':>8s} {'records/s':>11s} {'MB/s':>7s} {'vs naive':>9s} {'best of runs':>12s}")
    ratios: dict[str, float] = {}
    for row in rows:
        if row.name.startswith("ceiling:"):
            continue
        ratio = base / row.median
        ratios[row.name] = ratio
        ratios[f"{row.name}, best"] = best / row.best
        print(
            f"{row.name:34s} {row.median:8.2f} {corpus.records / row.median:11,.0f} "
            f"{mb / row.median:7.1f} {ratio:8.1f}x {best / row.best:11.1f}x"
        )
    by_name = {row.name: row for row in rows}
    one, two = by_name.get("sgwatch fast, 1 worker"), by_name.get("sgwatch fast, 2 workers")
    if one is not None and two is not None:
        # 1 and 2 workers run back to back in every round: the ratio within a round sees the same neighbours.
        pairs = [a / b for a, b in zip(one.seconds, two.seconds, strict=True)]
        ratios["2 vs 1 worker, paired"] = statistics.median(pairs)
        print(f"\n2 workers vs 1, round by round: {', '.join(f'{p:.2f}x' for p in pairs)}")
    spin1, spin2 = by_name.get("ceiling: python loop, 1 process"), by_name.get("ceiling: python loop, 2 processes")
    if spin1 is not None and spin2 is not None:
        spins = [a / b for a, b in zip(spin1.seconds, spin2.seconds, strict=True)]
        ratios["ceiling 2 vs 1, paired"] = statistics.median(spins)
        print(f"machine ceiling, a pure-Python loop on 2 processes vs 1: {', '.join(f'{p:.2f}x' for p in spins)}")
    ref1, ref2 = by_name.get("ceiling: reference, 1 process"), by_name.get("ceiling: reference, 2 processes")
    if ref1 is not None and ref2 is not None:
        views = [a / b for a, b in zip(ref1.seconds, ref2.seconds, strict=True)]
        ratios["reference 2 vs 1, paired"] = statistics.median(views)
        print(
            f"the reference method (inflate + 2-field view) on 2 processes vs 1: {', '.join(f'{p:.2f}x' for p in views)}"
        )
    return ratios


def targets(ratios: dict[str, float]) -> list[str]:
    lines = []
    one = ratios.get("sgwatch fast, 1 worker")
    two = ratios.get("sgwatch fast, 2 workers")
    if one is not None:
        verdict = "met" if one >= TARGET_ONE_CORE else "NOT MET"
        lines.append(
            f"fast path, one core: {one:.1f}x the naive loop, medians (target >= {TARGET_ONE_CORE:.0f}x): {verdict}"
        )
        best = ratios.get("sgwatch fast, 1 worker, best")
        if best is not None:
            lines.append(f"  best run vs best run: {best:.1f}x")
    if one is not None and two is not None:
        scale = ratios.get("2 vs 1 worker, paired", two / one)
        verdict = "met" if scale >= TARGET_TWO_WORKERS else "NOT MET"
        lines.append(f"2 workers vs 1: {scale:.2f}x, median of the rounds (target >= {TARGET_TWO_WORKERS}x): {verdict}")
        spin = ratios.get("ceiling 2 vs 1, paired")
        if spin is not None:
            lines.append(
                f"  the same cores scale a pure-Python loop {spin:.2f}x: sgwatch gets {scale / spin:.0%} of that"
            )
        view = ratios.get("reference 2 vs 1, paired")
        if view is not None:
            lines.append(
                f"  and the reference method (inflate + 2-field view) {view:.2f}x: sgwatch gets {scale / view:.0%} of that"
            )
    return lines


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", nargs="?", type=Path, help="directory of .json.gz CloudTrail files")
    parser.add_argument("--records", type=int, default=50_000, help="records to generate when no archive is given")
    parser.add_argument("--files", type=int, default=100, help="files to generate when no archive is given")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per method (median reported)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="fast-path worker counts")
    args = parser.parse_args(argv)
    if not fast_available():
        print("note: msgspec is not installed, so the fast path falls back to the plain path")
    with tempfile.TemporaryDirectory(prefix="sgwatch-bench-") as tmp:
        root = args.archive
        if root is None:
            from generate import generate  # noqa: PLC0415

            root = Path(tmp)
            generate(root, records=args.records, files=args.files)
        corpus = survey(root)
        result = bench(corpus, args.runs, tuple(args.workers))
        ratios = report(corpus, result, args.runs)
    for line in targets(ratios):
        print(line)
    return ratios


if __name__ == "__main__":
    main()
