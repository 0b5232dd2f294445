"""Everything a user can type or see is documented: every command, every finding id."""

from __future__ import annotations

import re

import pytest

from sgwatch.cli import COMMANDS, cli
from sgwatch.policy import load_catalog

from .conftest import TESTS

README = (TESTS.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_is_in_the_readme(command: str) -> None:
    assert re.search(rf"`sgwatch {command}\b", README), f"README does not document `sgwatch {command}`"


@pytest.mark.parametrize("finding_id", sorted(load_catalog()))
def test_finding_is_in_the_readme(finding_id: str) -> None:
    assert f"`{finding_id}`" in README


def test_readme_names_the_contract_commands() -> None:
    assert "make demo" in README
    assert "make test" in README


def test_every_finding_has_text() -> None:
    for entry in load_catalog().values():
        assert entry.title
        assert len(entry.description) > 20
        assert entry.finding_id == entry.finding_id.upper()


def test_every_command_has_help() -> None:
    import click

    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        assert command.help, f"sgwatch {name} has no help text"
