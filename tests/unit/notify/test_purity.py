"""Rendering and routing stay pure, and importing the package pulls in no network library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import sgwatch.notify

PACKAGE = Path(sgwatch.notify.__file__).parent
PURE = [
    *sorted((PACKAGE / "render").glob("*.py")),
    *(
        PACKAGE / f"{name}.py"
        for name in ("routing", "retry", "ratelimit", "outcome", "ledger", "fields", "config", "tuning", "sample")
    ),
]
FORBIDDEN = ("boto3", "botocore", "httpx", "socket", "smtplib", "ssl", "sqlite3", "http", "urllib.request")


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_pure_modules_import_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert not any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN), f"{path}: {name}"


def test_import_is_light() -> None:
    code = (
        "import sys, json, sgwatch.notify, sgwatch.notify.delivery, sgwatch.cli.notify;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'boto3', 'botocore', 'smtplib', 'sqlite3'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
