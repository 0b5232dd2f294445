"""Terminal output shared by commands: jsonl rows, the Rich table, problem and summary lines."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

import click

from sgwatch.model import Judgement, Severity
from sgwatch.serialize import format_time, judgement_row, ports_text

if TYPE_CHECKING:
    from rich.table import Table

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def write_jsonl(judgement: Judgement, out: IO[str]) -> None:
    out.write(json.dumps(judgement_row(judgement), sort_keys=False, ensure_ascii=False) + "\n")


def short_actor(arn: str | None) -> str:
    """``arn:aws:sts::1:assumed-role/Admin/alice`` -> ``assumed-role/Admin/alice``."""
    if not arn:
        return ""
    return arn.split(":", 5)[-1] if arn.startswith("arn:") else arn


def change_text(judgement: Judgement) -> str:
    """``added ingress tcp/22`` / ``removed egress all`` / ``attached to eni-1`` (failed calls say so)."""
    c = judgement.change
    parts = [str(c.action)]
    if c.direction:
        parts.append(str(c.direction))
    if c.protocol is not None:
        parts.append(ports_text(c))
    if c.target:
        parts.append(f"on {c.target}")
    text = " ".join(parts)
    if c.outcome != "success":
        text += f" [failed: {c.error_code}]"
    return text


def judgement_table(judgements: Iterable[Judgement]) -> Table:
    from rich.table import Table  # noqa: PLC0415 - rich is only needed for terminal tables

    table = Table(header_style="bold")
    for column in ("time (UTC)", "severity", "change", "group", "peer", "actor", "findings"):
        table.add_column(column, overflow="fold")
    for j in judgements:
        c = j.change
        group = c.group_id or c.group_name or ""
        if c.rule_id:
            group += f" {c.rule_id}"
        findings = ", ".join(j.finding_ids) + (f" (allowed: {j.allowed_by})" if j.allowed_by else "")
        table.add_row(
            format_time(c.event_time).replace("T", " ").removesuffix("Z"),
            f"[{SEVERITY_STYLE[j.severity]}]{j.severity}[/]",
            change_text(j),
            group,
            c.peer or "",
            f"{short_actor(c.actor.arn)} ({c.account_id or '?'} {c.region or '?'})",
            findings,
        )
    return table


def print_table(judgements: list[Judgement]) -> None:
    from rich.console import Console  # noqa: PLC0415

    Console(width=None if sys.stdout.isatty() else 200).print(judgement_table(judgements))


@contextmanager
def log_to_stderr(logger_name: str, verbose: bool) -> Iterator[None]:
    """Structured log lines of ``logger_name`` on stderr with --verbose; silent otherwise (summaries are printed)."""
    logger = logging.getLogger(logger_name)
    handler: logging.Handler = logging.StreamHandler(sys.stderr) if verbose else logging.NullHandler()
    logger.addHandler(handler)
    previous = logger.level
    if verbose:
        logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def warn(message: str) -> None:
    click.echo(f"sgwatch: {message}", err=True)
