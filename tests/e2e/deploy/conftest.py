"""Fixtures for the deploy end-to-end tests: a moto server on 127.0.0.1, fake credentials, a small package."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from moto.cloudformation.models import Stack
from moto.server import ThreadedMotoServer

from sgwatch.deploy.deployer import Timing
from sgwatch.deploy.package import PackageResult, build_package

FAST = Timing(poll_seconds=0.05, timeout_seconds=30)
REGION = "us-east-1"


def _joined(value: object) -> object:
    return ",".join(map(str, value)) if isinstance(value, list) else value


@pytest.fixture(scope="session", autouse=True)
def list_parameters_as_cloudformation_reports_them() -> Iterator[None]:
    """moto hands a CommaDelimitedList parameter back as a Python list: describe_stacks shows its repr, and an
    update with UsePreviousValue fails splitting it (HTTP 500). CloudFormation gives the comma-joined text."""
    stack_parameters = Stack.stack_parameters.fget
    parameter_list = Stack.parameter_list.fget
    assert stack_parameters is not None
    assert parameter_list is not None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            Stack, "stack_parameters", property(lambda s: {k: _joined(v) for k, v in stack_parameters(s).items()})
        )
        patch.setattr(
            Stack,
            "parameter_list",
            property(lambda s: [{**p, "ParameterValue": _joined(p["ParameterValue"])} for p in parameter_list(s)]),
        )
        yield


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the session, on a free port of 127.0.0.1."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A clean moto account, with the environment pointing every AWS client at it."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:  # 127.0.0.1 only
        assert answer.status == 200
    for name in (
        "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    return moto_endpoint


@pytest.fixture(scope="session")
def small_package(tmp_path_factory: pytest.TempPathFactory) -> PackageResult:
    """sgwatch's own source only (no dependencies): enough for moto, quick to build."""
    folder = tmp_path_factory.mktemp("package")
    requirements = folder / "none.txt"
    requirements.write_text("# no dependencies\n", encoding="utf-8")
    return build_package(folder / "sgwatch-lambda.zip", requirements=requirements)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``sgwatch ARGS`` in a subprocess with the current environment (pointed at moto by ``aws``)."""
    code = "from sgwatch.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        check=False,
    )


Cli = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def cli() -> Cli:
    """The CLI runner (a function: ``cli("deploy", "--stack-name", ...)``)."""
    return run_cli


@pytest.fixture
def fast() -> Timing:
    """Short polling for moto, which finishes every stack operation at once."""
    return FAST
