"""The pure core stays pure, heavy libraries load lazily, and importing the light entry points pulls in no
I/O or heavy library.

One banned list (``BANNED``) holds for every pure module (``PURE``); where a package legitimately needs one
of those names, ``ALLOWED`` says so, with the reason. A banned name covers its submodules (``http`` bans
``http.client``), and imports inside functions count too: a pure module does no I/O at all.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest

import sgwatch

PACKAGE = Path(sgwatch.__file__).parent

# The pure core: decode, normalize, policy, rendering, template and plan building, and the pure halves of
# the other stages (paths under src/sgwatch; a folder means every module in it).
PURE = (
    "model.py",
    "errors.py",
    "serialize.py",
    "ruletext.py",
    "pipeline.py",
    "yamlsrc.py",
    "decode",
    "normalize",
    "policy",
    "sources/base.py",
    "sources/envelopes.py",
    "enrich/facts.py",
    "enrich/merge.py",
    "enrich/port.py",
    "enrich/enricher.py",
    "notify/render",
    "notify/routing.py",
    "notify/retry.py",
    "notify/ratelimit.py",
    "notify/outcome.py",
    "notify/ledger.py",
    "notify/fields.py",
    "notify/config.py",
    "notify/tuning.py",
    "notify/sample.py",
    "remediate/plan.py",
    "remediate/config.py",
    "remediate/port.py",
    "runtime/checkpoint.py",
    "runtime/snapshots.py",
    "audit/chart.py",
    "audit/describe.py",
    "audit/migrations.py",
    "audit/query.py",
    "audit/render.py",
    "audit/report.py",
    "audit/rows.py",
    "audit/state.py",
    "deploy/alarms.py",
    "deploy/cfn.py",
    "deploy/grantplan.py",
    "deploy/grants.py",
    "deploy/health.py",
    "deploy/iam.py",
    "deploy/org.py",
    "deploy/pipeline.py",
    "deploy/template.py",
    "deploy/trail.py",
)

# Network, AWS, database, mail and process modules: none of them in a pure module.
BANNED = (
    "aiohttp",
    "boto3",
    "botocore",
    "http",
    "httpcore",
    "httpx",
    "requests",
    "smtplib",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "urllib",
    "urllib3",
)

# (package, module) -> why that package's pure modules may import it.
ALLOWED: dict[tuple[str, str], str] = {
    ("sgwatch.notify", "urllib.parse"): "config.py checks channel URLs: string parsing, no network",
    ("sgwatch.sources", "urllib.parse"): "envelopes.py unquotes the object keys of S3 notifications",
}

# Never imported at module level anywhere in sgwatch (the Lambda cold start and the CLI start-up are measured).
LAZY = ("boto3", "botocore", "httpx", "jinja2", "platformdirs", "rich")

# Fresh interpreter: importing these modules loads none of the listed ones.
HANDLER_HEAVY = ("boto3", "botocore", "httpx", "isal", "msgspec", "rich", "sqlite3", "yaml", "logging")
LIGHT_IMPORTS = {
    "lambda handler": (
        ("sgwatch.lambda_handler",),
        (*HANDLER_HEAVY, "sgwatch.pipeline", "sgwatch.policy", "sgwatch.runtime.app", "sgwatch.sources.files"),
    ),
    "notify": (
        ("sgwatch.notify", "sgwatch.notify.delivery", "sgwatch.cli.notify"),
        ("boto3", "botocore", "httpx", "smtplib", "sqlite3"),
    ),
    "dynamodb ledger": (("sgwatch.notify.dynamodb_ledger",), ("boto3", "botocore")),
    "audit report and history": (
        ("sgwatch.audit.render", "sgwatch.audit.state", "sgwatch.audit.query"),
        ("platformdirs", "rich", "sqlite3"),
    ),
}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    """``sgwatch.notify.config`` for ``<root>/notify/config.py`` (``root`` is the sgwatch folder)."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def run_at_import(tree: ast.Module) -> Iterator[ast.AST]:
    """The nodes that run when the module is imported: all but function bodies and ``if TYPE_CHECKING:``."""
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def imports(path: Path, root: Path = PACKAGE, *, top_level_only: bool = False) -> set[str]:
    """The absolute names ``path`` imports (``top_level_only``: when imported, not later in a function):
    ``from a.b import c`` counts as ``a.b.c`` (c may be a submodule), relative imports are resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = run_at_import(tree) if top_level_only else ast.walk(tree)
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = importlib.util.resolve_name("." * node.level + module, package)
            names |= {module if alias.name == "*" else f"{module}.{alias.name}" for alias in node.names}
    return names


def matches(name: str, listed: Collection[str]) -> bool:
    """``name`` is one of ``listed`` or a submodule (or attribute) of one."""
    return any(name == item or name.startswith(item + ".") for item in listed)


def banned_imports(path: Path, root: Path = PACKAGE) -> list[str]:
    """The banned names ``path`` imports, less what its package is allowed."""
    package = module_name(path, root).rpartition(".")[0]
    allowed = {module for (owner, module) in ALLOWED if matches(package, (owner,))}
    return sorted(name for name in imports(path, root) if matches(name, BANNED) and not matches(name, allowed))


def pure_files() -> list[Path]:
    files: list[Path] = []
    for entry in PURE:
        path = PACKAGE / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def packages() -> list[Path]:
    """sgwatch's top-level modules and each subpackage: the units of the package-wide checks."""
    return [PACKAGE, *sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").exists())]


def package_files(package: Path) -> list[Path]:
    return sorted(package.glob("*.py")) if package == PACKAGE else sorted(package.rglob("*.py"))


def test_the_pure_table_names_existing_modules() -> None:
    assert [entry for entry in PURE if not (PACKAGE / entry).exists()] == []


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_pure_module_imports_nothing_banned(path: Path) -> None:
    bad = banned_imports(path)
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}: keep I/O at the edges (adapters)"


@pytest.mark.parametrize("package", packages(), ids=lambda p: p.name)
def test_heavy_libraries_are_imported_inside_functions(package: Path) -> None:
    eager = {
        path.relative_to(PACKAGE).as_posix(): sorted(n for n in imports(path, top_level_only=True) if matches(n, LAZY))
        for path in package_files(package)
    }
    assert {path: names for path, names in eager.items() if names} == {}


@pytest.mark.parametrize("package", [p for p in packages() if p.name != "cli"], ids=lambda p: p.name)
def test_stages_do_not_import_the_cli(package: Path) -> None:
    entry_point = PACKAGE / "__main__.py"  # ``python -m sgwatch`` runs the CLI: its one legitimate importer
    found = {
        path.relative_to(PACKAGE).as_posix(): sorted(n for n in imports(path) if matches(n, ("sgwatch.cli",)))
        for path in package_files(package)
        if path != entry_point
    }
    assert {path: names for path, names in found.items() if names} == {}


@pytest.mark.parametrize(("modules", "heavy"), LIGHT_IMPORTS.values(), ids=list(LIGHT_IMPORTS))
def test_importing_loads_no_heavy_module(modules: tuple[str, ...], heavy: tuple[str, ...]) -> None:
    code = f"import json, sys\nimport {', '.join(modules)}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert sorted(name for name in json.loads(out) if matches(name, heavy)) == []


SAMPLE = """\
import json
import socket as s
from http import client
from urllib.parse import quote
from urllib import parse
from . import render
from .. import errors


def send():
    import boto3.session
    from botocore.exceptions import ClientError
    from sqlite3 import connect
"""
FOUND_EVERYWHERE = ["boto3.session", "botocore.exceptions.ClientError", "http.client", "socket", "sqlite3.connect"]


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("audit/bad.py", sorted([*FOUND_EVERYWHERE, "urllib.parse", "urllib.parse.quote"])),
        ("notify/bad.py", FOUND_EVERYWHERE),  # the notify allowance lets urllib.parse through
    ],
)
def test_the_checker_finds_every_banned_import(tmp_path: Path, relative: str, expected: list[str]) -> None:
    """At module and function level, through ``import`` and ``from``, with or without an alias."""
    root = tmp_path / "sgwatch"
    sample = root / relative
    sample.parent.mkdir(parents=True)
    sample.write_text(SAMPLE, encoding="utf-8")
    assert banned_imports(sample, root) == expected
    package = f"sgwatch.{sample.parent.name}"
    assert {f"{package}.render", "sgwatch.errors"} <= imports(sample, root)  # relative imports resolved
    assert matches("sgwatch.cli.main", ("sgwatch.cli",))
    assert not matches("sgwatch.client", ("sgwatch.cli",))


def test_import_time_means_what_runs_on_import(tmp_path: Path) -> None:
    """Guarded and class-level imports run on import; function bodies and ``if TYPE_CHECKING:`` do not."""
    sample = tmp_path / "sgwatch" / "stage" / "mod.py"
    sample.parent.mkdir(parents=True)
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "try:\n    import rich\nexcept ImportError:\n    rich = None\n"
        "if TYPE_CHECKING:\n    import boto3\nelse:\n    import httpx\n"
        "class C:\n    import jinja2\n    def f(self):\n        import botocore\n",
        encoding="utf-8",
    )
    eager = imports(sample, tmp_path / "sgwatch", top_level_only=True)
    assert {"rich", "httpx", "jinja2"} <= eager
    assert not {"boto3", "botocore"} & eager
