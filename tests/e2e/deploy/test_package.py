"""``sgwatch package``: a reproducible Lambda zip, built offline from a wheel folder made in the test."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from sgwatch.deploy.package import PackageResult, build_package, default_requirements
from sgwatch.errors import DeployError

pytestmark = pytest.mark.e2e

TINY_FILES = {
    "tinydep.py": "def main() -> None:\n    print('tiny')\n",
    "tinydep-1.2.3.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinydep\nVersion: 1.2.3\n",
    "tinydep-1.2.3.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: sgwatch-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    "tinydep-1.2.3.dist-info/entry_points.txt": "[console_scripts]\ntinydep = tinydep:main\n",
}


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one wheel, ``tinydep`` 1.2.3 with a console script, written by the test (no index)."""
    wheels = tmp_path_factory.mktemp("wheels")
    record = "tinydep-1.2.3.dist-info/RECORD"
    lines = [_record_line(name, text.encode()) for name, text in TINY_FILES.items()] + [f"{record},,"]
    with zipfile.ZipFile(wheels / "tinydep-1.2.3-py3-none-any.whl", "w") as wheel:
        for name, text in TINY_FILES.items():
            wheel.writestr(name, text)
        wheel.writestr(record, "\n".join(lines) + "\n")
    return wheels


@pytest.fixture
def requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("# the Lambda's pins, for this test\ntinydep==1.2.3\n", encoding="utf-8")
    return path


def names(result: PackageResult) -> list[str]:
    with zipfile.ZipFile(result.path) as archive:
        return archive.namelist()


def test_same_inputs_give_the_same_bytes(wheel_dir: Path, requirements: Path, tmp_path: Path) -> None:
    first = build_package(tmp_path / "a" / "lambda.zip", wheel_dir=wheel_dir, requirements=requirements)
    second = build_package(tmp_path / "b" / "lambda.zip", wheel_dir=wheel_dir, requirements=requirements)
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.files == len(names(first))
    assert first.size == first.path.stat().st_size


def test_zip_layout_is_normalised(wheel_dir: Path, requirements: Path, tmp_path: Path) -> None:
    result = build_package(tmp_path / "lambda.zip", wheel_dir=wheel_dir, requirements=requirements)
    with zipfile.ZipFile(result.path) as archive:
        infos = archive.infolist()
        entries = [i.filename for i in infos]
        assert entries == sorted(entries)
        assert len(set(entries)) == len(entries)
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED
        assert "tinydep.py" in entries
        assert "sgwatch/__init__.py" in entries
        assert "sgwatch/deploy/lambda-requirements.txt" in entries
        assert not [e for e in entries if "__pycache__" in e or e.endswith((".pyc", ".pyo"))]
        assert not [e for e in entries if e.startswith("bin/")], "console scripts carry this machine's paths"
        record = next(e for e in entries if e.startswith("tinydep-1.2.3.dist-info/") and e.endswith("RECORD"))
        assert "../" not in archive.read(record).decode()
        assert archive.read("tinydep.py").decode().startswith("def main()")


def test_changed_input_changes_the_hash(wheel_dir: Path, requirements: Path, tmp_path: Path) -> None:
    with_dep = build_package(tmp_path / "a.zip", wheel_dir=wheel_dir, requirements=requirements)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    without = build_package(tmp_path / "b.zip", wheel_dir=wheel_dir, requirements=empty)
    assert with_dep.sha256 != without.sha256
    assert "tinydep.py" not in names(without)


def test_pip_failure_is_a_deploy_error(wheel_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "requirements.txt"
    missing.write_text("tinydep==9.9.9\n", encoding="utf-8")
    with pytest.raises(DeployError, match=r"pip could not install the Lambda dependencies from .*wheels"):
        build_package(tmp_path / "lambda.zip", wheel_dir=wheel_dir, requirements=missing)
    assert not (tmp_path / "lambda.zip").exists()


def test_package_command(wheel_dir: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sgwatch.cli import cli

    # The real pins are not in the test's wheel folder: the command must fail cleanly, naming the file.
    result = CliRunner().invoke(cli, ["package", "--out", str(tmp_path / "x.zip"), "--wheel-dir", str(wheel_dir)])
    assert result.exit_code == 2
    assert str(default_requirements()) in result.stderr


@pytest.mark.skipif(
    os.environ.get("SGWATCH_TEST_PYPI") != "1", reason="resolves the real pins from the package index (opt-in)"
)
def test_real_pins_resolve_for_the_lambda_platform(tmp_path: Path) -> None:
    first = build_package(tmp_path / "a.zip")
    second = build_package(tmp_path / "b.zip")
    assert first.sha256 == second.sha256
    entries = names(first)
    assert any(e.startswith("yaml/_yaml.cpython-312-x86_64-linux-gnu") for e in entries)
    for top in ("click/", "rich/", "httpx/", "platformdirs/", "yaml/"):
        assert any(e.startswith(top) for e in entries), top
    assert not any(e.startswith(("boto3/", "botocore/")) for e in entries)
