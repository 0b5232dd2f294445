"""The core stays pure: no boto3, network or database imports in decode/normalize/policy/rendering."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sgwatch

PACKAGE = Path(sgwatch.__file__).parent
PURE = [
    "model.py",
    "errors.py",
    "serialize.py",
    "pipeline.py",
    "yamlsrc.py",
    "decode",
    "normalize",
    "policy",
    "sources/base.py",
    "sources/envelopes.py",
    "notify/render.py",
    "notify/render",
    "remediate/plan.py",
    "deploy/template.py",
]
FORBIDDEN = {
    "boto3",
    "botocore",
    "socket",
    "http",
    "httpx",
    "urllib.request",
    "sqlite3",
    "smtplib",
    "requests",
    "aiohttp",
}


def pure_files() -> list[Path]:
    files: list[Path] = []
    for entry in PURE:
        path = PACKAGE / entry
        if path.is_dir():
            files += sorted(path.rglob("*.py"))
        elif path.exists():
            files.append(path)
    return files


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_is_pure(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN}
    assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}: keep I/O at the edges"


def test_the_checker_catches_an_impure_module(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import json\nfrom botocore.exceptions import ClientError\n")
    assert "botocore.exceptions" in imported_modules(sample)
