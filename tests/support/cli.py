"""The sgwatch CLI as a user runs it: ``python -m sgwatch`` in a subprocess, output captured as text.

Test-support module (the ``cli`` fixture is a ``Cli``). Output is made independent of the terminal the tests
run in: 200 columns, no colour, a dumb terminal, and stdin is /dev/null unless input is given.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

COMMAND = (sys.executable, "-m", "sgwatch")
TERMINAL = {"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}


def environment(env: Mapping[str, str | None] | None) -> dict[str, str]:
    """This process's environment with the fixed terminal and ``env`` on top (None removes a variable)."""
    merged: dict[str, str | None] = {**os.environ, **TERMINAL, **(env or {})}
    return {name: value for name, value in merged.items() if value is not None}


class Cli:
    """``cli("scan", path, "--format", "jsonl")`` runs ``sgwatch scan ...`` and returns the finished process."""

    command = COMMAND

    def __call__(
        self,
        *args: str,
        stdin: str | bytes | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMMAND, *args],
            input=stdin.decode() if isinstance(stdin, bytes) else stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment(env),
            check=False,
        )

    def start(self, *args: str, env: Mapping[str, str | None] | None = None) -> subprocess.Popen[str]:
        """``sgwatch ARGS`` left running (stdout and stderr piped): for long-running commands and signals."""
        return subprocess.Popen(
            [*COMMAND, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(env),
        )
