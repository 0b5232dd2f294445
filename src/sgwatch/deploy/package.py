"""Build the Lambda package: sgwatch's own source plus its pinned dependencies, as a reproducible zip.

Reproducible means the same inputs give the same bytes (and so the same sha256, which names the S3 key):
entries are sorted, every timestamp is 1980-01-01, permissions are fixed, byte code and console scripts
are left out, and ``RECORD`` lines pointing outside the package (those scripts) are dropped.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sgwatch.deploy.pipeline import LAMBDA_PYTHON
from sgwatch.errors import DeployError

PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = LAMBDA_PYTHON  # wheels for the runtime the stack declares
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
REQUIREMENTS_FILE = "lambda-requirements.txt"


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageResult:
    """The written zip, its sha256 (hex) and how many files it holds."""

    path: Path
    sha256: str
    files: int
    size: int


def _skipped(rel: Path) -> bool:
    parts = rel.parts
    return "__pycache__" in parts or rel.suffix in {".pyc", ".pyo"} or any(part.startswith(".") for part in parts)


def _walk(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            rel = path.relative_to(root)
            if not _skipped(rel) and path.is_file():
                yield f"{prefix}{rel.as_posix()}", path


def _has_requirements(requirements: Path) -> bool:
    try:
        lines = requirements.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DeployError(f"{requirements}: cannot read the requirements file: {exc.strerror or exc}") from exc
    return any(line.strip() and not line.lstrip().startswith("#") for line in lines)


def pip_command(target: Path, requirements: Path, wheel_dir: Path | None) -> list[str]:
    """The pip invocation that installs the Lambda's dependencies for the Lambda platform into ``target``."""
    cmd = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(target),
        "--platform", PLATFORM, "--only-binary=:all:",
        "--python-version", PYTHON_VERSION, "--implementation", "cp",
        "-r", str(requirements),
    ]  # fmt: skip
    if wheel_dir is not None:
        cmd += ["--no-index", "--find-links", str(wheel_dir)]
    return cmd


def _install(target: Path, requirements: Path, wheel_dir: Path | None) -> None:
    if not _has_requirements(requirements):
        return
    if wheel_dir is not None and not wheel_dir.is_dir():
        raise DeployError(f"--wheel-dir {wheel_dir}: not a directory")
    proc = subprocess.run(pip_command(target, requirements, wheel_dir), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        where = f"from {wheel_dir}" if wheel_dir is not None else "from the package index"
        raise DeployError(
            f"{requirements}: pip could not install the Lambda dependencies {where} "
            f"(exit {proc.returncode}); check the pins and your index access:\n{tail}"
        )


def _content(arcname: str, path: Path) -> bytes:
    data = path.read_bytes()
    if arcname.endswith(".dist-info/RECORD"):
        # Console scripts are not shipped; their lines (../../bin/...) carry this machine's interpreter path.
        kept = [line for line in data.decode("utf-8").splitlines() if not line.startswith("../")]
        data = ("\n".join(kept) + "\n").encode("utf-8")
    return data


def _sources() -> Path:
    root = importlib.resources.files("sgwatch")
    path = Path(str(root))
    if not (path / "__init__.py").is_file():
        raise DeployError(f"cannot find sgwatch's source files at {path}: install sgwatch from a source tree or wheel")
    return path


def write_zip(out: Path, entries: dict[str, Path]) -> None:
    """Write ``entries`` (archive name -> file) as a deterministic zip at ``out`` (atomically)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so external_attr carries the mode
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _content(arcname, entries[arcname]), compresslevel=9)
    partial.replace(out)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_requirements() -> Path:
    """The pinned requirements shipped with sgwatch (``sgwatch/deploy/lambda-requirements.txt``)."""
    return Path(str(importlib.resources.files("sgwatch.deploy").joinpath(REQUIREMENTS_FILE)))


def build_package(out: Path, *, wheel_dir: Path | None = None, requirements: Path | None = None) -> PackageResult:
    """Build the Lambda zip at ``out``: sgwatch's source plus the pinned dependencies for Python 3.12 on Linux.

    With ``wheel_dir`` pip installs only from that folder (offline); ``requirements`` replaces the pinned file.
    """
    requirements = requirements or default_requirements()
    entries: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="sgwatch-package-") as tmp:
        target = Path(tmp)
        _install(target, requirements, wheel_dir)
        for arcname, path in _walk(target, ""):
            if not arcname.startswith(("bin/", "sgwatch/")):
                entries[arcname] = path
        for arcname, path in _walk(_sources(), "sgwatch/"):
            entries[arcname] = path
        try:
            write_zip(out, entries)
        except OSError as exc:
            raise DeployError(f"{out}: cannot write the package: {exc.strerror or exc}") from exc
    return PackageResult(path=out, sha256=file_sha256(out), files=len(entries), size=out.stat().st_size)
