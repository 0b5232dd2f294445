"""History output: JSON lines and CSV with exactly the ``scan --format jsonl`` keys, or a rich table."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC
from typing import TextIO

from sgwatch.audit.describe import actor_name, rule_text
from sgwatch.model import Judgement, RuleChange
from sgwatch.serialize import ROW_KEYS, judgement_row

BeforeLookup = Callable[[RuleChange], RuleChange | None]


def write_jsonl(judgements: Iterable[Judgement], stream: TextIO) -> int:
    count = 0
    for judgement in judgements:
        stream.write(json.dumps(judgement_row(judgement), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(judgements: Iterable[Judgement], stream: TextIO) -> int:
    """CSV with a header of ROW_KEYS; finding ids joined by spaces, nulls as empty cells."""
    writer = csv.DictWriter(stream, fieldnames=ROW_KEYS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for judgement in judgements:
        row = judgement_row(judgement)
        row["findings"] = " ".join(row["findings"])
        writer.writerow(row)
        count += 1
    return count


def _table_rows(judgements: Iterable[Judgement], before: BeforeLookup | None, state: bool) -> Iterator[tuple[str, ...]]:
    for judgement in judgements:
        change = judgement.change
        what = rule_text(change) if state else f"{change.action}: {rule_text(change)}"
        previous = before(change) if before is not None else None
        if previous is not None:
            after = change if change.direction else replace(change, direction=previous.direction)
            what = f"{change.action}: {rule_text(previous)} -> {rule_text(after)}"
        if change.description:
            what += f" “{change.description}”"
        if change.error_code:
            what += f" (failed: {change.error_code})"
        yield (
            change.event_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            str(judgement.severity),
            actor_name(change.actor.arn),
            change.group_id or "-",
            what,
            " ".join(judgement.finding_ids) or "-",
        )


def write_table(
    judgements: Iterable[Judgement],
    stream: TextIO,
    title: str,
    before: BeforeLookup | None = None,
    state: bool = False,
) -> int:
    """A rich table (time, severity, actor, group, change, findings); returns the row count.

    With ``state``, rows are a group's current rules: the change column shows just the rule.
    """
    from rich.console import Console  # noqa: PLC0415 - rich is heavy; only the table needs it
    from rich.table import Table  # noqa: PLC0415

    styles = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
    table = Table(title=title, show_lines=False, expand=False)
    columns = ("Defined (UTC)", "Severity", "Defined by", "Group", "Rule", "Findings") if state else (
        "Time (UTC)", "Severity", "Actor", "Group", "Change", "Findings"
    )  # fmt: skip
    for name in columns:
        table.add_column(name, overflow="fold")
    count = 0
    for row in _table_rows(judgements, before, state):
        table.add_row(*row[:1], f"[{styles[row[1]]}]{row[1]}[/]", *row[2:])
        count += 1
    Console(file=stream, soft_wrap=False, width=None if stream.isatty() else 200).print(table)
    return count
