"""Generate a seeded, realistic CloudTrail archive: gzip ``{"Records": [...]}`` files in the AWSLogs key layout.

    python benchmarks/generate.py --records 200000 --files 400 --out /tmp/trail

The same seed and sizes give the same bytes. About 0.5% of the records are security-group changes (every shape
sgwatch decodes); the rest is ordinary traffic from many services, with adversarial records that mention
security-group event names in other places.
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import REGIONS, Faker, encode, sg_change, start_time, traffic


@dataclass(frozen=True, slots=True, kw_only=True)
class Archive:
    """What was written."""

    root: Path
    files: tuple[Path, ...]
    records: int
    sg_records: int
    raw_bytes: int  # uncompressed JSON
    gz_bytes: int


def split_sizes(rng: random.Random, records: int, files: int) -> list[int]:
    """Records per file: uneven like real trails (busy and quiet accounts), at least one each, summing exactly."""
    files = max(1, min(files, records))
    weights = [rng.lognormvariate(0, 0.8) for _ in range(files)]
    total = sum(weights)
    sizes = [max(1, int(records * w / total)) for w in weights]
    while sum(sizes) > records:
        sizes[sizes.index(max(sizes))] -= 1
    for i in range(records - sum(sizes)):
        sizes[i % files] += 1
    return sizes


def file_bytes(f: Faker, account: str, region: str, count: int, sg_rate: float) -> tuple[bytes, int]:
    """One CloudTrail log file's JSON (minified, as S3 receives it) and how many SG changes it holds."""
    when = start_time(f)
    texts = []
    sg = 0
    for _ in range(count):
        moment = when + timedelta(seconds=f.rng.randrange(300))
        if f.rng.random() < sg_rate:
            record = sg_change(f, account, region, moment)
            sg += 1
        else:
            record = traffic(f, account, region, moment)
        texts.append(encode(f, record))
    return ('{"Records":[' + ",".join(texts) + "]}").encode(), sg


def generate(out: Path, *, records: int, files: int, seed: int = 7, sg_rate: float = 0.005) -> Archive:
    rng = random.Random(seed)
    f = Faker(rng)
    org = f"o-{f.hex(10)}"
    written: list[Path] = []
    raw = gz = sg_total = 0
    for number, count in enumerate(split_sizes(rng, records, files)):
        account, region = rng.choice(f.accounts), rng.choice(REGIONS)
        data, sg = file_bytes(f, account, region, count, sg_rate)
        stamp = start_time(f)
        key = (
            f"AWSLogs/{org}/{account}/CloudTrail/{region}/{stamp:%Y/%m/%d}/"
            f"{account}_CloudTrail_{region}_{stamp:%Y%m%dT%H%MZ}_{f.upper(12)}{number:04d}.json.gz"
        )
        path = out / key
        path.parent.mkdir(parents=True, exist_ok=True)
        packed = gzip.compress(data, compresslevel=6, mtime=0)
        path.write_bytes(packed)
        written.append(path)
        raw += len(data)
        gz += len(packed)
        sg_total += sg
    return Archive(root=out, files=tuple(written), records=records, sg_records=sg_total, raw_bytes=raw, gz_bytes=gz)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000, help="total records (default 200000)")
    parser.add_argument("--files", type=int, default=400, help="number of log files (default 400)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--sg-rate", type=float, default=0.005, help="share of security-group changes (default 0.005)")
    parser.add_argument("--out", type=Path, required=True, help="output directory (the AWSLogs/ tree goes inside)")
    args = parser.parse_args(argv)
    archive = generate(args.out, records=args.records, files=args.files, seed=args.seed, sg_rate=args.sg_rate)
    print(
        f"{len(archive.files)} files, {archive.records} records ({archive.sg_records} security-group changes), "
        f"{archive.raw_bytes / 1e6:.1f} MB JSON ({archive.raw_bytes / archive.records:.0f} B/record), "
        f"{archive.gz_bytes / 1e6:.1f} MB gzip, in {archive.root}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
