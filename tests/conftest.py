"""Fixtures shared by every test area: golden-file comparison (regenerate with ``make golden``), the
test-support modules (loaded by path with ``support_module``: the test folders are not packages) and the local
parts built on them under tests/support/: one moto server, HTTP sinks, the CLI runner, the test alerts and
their manual clock, the audit scenario.

A test module imports helpers from its own folder (``from .conftest import TODAY,
load_fixture``). An area conftest re-exports what it needs of a support module, loaded with
``from tests.conftest import support_module`` (pytest imports this file as ``tests.conftest``), e.g. the
CloudTrail fixture records and ``TODAY`` of tests/support/cloudtrail.py."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"


def load_module(path: Path, name: str) -> ModuleType:
    """The Python file at ``path`` as module ``name``, loaded once per session."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the file runs
        spec.loader.exec_module(module)
    return sys.modules[name]


def support_module(relative: str) -> ModuleType:
    """A test-support module by its path under tests/ (what the ``support`` fixture returns)."""
    return load_module(TESTS / relative, "sgwatch_test_" + Path(relative).with_suffix("").as_posix().replace("/", "_"))


@pytest.fixture(scope="session")
def support() -> Callable[[str], ModuleType]:
    """``support("unit/notify/alerts.py")``: a test-support module by its path under tests/."""
    return support_module


def json_text(value: Any) -> str:
    """How golden JSON is stored: sorted keys, two-space indent, UTF-8, a final newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check_golden(path: Path, text: str) -> None:
    """``text`` equals the file at ``path``; SGWATCH_REGEN_GOLDEN=1 writes it instead."""
    if os.environ.get("SGWATCH_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing: run `make golden` and review it")
    assert text == path.read_text(encoding="utf-8"), f"differs from {path} (make golden to update)"


@pytest.fixture(scope="session")
def golden_file() -> Callable[[Path, Any], None]:
    """``golden_file(path, value)``: strings are compared as they are, other values as golden JSON."""
    return lambda path, value: check_golden(path, value if isinstance(value, str) else json_text(value))


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """One moto server on a free port of 127.0.0.1 for the whole session (its state is shared: make unique
    names). Point clients at it with ``aws_environ`` or ``support("support/aws.py").client``."""
    with support_module("support/aws.py").moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def aws_environ(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, str | None]]:
    """``aws_environ(endpoint)``: the variables that point AWS clients at ``endpoint`` (None: moto in-process)
    with fake credentials, the region and no user configuration; a None value means "unset"."""
    home = tmp_path_factory.mktemp("aws-home")
    aws = support_module("support/aws.py")
    return lambda endpoint, region=aws.REGION: aws.environ(endpoint, home, region)


@pytest.fixture
def local_only_aws(monkeypatch: pytest.MonkeyPatch, aws_environ: Callable[..., dict[str, str | None]]) -> str:
    """AWS clients built in the test find fake credentials, no user configuration, the region ``aws.REGION``
    and, should they send anything, a closed port on 127.0.0.1 (one attempt). Returns that region."""
    aws = support_module("support/aws.py")
    aws.apply(monkeypatch, {**aws_environ("http://127.0.0.1:9"), "AWS_MAX_ATTEMPTS": "1"})
    return str(aws.REGION)


@pytest.fixture
def http_sink() -> Iterator[Callable[..., Any]]:
    """``http_sink(keep_alive=False)``: a started HTTP receiver on 127.0.0.1, stopped after the test."""
    module = support_module("support/http_sink.py")
    started: list[Any] = []

    def start(**options: Any) -> Any:
        started.append(module.HttpSink(**options))
        return started[-1]

    yield start
    for sink in started:
        sink.stop()


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """``free_port()``: a port of 127.0.0.1 nothing listens on."""
    port: Callable[[], int] = support_module("support/http_sink.py").free_port
    return port


@pytest.fixture(scope="session")
def cli() -> Any:
    """``cli("scan", ...)``: sgwatch in a subprocess (``python -m sgwatch``); ``cli.start(...)`` leaves it running."""
    return support_module("support/cli.py").Cli()


@pytest.fixture(scope="session")
def alerts() -> ModuleType:
    """The test alerts and builders of tests/unit/notify/alerts.py."""
    return support_module("unit/notify/alerts.py")


@pytest.fixture
def clock(alerts: ModuleType) -> Any:
    """A ``ManualClock`` of the test alerts: moves only when slept on, records every sleep."""
    return alerts.ManualClock()


@pytest.fixture(scope="session")
def sc() -> ModuleType:
    """The audit scenario of tests/unit/audit/scenario.py (judgements, deliveries, remediations)."""
    return support_module("unit/audit/scenario.py")
