"""The Lambda alert path stays light: no boto3 at import; the pure modules import no I/O libraries."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "sgwatch"
PURE = [
    "enrich/facts.py", "enrich/merge.py", "enrich/port.py", "enrich/enricher.py",
    "remediate/plan.py", "remediate/config.py", "remediate/port.py",
    "runtime/checkpoint.py", "runtime/snapshots.py",
]  # fmt: skip
FORBIDDEN = ("boto3", "botocore", "socket", "http", "httpx", "urllib.request", "sqlite3", "requests")
HEAVY = ("boto3", "botocore", "httpx", "rich", "sqlite3")


def test_importing_the_handler_loads_no_heavy_module() -> None:
    code = (
        "import json, sys; import sgwatch.lambda_handler; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_pure_modules_import_no_io_library() -> None:
    for name in PURE:
        tree = ast.parse((SRC / name).read_text(), name)
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            for module in modules:
                assert not module.startswith(FORBIDDEN), f"{name} imports {module}"
