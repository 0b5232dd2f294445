"""``sgwatch explain`` and ``sgwatch policy check``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from sgwatch.policy import get_entry, load_catalog, load_policy


@click.command()
@click.argument("finding_id", required=False)
@click.option("--list", "list_all", is_flag=True, help="List every finding id with its default severity.")
def explain(finding_id: str | None, list_all: bool) -> None:
    """Explain a finding id: title, default severity and what it means."""
    if list_all or finding_id is None:
        for entry in sorted(load_catalog().values(), key=lambda e: (-e.severity, e.finding_id)):
            click.echo(f"{entry.finding_id:<34} {entry.severity!s:<8} {entry.title}")
        return
    entry = get_entry(finding_id.strip().upper())
    click.echo(f"{entry.finding_id}: {entry.title}")
    click.echo(f"default severity: {entry.severity}")
    click.echo()
    click.echo(click.wrap_text(entry.description, width=100))


@click.group()
def policy() -> None:
    """Work with policy files."""


@policy.command("check")
@click.argument("path", type=click.Path(path_type=Path))
def check(path: Path) -> None:
    """Validate a policy file; report the first error with file, line and key, and expired entries."""
    loaded = load_policy(path)
    for line in loaded.expired_entries(dt.datetime.now(dt.UTC).date()):
        click.echo(f"warning: {line}", err=True)
    click.echo(
        f"{path}: ok ({len(loaded.severities)} severity overrides, {len(loaded.admin_ports)} admin ports, "
        f"{len(loaded.allowlist)} allowlist entries, {len(loaded.suppressions)} suppressions)"
    )
