"""Cold start: packages load their heavy parts on first use, and every public name stays importable (what
importing the Lambda handler loads is checked in tests/unit/test_purity.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import ModuleType

import pytest

import sgwatch.runtime
import sgwatch.sources
from sgwatch.runtime import app, batch, clients, logs
from sgwatch.sources import files


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_reading_the_catalog_does_not_import_importlib_resources() -> None:
    modules = loaded_after("from sgwatch.policy import load_catalog; assert load_catalog()")
    assert "yaml" in modules
    assert "importlib.resources" not in modules
    assert "tempfile" not in modules


@pytest.mark.parametrize(
    ("package", "name", "home"),
    [
        (sgwatch.runtime, "App", app),
        (sgwatch.runtime, "build_app", app),
        (sgwatch.runtime, "BatchResult", batch),
        (sgwatch.runtime, "process_batch", batch),
        (sgwatch.runtime, "AwsClients", clients),
        (sgwatch.runtime, "configure_logging", logs),
        (sgwatch.runtime, "log_event", logs),
        (sgwatch.sources, "read_paths", files),
        (sgwatch.sources, "read_source", files),
    ],
)
def test_lazy_names_are_the_submodules_objects(package: object, name: str, home: object) -> None:
    assert getattr(package, name) is getattr(home, name)
    assert name in dir(package)
    assert name in package.__all__  # type: ignore[attr-defined]


def test_every_listed_name_resolves_in_a_fresh_interpreter() -> None:
    code = (
        "import sgwatch.runtime as r, sgwatch.sources as s\n"
        "missing = [n for m in (r, s) for n in m.__all__ if getattr(m, n, None) is None]\n"
        "assert not missing, missing\n"
        "from sgwatch.runtime import App, build_app, process_batch\n"
        "from sgwatch.sources import read_paths, read_source, unwrap"
    )
    assert "sgwatch.runtime.batch" in loaded_after(code)


@pytest.mark.parametrize("package", [sgwatch.runtime, sgwatch.sources])
def test_unknown_names_still_raise_attribute_error(package: ModuleType) -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = package.nope
    with pytest.raises(ImportError):
        exec(f"from {package.__name__} import nope", {})
