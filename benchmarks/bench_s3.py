"""S3 replay benchmark: a CloudTrail archive in a local S3 (moto, in its own process on 127.0.0.1), read the
way ``sgwatch scan s3://...`` read it before (one object at a time, every record parsed) and the way it does
now (downloads in flight, the fast path, worker processes).

    python benchmarks/bench_s3.py /tmp/trail                # an archive made by generate.py
    python benchmarks/bench_s3.py --records 50000 --files 100 --latency-ms 20

``--latency-ms`` holds every GetObject that long before it is sent (a botocore hook, in the calling thread),
for the network between a scanner and S3. moto itself is no fast S3: it spends tens of milliseconds of CPU
per GetObject on the same cores, which the "downloads alone" row shows. Every method must return the same
judgements (asserted). Prints records/s and the ratio to the one-at-a-time read, median of ``--runs`` rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sgwatch.model import Judgement
from sgwatch.parallel import judge_files
from sgwatch.pipeline import ScanStats, judge
from sgwatch.policy import Policy
from sgwatch.sources import Problem, SourceItem
from sgwatch.sources.files import read_data
from sgwatch.sources.s3 import CONCURRENCY, iter_s3_objects, s3_client

TODAY = dt.date(2026, 6, 1)
BUCKET = "trail"
Output = list[Judgement | Problem]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto(port: int) -> subprocess.Popen[bytes]:
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")


def client(latency: float) -> Any:
    """The client the scan makes (endpoint and credentials from the environment), GetObject held ``latency`` s."""
    s3 = s3_client(CONCURRENCY)
    if latency > 0:
        s3.meta.events.register("before-send.s3.GetObject", lambda **_: time.sleep(latency))
    return s3


def upload(s3: Any, root: Path) -> tuple[int, int]:
    s3.create_bucket(Bucket=BUCKET)
    files = sorted(root.rglob("*.json.gz"))
    for path in files:
        s3.upload_file(str(path), BUCKET, path.relative_to(root).as_posix())
    return len(files), sum(p.stat().st_size for p in files)


def one_at_a_time(s3: Any, policy: Policy) -> tuple[Output, int]:
    """What the scan did before: list, then download and parse every object in turn, every record."""

    def items() -> Iterator[SourceItem]:
        for fetched in iter_s3_objects(f"s3://{BUCKET}/", client=s3, concurrency=1):
            if isinstance(fetched, Problem):
                yield fetched
            else:
                yield from read_data(fetched.data, fetched.origin, fast=False)

    stats = ScanStats()
    return list(judge(items(), policy, stats=stats, today=TODAY)), stats.records


def now(workers: int) -> Callable[[Any, Policy], tuple[Output, int]]:
    def run(s3: Any, policy: Policy) -> tuple[Output, int]:
        stats = ScanStats()
        objects = iter_s3_objects(f"s3://{BUCKET}/", client=s3)
        return list(judge_files(objects, policy, workers=workers, stats=stats, today=TODAY)), stats.records

    return run


def download_only(s3: Any, policy: Policy) -> tuple[Output, int]:
    """The floor the stand-in sets: every object downloaded (as many in flight), nothing read."""
    for _ in iter_s3_objects(f"s3://{BUCKET}/", client=s3):
        pass
    return [], 0


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", nargs="?", type=Path, help="directory made by generate.py")
    parser.add_argument("--records", type=int, default=50_000, help="records to generate when no archive is given")
    parser.add_argument("--files", type=int, default=100, help="files to generate when no archive is given")
    parser.add_argument("--runs", type=int, default=3, help="timed rounds per method (median reported)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added before each GetObject (default 20)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sgwatch-bench-s3-") as tmp:
        root = args.archive
        if root is None:
            from generate import generate  # noqa: PLC0415

            root = Path(tmp)
            generate(root, records=args.records, files=args.files)
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        saved = dict(os.environ)
        os.environ.update(
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL=endpoint,
        )
        proc = start_moto(port)
        try:
            count, size = upload(client(0), root)
            return run(client(args.latency_ms / 1000), count, size, args)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            os.environ.clear()
            os.environ.update(saved)  # the other benchmarks see the environment as it was


def run(s3: Any, count: int, size: int, args: argparse.Namespace) -> dict[str, float]:
    policy = Policy()
    methods = [("one object at a time, every record parsed", one_at_a_time), ("now, 1 worker", now(1))]
    methods += [("now, 2 workers", now(2)), ("floor: downloads alone, as many in flight", download_only)]
    seconds: dict[str, list[float]] = {name: [] for name, _ in methods}
    reference: Output | None = None
    records = 0
    for round_ in range(args.runs):
        for name, method in methods if round_ % 2 == 0 else methods[::-1]:
            started = time.perf_counter()
            out, counted = method(s3, policy)
            seconds[name].append(time.perf_counter() - started)
            if method is download_only:
                continue
            records = counted
            reference = reference if reference is not None else out
            if out != reference:
                raise AssertionError(f"{name}: output differs")
    assert reference is not None
    judgements = sum(isinstance(r, Judgement) for r in reference)
    print(
        f"\nS3 archive: {count} objects, {size / 1e6:.0f} MB gzip, {records:,} records, {judgements} judgements "
        f"(same for every method); moto on 127.0.0.1, {args.latency_ms:.0f} ms added per GetObject; "
        f"{CONCURRENCY} downloads in flight; median of {args.runs} rounds; {os.cpu_count()} cores"
    )
    base = statistics.median(seconds[methods[0][0]])
    ratios = {}
    print(f"{'method':44s} {'seconds':>8s} {'records/s':>10s} {'vs before':>9s}")
    for name, _ in methods:
        median = statistics.median(seconds[name])
        ratios[name] = base / median
        print(f"{name:44s} {median:8.2f} {records / median:10,.0f} {base / median:8.1f}x")
    return ratios


if __name__ == "__main__":
    main()
