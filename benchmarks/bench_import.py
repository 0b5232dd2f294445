"""Cold-start benchmark: sgwatch's Lambda entry point vs Cloud Custodian's handler, in fresh interpreters.

    python benchmarks/bench_import.py             # sgwatch only; c7n's figure is the issue's reference
    python benchmarks/bench_import.py --with-c7n  # also installs c7n 0.9.53 into benchmarks/.venv-c7n

Two sgwatch figures: (a) ``import sgwatch.lambda_handler`` alone, the figure the issue compares with c7n's
``import c7n.handler``; (b) that import plus handling one EventBridge security-group event on the alert-only
path (console channel, ``enrich: false``, no AWS call): what a Lambda cold start really pays, since the
handler imports what it needs on first use. Each figure is the median of ``--runs`` fresh interpreters
timing only the import (and the call), interpreter start-up excluded, after one discarded warm-up run that
writes the bytecode caches.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVENT = HERE.parent / "tests" / "fixtures" / "envelopes" / "lambda" / "eventbridge.json"
COLD_CONFIG = "enrich: false\nnotify: [{type: console, min_severity: info}]\n"
WEBHOOK_CONFIG = "enrich: false\nnotify: [{{type: webhook, url: 'http://127.0.0.1:{port}/hook', min_severity: info}}]\n"
# Not in the Lambda package (lambda-requirements.txt): httpx imports its command line when they are installed.
CLI_ONLY = ("click", "rich", "pygments")
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
# (b): import the handler, then handle one event (its output captured); json is already loaded, as in the
# Lambda runtime, which parses the event before calling the handler.
COLD_PROBE = """
import contextlib, io, json, os, sys, time
for name in filter(None, os.environ.get("SGWATCH_BENCH_ABSENT", "").split(",")):
    sys.modules[name] = None  # as if not installed: importing it raises ImportError
with open(sys.argv[1], encoding="utf-8") as handle:
    event = json.load(handle)
start = time.perf_counter()
import sgwatch.lambda_handler
imported = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    summary = sgwatch.lambda_handler.handler(event, None)
elapsed = time.perf_counter() - start
assert summary["alerts"] == 1 and not summary["failures"], summary
print(json.dumps({"ms": elapsed * 1000, "import_ms": (imported - start) * 1000,
                  "boto3": "boto3" in sys.modules, "botocore": "botocore" in sys.modules}))
"""


def measure(
    python: Path | str,
    modules: tuple[str, ...],
    runs: int,
    *,
    probe: str = PROBE,
    env: dict[str, str] | None = None,
) -> tuple[float, dict[str, bool]]:
    """Median time in ms over fresh interpreters, and whether boto3/botocore got imported."""
    samples: list[float] = []
    flags: dict[str, bool] = {}
    for run in range(runs + 1):
        done = subprocess.run([str(python), "-c", probe, *modules], capture_output=True, text=True, check=True, env=env)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        flags = {"boto3": result["boto3"], "botocore": result["botocore"]}
        if run:  # the first run compiles bytecode
            samples.append(result["ms"])
    return statistics.median(samples), flags


def cold_start(
    runs: int, config_text: str = COLD_CONFIG, absent: tuple[str, ...] = ()
) -> tuple[float, dict[str, bool]]:
    """(b): import + one EventBridge event on the alert-only path, in fresh interpreters (median ms);
    ``absent`` modules are made unimportable, as in the Lambda package."""
    with tempfile.TemporaryDirectory(prefix="sgwatch-cold-") as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(config_text, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SGWATCH_"))}
        env.update(SGWATCH_CONFIG=str(config), AWS_REGION="eu-west-1", SGWATCH_LOG_LEVEL="INFO")
        env.update(SGWATCH_BENCH_ABSENT=",".join(absent), NO_PROXY="127.0.0.1")
        return measure(sys.executable, (str(EVENT),), runs, probe=COLD_PROBE, env=env)


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def webhook_cold_starts(runs: int) -> tuple[float, float]:
    """(c): (b) with a webhook channel posting to a receiver on 127.0.0.1: with click/rich importable (this
    environment) and without them (the Lambda package)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = WEBHOOK_CONFIG.format(port=server.server_address[1])
        here, _ = cold_start(runs, config)
        packaged, _ = cold_start(runs, config, CLI_ONLY)
    finally:
        server.shutdown()
        server.server_close()
    return here, packaged


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
    ours, flags = measure(sys.executable, ("sgwatch.lambda_handler",), args.runs)
    print(f"\nimport sgwatch.lambda_handler: {ours:.1f} ms (median of {args.runs} fresh interpreters)")
    print(f"  boto3 imported: {flags['boto3']}, botocore imported: {flags['botocore']}")
    cold, cold_flags = cold_start(args.runs)
    print(
        f"import + one EventBridge event (alert-only path, console channel, enrich: false): {cold:.1f} ms "
        f"(median of {args.runs}); boto3 imported: {cold_flags['boto3']}"
    )
    webhook_here, webhook_packaged = webhook_cold_starts(args.runs)
    print(
        f"the same with a webhook channel (a POST to 127.0.0.1): {webhook_here:.1f} ms with click/rich installed, "
        f"{webhook_packaged:.1f} ms without them, as in the Lambda package (median of {args.runs})"
    )
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
    print(
        f"import + one event / c7n import = {cold / theirs:.2f} (not a target: c7n's own first event is not "
        "measured, only its import)"
    )
    return {
        "sgwatch_ms": ours,
        "cold_ms": cold,
        "cold_webhook_ms": webhook_here,
        "cold_webhook_packaged_ms": webhook_packaged,
        "c7n_ms": theirs,
        "c7n_measured": float(measured),
        "fraction": fraction,
    }


if __name__ == "__main__":
    main()
