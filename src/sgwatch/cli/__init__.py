"""The ``sgwatch`` command: a thin click group whose subcommands load on first use (fast start-up)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from sgwatch import __version__
from sgwatch.errors import SgwatchError

# command name -> "module:attribute"; each module holds thin commands over importable functions.
COMMANDS: dict[str, str] = {
    "scan": "sgwatch.cli.scan:scan",
    "explain": "sgwatch.cli.policy:explain",
    "policy": "sgwatch.cli.policy:policy",
    "notify": "sgwatch.cli.notify:notify",
    "history": "sgwatch.cli.audit:history",
    "report": "sgwatch.cli.audit:report",
    "watch": "sgwatch.cli.watch:watch",
    "template": "sgwatch.cli.deploy:template",
    "package": "sgwatch.cli.deploy:package",
    "deploy": "sgwatch.cli.deploy:deploy",
    "doctor": "sgwatch.cli.deploy:doctor",
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs or is listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SgwatchError as exc:
            click.echo(f"sgwatch: error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sgwatch")
def cli() -> None:
    """Watch AWS security groups: exact rule-level alerts from CloudTrail."""


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="sgwatch")
