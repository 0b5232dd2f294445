"""Terminal output shared by commands: JSON lines, CSV, the Rich tables, problem and summary lines."""

from __future__ import annotations

import csv
import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC
from typing import IO, TYPE_CHECKING, Any

import click

from sgwatch.audit.describe import actor_name
from sgwatch.audit.rows import row_line
from sgwatch.model import Judgement, RuleChange, Severity
from sgwatch.ruletext import action_text, failure_text, peer_text, ports_text, rule_text
from sgwatch.serialize import ROW_KEYS, format_time, judgement_row

if TYPE_CHECKING:
    from rich.table import Table

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

BeforeLookup = Callable[[RuleChange], RuleChange | None]


def write_jsonl(judgement: Judgement, out: IO[str]) -> None:
    """One ``scan --format jsonl`` line (the text the audit store keeps as ``row_json``)."""
    out.write(row_line(judgement_row(judgement)) + "\n")


def write_lines(lines: Iterable[str], out: IO[str]) -> int:
    """JSON lines as they are (``history`` prints recorded rows as judged); returns the count."""
    count = 0
    for line in lines:
        out.write(line + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    """CSV with a header of ROW_KEYS; finding ids joined by spaces, nulls as empty cells; returns the count.

    A recorded row with other keys (another sgwatch version's) fills the columns it has; jsonl keeps all of it.
    """
    writer = csv.DictWriter(out, fieldnames=ROW_KEYS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({**row, "findings": " ".join(row.get("findings") or ())})
        count += 1
    return count


def change_text(judgement: Judgement) -> str:
    """``added ingress tcp/22`` / ``removed egress all traffic`` / ``removed ingress rule sgr-0abc`` (a rule
    named by id only) / ``attached to eni-1``, then a failed call's ``(the call failed: UnauthorizedOperation)``.

    The rule's protocol and ports and the failure read as in findings and alerts (``ruletext``); peer and group
    have their columns.
    """
    c = judgement.change
    parts = [action_text(c)]
    if c.direction:
        parts.append(str(c.direction))
    if c.protocol is not None:
        parts.append(ports_text(c))
    elif c.rule_id:
        parts.append(f"rule {c.rule_id}")
    if c.target:
        parts.append(f"to {c.target}")
    failure = failure_text(c)
    if failure:
        parts.append(failure)
    return " ".join(parts)


def _add_row(table: Table, cells: Iterable[str | Severity]) -> None:
    """Cells as plain text, never markup (recorded names and descriptions may hold ``[/...]``); severities styled."""
    from rich.text import Text  # noqa: PLC0415 - rich is only needed for terminal tables

    table.add_row(
        *(Text(str(cell), style=SEVERITY_STYLE[cell]) if isinstance(cell, Severity) else Text(cell) for cell in cells)
    )


def judgement_table(judgements: Iterable[Judgement]) -> Table:
    from rich.table import Table  # noqa: PLC0415 - rich is only needed for terminal tables

    table = Table(header_style="bold")
    for column in ("time (UTC)", "severity", "change", "group", "peer", "actor", "findings"):
        table.add_column(column, overflow="fold")
    for j in judgements:
        c = j.change
        group = c.group_id or c.group_name or ""
        if c.rule_id and c.protocol is not None:  # a rule named by id only has it in the change column
            group += f" {c.rule_id}"
        findings = ", ".join(j.finding_ids) + (f" (allowed: {j.allowed_by})" if j.allowed_by else "")
        _add_row(
            table,
            [
                format_time(c.event_time).replace("T", " ").removesuffix("Z"),
                j.severity,
                change_text(j),
                group,
                peer_text(c),
                f"{actor_name(c.actor.arn)} ({c.account_id or '?'} {c.region or '?'})",
                findings,
            ],
        )
    return table


def print_table(judgements: list[Judgement]) -> None:
    from rich.console import Console  # noqa: PLC0415

    Console(width=None if sys.stdout.isatty() else 200).print(judgement_table(judgements))


def _history_rows(
    judgements: Iterable[Judgement], before: BeforeLookup | None, state: bool
) -> Iterator[list[str | Severity]]:
    for judgement in judgements:
        change = judgement.change
        what = rule_text(change) if state else f"{action_text(change)}: {rule_text(change)}"
        previous = before(change) if before is not None else None
        if previous is not None:
            after = change if change.direction else replace(change, direction=previous.direction)
            what = f"{action_text(change)}: {rule_text(previous)} -> {rule_text(after)}"
        if change.description:
            what += f" “{change.description}”"
        failure = failure_text(change)
        if failure:
            what += f" {failure}"
        yield [
            change.event_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            judgement.severity,
            actor_name(change.actor.arn),
            change.group_id or "-",
            what,
            " ".join(judgement.finding_ids) or "-",
        ]


def write_history_table(
    judgements: Iterable[Judgement],
    out: IO[str],
    title: str,
    before: BeforeLookup | None = None,
    state: bool = False,
) -> int:
    """``history``'s table (time, severity, actor, group, change, findings); returns the row count.

    ``before`` gives a modified rule's previous definition. With ``state``, rows are a group's current
    rules: the change column shows just the rule.
    """
    from rich.console import Console  # noqa: PLC0415 - rich is only needed for terminal tables
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    table = Table(title=Text(title), show_lines=False, expand=False)
    columns = ("Defined (UTC)", "Severity", "Defined by", "Group", "Rule", "Findings") if state else (
        "Time (UTC)", "Severity", "Actor", "Group", "Change", "Findings"
    )  # fmt: skip
    for name in columns:
        table.add_column(name, overflow="fold")
    count = 0
    for cells in _history_rows(judgements, before, state):
        _add_row(table, cells)
        count += 1
    Console(file=out, soft_wrap=False, width=None if out.isatty() else 200).print(table)
    return count


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
