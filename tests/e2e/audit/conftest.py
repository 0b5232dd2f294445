"""Fixtures for the audit end-to-end tests: a filled database on disk, the CLI, headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from sgwatch.audit.store import AuditStore

Run = Callable[..., subprocess.CompletedProcess[str]]


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
def run(cli: Run) -> Run:
    """The CLI runner (the root ``cli`` fixture: a subprocess, 200 columns, no colour)."""
    return cli


CHROMIUM = ("chromium", "chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium binary on PATH; the browser tests are skipped when there is none (tests never install it)."""
    for name in CHROMIUM:
        found = shutil.which(name)
        if found is not None:
            return found
    pytest.skip(
        f"Chromium is not installed (none of {', '.join(CHROMIUM)} on PATH): install it with the system package"
        " manager (Debian: apt-get install chromium) to run the report's browser checks"
    )


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
