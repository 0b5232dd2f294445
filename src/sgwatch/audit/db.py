"""The SQLite connection under the audit store: open, migrate, transactions, error translation."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sgwatch.audit.migrations import MIGRATIONS, SCHEMA_VERSION
from sgwatch.errors import StoreError


def utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    """One connection in autocommit mode; writes go through :meth:`transaction`."""

    __slots__ = ("_conn", "now", "path")

    def __init__(self, conn: sqlite3.Connection, path: Path, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self.path = path
        self.now = now

    @classmethod
    def open(cls, path: Path, now: Callable[[], datetime] | None = None) -> Database:
        """Open (creating folders and the file if needed) and migrate to the current schema."""
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{path}: cannot create the folder {path.parent} ({exc.strerror}); pass --db with a writable path"
            ) from exc
        try:
            conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the audit database ({exc}); pass --db with a writable path") from exc
        db = cls(conn, path, now or utcnow)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            db.migrate()
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(
                f"{path}: not a usable sgwatch audit database ({exc}); pass --db with another path"
            ) from exc
        except StoreError:
            conn.close()
            raise
        return db

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Apply every pending migration, each in its own transaction (safe against a concurrent opener)."""
        if self.schema_version == SCHEMA_VERSION:
            return  # up to date: take no write lock, so a read-only copy of the file can be queried
        while True:
            with self.transaction():
                version = self.schema_version
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: schema version {version} was written by a newer sgwatch "
                        f"(this one knows up to {SCHEMA_VERSION}); upgrade sgwatch to read it"
                    )
                if version == SCHEMA_VERSION:
                    return
                for statement in MIGRATIONS[version]:
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {version + 1}")

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Translate SQLite errors into StoreError naming the database and what was being done."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot {doing}: {exc}") from exc

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        return self._conn.executemany(sql, rows)
