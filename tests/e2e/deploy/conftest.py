"""Fixtures for the deploy end-to-end tests: the session's moto server, emptied before each test that asks for
``aws``, with the environment pointing every AWS client at it; a small package; short polling. The CLI runner
is the root ``cli`` fixture (it passes this process's environment on).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
from moto.cloudformation.models import Stack

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


def reset_moto(endpoint: str) -> None:
    """Empty every account of the moto server at ``endpoint`` (moto's reset API)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:  # 127.0.0.1 only
        assert answer.status == 200


@pytest.fixture
def aws(
    moto_url: str,
    aws_environ: Callable[..., dict[str, str | None]],
    support: Callable[[str], ModuleType],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """An empty moto account (these tests count the stacks, functions, queues and buckets there are), with the
    environment pointing every AWS client, and the CLI, at it.

    Only deploy tests reset the session's server. The other areas name their resources uniquely and keep none
    longer than a module (pytest ends a module's fixtures when the run leaves it), so no reset falls between
    two tests that share one.
    """
    reset_moto(moto_url)
    support("support/aws.py").apply(monkeypatch, aws_environ(moto_url, REGION))
    return moto_url


@pytest.fixture(scope="session")
def small_package(tmp_path_factory: pytest.TempPathFactory) -> PackageResult:
    """sgwatch's own source only (no dependencies): enough for moto, quick to build."""
    folder = tmp_path_factory.mktemp("package")
    requirements = folder / "none.txt"
    requirements.write_text("# no dependencies\n", encoding="utf-8")
    return build_package(folder / "sgwatch-lambda.zip", requirements=requirements)


@pytest.fixture
def fast() -> Timing:
    """Short polling for moto, which finishes every stack operation at once."""
    return FAST
