"""The pure audit modules import no I/O module; heavy imports stay inside functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

AUDIT = Path(__file__).parents[3] / "src" / "sgwatch" / "audit"
PURE = ("chart", "describe", "migrations", "query", "render", "report", "rows", "state")
IO_MODULES = {"sqlite3", "socket", "http", "urllib", "ssl", "boto3", "botocore", "httpx", "requests"}
LAZY_ONLY = {"rich", "platformdirs", "jinja2"}


def imported(tree: ast.AST, top_level_only: bool) -> set[str]:
    nodes = tree.body if top_level_only and isinstance(tree, ast.Module) else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_io(module: str) -> None:
    tree = ast.parse((AUDIT / f"{module}.py").read_text(encoding="utf-8"))
    assert not imported(tree, top_level_only=False) & IO_MODULES


@pytest.mark.parametrize("path", sorted(AUDIT.glob("*.py")), ids=lambda p: p.name)
def test_the_audit_stage_does_not_import_the_cli(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {m for m in modules if m == "sgwatch.cli" or m.startswith("sgwatch.cli.")}


@pytest.mark.parametrize("path", sorted(AUDIT.glob("*.py")), ids=lambda p: p.name)
def test_heavy_imports_are_lazy(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not imported(tree, top_level_only=True) & LAZY_ONLY


def test_importing_the_report_renderer_loads_no_sqlite() -> None:
    code = (
        "import sys, sgwatch.audit.render, sgwatch.audit.state, sgwatch.audit.query;"
        "bad = {'sqlite3', 'rich', 'platformdirs'} & set(sys.modules); print(sorted(bad)); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
