"""``make bench``: generate a CloudTrail archive in a temporary directory, run the benchmarks, print a summary.

python benchmarks/run_all.py                       # 200,000 records in 400 files, 5 rounds
python benchmarks/run_all.py --records 50000 --runs 5 --with-c7n
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_import
import bench_replay
import bench_s3
from generate import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000, help="records in the archive (default 200000)")
    parser.add_argument("--files", type=int, default=400, help="log files in the archive (default 400)")
    parser.add_argument("--runs", type=int, default=5, help="timed rounds per replay method (median reported)")
    parser.add_argument("--import-runs", type=int, default=15, help="fresh interpreters per import figure")
    parser.add_argument("--with-c7n", action="store_true", help="install c7n into benchmarks/.venv-c7n and measure it")
    parser.add_argument("--s3-records", type=int, default=50_000, help="records in the S3 archive (default 50000)")
    parser.add_argument("--s3-files", type=int, default=25, help="objects in the S3 archive (default 25)")
    parser.add_argument("--keep", type=Path, help="write the archive here and keep it (default: a temporary dir)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sgwatch-bench-") as tmp:
        root = args.keep or Path(tmp)
        started = time.perf_counter()
        archive = generate(root, records=args.records, files=args.files)
        print(
            f"generated {len(archive.files)} files, {archive.records:,} records "
            f"({archive.sg_records} security-group changes) in {time.perf_counter() - started:.0f} s"
        )
        ratios = bench_replay.main([str(root), "--runs", str(args.runs)])
    s3_ratios = bench_s3.main(["--records", str(args.s3_records), "--files", str(args.s3_files), "--runs", "3"])
    imports = bench_import.main(["--runs", str(args.import_runs), *(["--with-c7n"] if args.with_c7n else [])])
    print("\nsummary")
    for line in bench_replay.targets(ratios):
        print(f"  {line}")
    for name, ratio in s3_ratios.items():
        if name.startswith("now"):
            print(f"  S3 archive, {name}: {ratio:.1f}x the one-object-at-a-time read")
    measured = "measured" if imports["c7n_measured"] else "reference, not measured"
    print(
        f"  cold import: sgwatch {imports['sgwatch_ms']:.0f} ms vs c7n {imports['c7n_ms']:.0f} ms ({measured}) "
        f"= {imports['fraction']:.2f} (target <= {bench_import.TARGET_FRACTION})"
    )
    print(
        f"  cold start, import + one EventBridge event on the alert path: {imports['cold_ms']:.0f} ms "
        f"= {imports['cold_ms'] / imports['c7n_ms']:.2f} of c7n's import alone"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
