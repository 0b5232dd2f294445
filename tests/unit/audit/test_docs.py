"""The README documents every option of `history` and `report`; every option has a help text."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from sgwatch.cli import COMMANDS, cli
from sgwatch.cli.audit import history, report

DOC = Path(__file__).parents[3] / "README.md"


@pytest.mark.parametrize("command", [history, report], ids=lambda c: c.name)
def test_every_option_is_documented_and_has_help(command: click.Command) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"sgwatch {command.name}" in text
    for param in command.params:
        assert isinstance(param, click.Option)
        assert param.help, f"{command.name} {param.opts[0]} has no help text"
        if param.name != "help":
            assert any(opt in text for opt in param.opts), f"{param.opts[0]} is not in {DOC.name}"
    assert command.help


def test_commands_are_wired_in_the_cli_group() -> None:
    assert COMMANDS["history"] == "sgwatch.cli.audit:history"
    assert COMMANDS["report"] == "sgwatch.cli.audit:report"
    ctx = click.Context(cli)
    assert cli.get_command(ctx, "history") is history
    assert cli.get_command(ctx, "report") is report
