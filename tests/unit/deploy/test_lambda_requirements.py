"""The Lambda lock file: exact pins, no boto3, and closed over sgwatch's runtime dependencies."""

from __future__ import annotations

import importlib.metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from sgwatch.deploy.package import default_requirements

# The Lambda runtime: CPython 3.12 on Amazon Linux (x86_64).
LAMBDA_ENV = {
    **default_environment(),
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "extra": "",
}


def pins() -> dict[str, Requirement]:
    out = {}
    for raw in default_requirements().read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            req = Requirement(line)
            out[canonicalize_name(req.name)] = req
    return out


def runtime_requirements(dist: str, extras: tuple[str, ...] = ()) -> list[Requirement]:
    reqs = [Requirement(text) for text in importlib.metadata.requires(dist) or []]
    return [
        r for r in reqs if r.marker is None or any(r.marker.evaluate({**LAMBDA_ENV, "extra": e}) for e in ("", *extras))
    ]


def test_every_line_is_an_exact_pin() -> None:
    locked = pins()
    assert locked
    for name, req in locked.items():
        specs = list(req.specifier)
        assert [s.operator for s in specs] == ["=="], f"{name}: not an exact pin: {req}"
        assert (req.extras, req.marker, req.url) == (set(), None, None), f"{name}: keep pins plain"


def test_boto3_is_left_to_the_lambda_runtime() -> None:
    assert not {"boto3", "botocore", "s3transfer", "jmespath"} & set(pins())


CLI_ONLY = frozenset({"click", "rich"})  # the command line's; the function never imports them (test below)


def test_pins_cover_the_functions_dependencies_transitively() -> None:
    locked = pins()
    todo = [canonicalize_name(r.name) for r in runtime_requirements("sgwatch", extras=("fast",))]
    assert {"click", "pyyaml", "rich", "httpx", "platformdirs", "isal", "msgspec"} <= set(todo)
    todo = [name for name in todo if name not in CLI_ONLY]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        assert name in locked, f"{name} is needed at run time but not pinned in lambda-requirements.txt"
        todo += [canonicalize_name(r.name) for r in runtime_requirements(name)]
    assert set(locked) == seen, f"pinned but unused: {sorted(set(locked) - seen)}"


def test_the_function_never_imports_click_or_rich() -> None:
    """What the Lambda package leaves out: no module the handler can load imports them, even lazily."""
    from tests.unit.deploy.test_iam_actions import _references, _trees, function_modules

    users = {
        f"{module}: {name}"
        for module in function_modules()
        for name in _references(_trees()[module])
        if name.split(".")[0] in CLI_ONLY
    }
    assert "sgwatch.sources.s3" in function_modules()  # the scan reaches the modules that used to draw progress
    assert users == set()
