"""Fixtures for the audit end-to-end tests: a filled database on disk, the CLI, headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from sgwatch.audit.store import AuditStore

SGWATCH = Path(sys.executable).with_name("sgwatch")
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def sc(support: Callable[[str], ModuleType]) -> ModuleType:
    return support("unit/audit/scenario.py")


@pytest.fixture(scope="session")
def audit_db(tmp_path_factory: pytest.TempPathFactory, sc: ModuleType) -> Path:
    """A database file with the whole scenario (read-only for the tests that use it)."""
    path = tmp_path_factory.mktemp("audit") / "audit.sqlite"
    ticks = iter(range(100))

    def clock() -> datetime:
        return datetime(2024, 5, 20, 12, 0, tzinfo=UTC) + timedelta(minutes=next(ticks))

    with AuditStore.open(path, now=clock) as store:
        judgements = sc.scenario()
        store.record_judgements(judgements)
        store.record_deliveries(sc.deliveries())
        for change, remediation in sc.remediations(judgements):
            store.record_remediation(change, remediation)
    return path


@pytest.fixture(scope="session")
def run() -> Run:
    """Run the installed ``sgwatch`` console script; wide output so tables do not wrap."""
    if not SGWATCH.exists():
        pytest.skip(f"{SGWATCH} is not installed (pip install -e .)")

    def runner(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
        return subprocess.run(
            [str(SGWATCH), *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
        )

    return runner


def _install_chromium() -> str | None:
    """Install Debian's chromium when missing and we are root; None (with the reason printed) when impossible."""
    if os.geteuid() != 0:
        return "chromium is not installed and installing it needs root"
    if shutil.which("apt-get") is None:
        return "chromium is not installed and apt-get is not available"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env, check=False)
        except subprocess.TimeoutExpired:
            return f"{' '.join(command)} timed out"
        if result.returncode != 0:
            return f"{' '.join(command)} failed: {result.stderr.strip()[-300:]}"
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        reason = _install_chromium()
        found = shutil.which("chromium")
        if found is None:
            pytest.skip(reason or "chromium could not be installed")
    return found


@pytest.fixture
def browse(chromium: str, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run headless Chromium on a local file with networking features off."""

    def runner(page: Path, *flags: str, width: int = 1200, height: int = 1600) -> subprocess.CompletedProcess[str]:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            f"--window-size={width},{height}",
            *flags,
            page.resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    return runner
