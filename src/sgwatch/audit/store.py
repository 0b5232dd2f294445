"""The SQLite audit store: append-only history of judged changes, deliveries and remediations.

Writes are idempotent by (event_id, rule_key): replaying the same CloudTrail records adds nothing.
Times are stored as fixed-width ISO 8601 UTC text, so text order is time order. Changes are read by event
time, then in the order they were recorded (the row id: the tables are append-only, so ids only grow, and a
re-recorded change keeps its first row): CloudTrail times have one-second resolution.

Reads check that every finding row names the change it is linked to (its ``event_id`` and ``rule_key``),
so a finding is never shown against another change; ``row_json`` is handed out as recorded.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import groupby
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sgwatch.audit.db import Database
from sgwatch.audit.query import HistoryFilter, matches
from sgwatch.audit.rows import (
    RecordedChange,
    RecordedDelivery,
    RecordedRemediation,
    change_columns,
    finding_from_row,
    judgement_from_row,
    parse_stored_time,
    plan_json,
    store_time,
)
from sgwatch.audit.state import RuleSet, chronological, replay
from sgwatch.errors import StoreError
from sgwatch.model import (
    Delivery,
    DeliveryStatus,
    Finding,
    Judgement,
    Remediation,
    RemediationStatus,
    RuleChange,
)

_EXECUTED = (RemediationStatus.REVERTED, RemediationStatus.RESTORED, RemediationStatus.ALREADY_REVERTED)
_BATCH = 500


def _recorded_change(record: RecordedChange) -> RuleChange:
    return record.judgement.change


def default_db_path() -> Path:
    """``audit.sqlite`` in the user's data folder (``~/.local/share/sgwatch`` on Linux)."""
    import platformdirs  # noqa: PLC0415 - keep start-up light

    return Path(platformdirs.user_data_dir("sgwatch")) / "audit.sqlite"


class AuditStore:
    """One open audit database. Use :meth:`open`; close it, or use it as a context manager."""

    __slots__ = ("db",)

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def open(cls, path: Path, *, now: Callable[[], datetime] | None = None) -> AuditStore:
        """Open (creating folders and the file if needed) and migrate; StoreError names the path on failure.

        ``now`` stamps ``recorded_at`` and ``at`` columns (UTC now by default).
        """
        return cls(Database.open(path, now))

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- writes -------------------------------------------------------------------------------

    def record_judgements(self, judgements: Iterable[Judgement]) -> int:
        """Record judged changes (and their findings); return how many were new."""
        recorded_at = self.db.now()
        added = 0
        with self.db.guard("record changes"), self.db.transaction():
            for judgement in judgements:
                columns = change_columns(judgement, recorded_at)
                names = ", ".join(columns)
                marks = ", ".join(f":{name}" for name in columns)
                sql = f"INSERT OR IGNORE INTO changes ({names}) VALUES ({marks})"
                cursor = self.db.execute(sql, columns)
                if cursor.rowcount != 1:
                    continue
                added += 1
                change = judgement.change
                self.db.executemany(
                    "INSERT INTO findings (change_id, event_id, rule_key, position, finding_id, title,"
                    " severity, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (cursor.lastrowid, change.event_id, change.rule_key, position, f.finding_id, f.title,
                         str(f.severity), f.reason)
                        for position, f in enumerate(judgement.findings)
                    ],
                )  # fmt: skip
        return added

    def record_deliveries(self, deliveries: Iterable[Delivery]) -> None:
        """Record the final outcome of each delivery (one row per channel and alert)."""
        at = store_time(self.db.now())
        rows = [(d.channel, d.alert_id, str(d.status), d.attempts, d.detail, at) for d in deliveries]
        with self.db.guard("record deliveries"), self.db.transaction():
            self.db.executemany(
                "INSERT INTO deliveries (channel, alert_id, status, attempts, detail, at) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def record_remediation(self, change: RuleChange, remediation: Remediation) -> None:
        """Record what remediation did (or planned, in a dry run) for one change."""
        plan = remediation.plan
        row = (
            change.event_id,
            change.rule_key,
            change.group_id or (plan.group_id if plan else None),
            str(remediation.status),
            int(remediation.dry_run),
            remediation.detail,
            plan_json(plan),
            store_time(self.db.now()),
        )
        with self.db.guard("record a remediation"), self.db.transaction():
            self.db.execute(
                "INSERT INTO remediations (event_id, rule_key, group_id, status, dry_run, detail, plan, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    # --- reads --------------------------------------------------------------------------------

    def executed_remediation(self, event_id: str, rule_key: str) -> bool:
        """True when this change was already reverted or restored for real (dry-run plans never count)."""
        marks = ", ".join("?" for _ in _EXECUTED)
        with self.db.guard("read remediations"):
            row = self.db.execute(
                f"SELECT 1 FROM remediations WHERE event_id = ? AND rule_key = ? AND dry_run = 0"
                f" AND status IN ({marks}) LIMIT 1",
                (event_id, rule_key, *(str(s) for s in _EXECUTED)),
            ).fetchone()
        return row is not None

    def _records(self, where: str, params: Sequence[Any]) -> Iterator[RecordedChange]:
        """Rows in the order they happened: by event time, then as :func:`chronological` orders one time's rows
        (the event recorded first, then the rule order), from rows read in recorded order within one time."""
        rows = self._rows(f"SELECT * FROM changes {where} ORDER BY event_time, id", params)
        for _, same_time in groupby(rows, key=lambda r: r.judgement.change.event_time):
            yield from chronological(same_time, _recorded_change)

    def _rows(self, sql: str, params: Sequence[Any]) -> Iterator[RecordedChange]:
        with self.db.guard("read changes"):
            cursor = self.db.execute(sql, params)
            while batch := cursor.fetchmany(_BATCH):
                findings = self._findings(batch)
                for row in batch:
                    yield RecordedChange(
                        judgement=judgement_from_row(dict(row), findings.get(row["id"], ())),
                        row_json=str(row["row_json"]),
                    )

    def _findings(self, changes: Sequence[sqlite3.Row]) -> dict[int, tuple[Finding, ...]]:
        """The findings of these ``changes`` rows by change id, each checked to name its change."""
        keys = {row["id"]: (row["event_id"], row["rule_key"]) for row in changes}
        marks = ", ".join("?" for _ in keys)
        found: dict[int, list[Finding]] = {}
        rows = self.db.execute(
            f"SELECT * FROM findings WHERE change_id IN ({marks}) ORDER BY change_id, position", tuple(keys)
        )
        for row in rows:
            change_id = row["change_id"]
            if (row["event_id"], row["rule_key"]) != keys[change_id]:
                event_id, rule_key = keys[change_id]
                raise StoreError(
                    f"{self.path}: finding row {row['id']} ({row['finding_id']}) is linked to the change of event "
                    f"{event_id} rule {rule_key} but names event {row['event_id']} rule {row['rule_key']}; "
                    "the audit tables were changed outside sgwatch: restore the file from a backup"
                )
            found.setdefault(change_id, []).append(finding_from_row(row))
        return {key: tuple(value) for key, value in found.items()}

    def records(self, filters: HistoryFilter) -> Iterator[RecordedChange]:
        """Recorded changes matching ``filters``, oldest first (in recorded order within one event time), each
        with the JSON line recorded with it."""
        clauses: list[str] = []
        params: list[Any] = []
        if filters.group_id is not None:
            clauses.append("group_id = ?")
            params.append(filters.group_id)
        if filters.since is not None:
            clauses.append("event_time >= ?")
            params.append(store_time(filters.since))
        if filters.until is not None:
            clauses.append("event_time < ?")
            params.append(store_time(filters.until))
        if filters.min_severity is not None:
            clauses.append("severity_rank >= ?")
            params.append(int(filters.min_severity))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return (r for r in self._records(where, params) if matches(r.judgement, filters))

    def query(self, filters: HistoryFilter) -> Iterator[Judgement]:
        """Recorded judged changes matching ``filters``, oldest first."""
        return (r.judgement for r in self.records(filters))

    def _group_judgements(self, group_id: str, at: datetime | None, inclusive: bool) -> list[Judgement]:
        if at is None:
            return [r.judgement for r in self._records("WHERE group_id = ?", (group_id,))]
        op = "<=" if inclusive else "<"
        return [
            r.judgement for r in self._records(f"WHERE group_id = ? AND event_time {op} ?", (group_id, store_time(at)))
        ]

    def group_state(self, group_id: str, at: datetime | None = None) -> tuple[Judgement, ...]:
        """The group's reconstructed rules at ``at`` (latest when None), each with its defining judgement."""
        return replay(self._group_judgements(group_id, at, inclusive=True)).states.get(group_id, ())

    def rule_before(
        self, group_id: str, rule_id: str, before: datetime, *, event_id: str | None = None
    ) -> RuleChange | None:
        """The rule's last known definition before ``before``, from the recorded changes.

        CloudTrail times are to the second: with ``event_id`` (the change being judged), the changes of that
        same second recorded before that event count too (all of them when it is not recorded yet).
        """
        judgements = self._group_judgements(group_id, before, inclusive=event_id is not None)  # as they happened
        if event_id is not None:
            ids = [judgement.change.event_id for judgement in judgements]
            judgements = judgements[: ids.index(event_id)] if event_id in ids else judgements
        rule_set = RuleSet()
        for judgement in judgements:
            rule_set.apply(judgement.change)
        return rule_set.find(rule_id)

    def group_ids(self) -> tuple[str, ...]:
        """Every group id with recorded changes, sorted."""
        with self.db.guard("read changes"):
            rows = self.db.execute(
                "SELECT DISTINCT group_id FROM changes WHERE group_id IS NOT NULL ORDER BY group_id"
            ).fetchall()
        return tuple(str(row[0]) for row in rows)

    def deliveries(self, since: datetime | None = None, until: datetime | None = None) -> tuple[RecordedDelivery, ...]:
        """Recorded delivery outcomes in [since, until), oldest first."""
        rows = self._window("deliveries", since, until)
        return tuple(
            RecordedDelivery(
                delivery=Delivery(
                    channel=row["channel"],
                    alert_id=row["alert_id"],
                    status=DeliveryStatus(row["status"]),
                    attempts=row["attempts"],
                    detail=row["detail"],
                ),
                at=parse_stored_time(row["at"]),
            )
            for row in rows
        )

    def remediations(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> tuple[RecordedRemediation, ...]:
        """Recorded remediation outcomes in [since, until), oldest first."""
        rows = self._window("remediations", since, until)
        return tuple(
            RecordedRemediation(
                event_id=row["event_id"],
                rule_key=row["rule_key"],
                group_id=row["group_id"],
                status=RemediationStatus(row["status"]),
                dry_run=bool(row["dry_run"]),
                detail=row["detail"],
                plan=None if row["plan"] is None else json.loads(row["plan"]),
                at=parse_stored_time(row["at"]),
            )
            for row in rows
        )

    def _window(self, table: str, since: datetime | None, until: datetime | None) -> list[sqlite3.Row]:
        clauses, params = [], []
        if since is not None:
            clauses.append("at >= ?")
            params.append(store_time(since))
        if until is not None:
            clauses.append("at < ?")
            params.append(store_time(until))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self.db.guard(f"read {table}"):
            return self.db.execute(f"SELECT * FROM {table} {where} ORDER BY at, id", params).fetchall()
