"""Cold-start benchmark: import time of sgwatch's Lambda entry point vs Cloud Custodian's handler.

    python benchmarks/bench_import.py             # sgwatch only; c7n's figure is the issue's reference
    python benchmarks/bench_import.py --with-c7n  # also installs c7n 0.9.53 into benchmarks/.venv-c7n

Each figure is the median of ``--runs`` fresh interpreters timing only the ``import`` statement (interpreter
start-up excluded), after one discarded warm-up run that writes the bytecode caches.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
C7N_VENV = HERE / ".venv-c7n"
C7N_VERSION = "0.9.53"
C7N_REFERENCE_MS = 300.0  # the figure for `import c7n.handler` on this kind of machine
TARGET_FRACTION = 0.25
PROBE = """
import json, sys, time
start = time.perf_counter()
for name in sys.argv[1:]:
    __import__(name)
elapsed = time.perf_counter() - start
print(json.dumps({"ms": elapsed * 1000, "boto3": "boto3" in sys.modules, "botocore": "botocore" in sys.modules}))
"""


def sgwatch_entry() -> tuple[tuple[str, ...], str]:
    """The Lambda handler module when it exists, else the modules its alert path needs (and say so)."""
    if importlib.util.find_spec("sgwatch.lambda_handler") is not None:
        return ("sgwatch.lambda_handler",), "sgwatch.lambda_handler"
    return ("sgwatch.pipeline", "sgwatch.sources"), "sgwatch.pipeline + sgwatch.sources (no sgwatch.lambda_handler yet)"


def measure(python: Path | str, modules: tuple[str, ...], runs: int) -> tuple[float, dict[str, bool]]:
    """Median import time in ms over fresh interpreters, and whether boto3/botocore got imported."""
    samples: list[float] = []
    flags: dict[str, bool] = {}
    for run in range(runs + 1):
        done = subprocess.run([str(python), "-c", PROBE, *modules], capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        flags = {"boto3": result["boto3"], "botocore": result["botocore"]}
        if run:  # the first run compiles bytecode
            samples.append(result["ms"])
    return statistics.median(samples), flags


def c7n_python(install: bool) -> Path | None:
    """The c7n virtualenv's interpreter; created (pip install c7n==0.9.53) only when asked."""
    python = C7N_VENV / "bin" / "python"
    if python.exists():
        return python
    if not install:
        return None
    subprocess.run([sys.executable, "-m", "venv", str(C7N_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"c7n=={C7N_VERSION}"], check=True)
    return python


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per figure (median reported)")
    parser.add_argument(
        "--with-c7n",
        action="store_true",
        help=f"create {C7N_VENV.name}/ with c7n {C7N_VERSION} (large download) and measure it",
    )
    args = parser.parse_args(argv)
    modules, label = sgwatch_entry()
    ours, flags = measure(sys.executable, modules, args.runs)
    print(f"\nimport {label}: {ours:.1f} ms (median of {args.runs} fresh interpreters)")
    print(f"  boto3 imported: {flags['boto3']}, botocore imported: {flags['botocore']}")
    python = c7n_python(args.with_c7n)
    if python is not None:
        theirs, _ = measure(python, ("c7n.handler",), args.runs)
        measured = True
        print(f"import c7n.handler (c7n {C7N_VERSION}): {theirs:.1f} ms (median of {args.runs})")
    else:
        theirs, measured = C7N_REFERENCE_MS, False
        print(f"import c7n.handler: not measured (reference ~{C7N_REFERENCE_MS:.0f} ms; run with --with-c7n)")
    fraction = ours / theirs
    verdict = "met" if fraction <= TARGET_FRACTION and not flags["boto3"] else "NOT MET"
    source = "measured" if measured else "reference, not measured"
    print(f"sgwatch / c7n = {fraction:.2f} (target <= {TARGET_FRACTION}, no boto3 at import; c7n {source}): {verdict}")
    return {"sgwatch_ms": ours, "c7n_ms": theirs, "c7n_measured": float(measured), "fraction": fraction}


if __name__ == "__main__":
    main()
