"""Numbered schema migrations for the audit store; ``PRAGMA user_version`` holds the applied number.

A migration, once released, never changes: add a new one instead. Migration ``n`` (1-based) takes a
database at version ``n - 1`` to version ``n``. Every table is append-only; version 2 enforces that
with triggers.
"""

from __future__ import annotations

from collections.abc import Sequence

_V1: tuple[str, ...] = (
    """
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL,
        rule_key TEXT NOT NULL,
        event_name TEXT NOT NULL,
        event_time TEXT NOT NULL,
        account_id TEXT,
        region TEXT,
        actor TEXT,
        actor_type TEXT,
        source_ip TEXT,
        user_agent TEXT,
        outcome TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT,
        group_id TEXT,
        group_name TEXT,
        vpc_id TEXT,
        direction TEXT,
        action TEXT NOT NULL,
        protocol TEXT,
        from_port INTEGER,
        to_port INTEGER,
        peer TEXT,
        peer_kind TEXT,
        peer_account_id TEXT,
        rule_id TEXT,
        description TEXT,
        target TEXT,
        rule_index INTEGER NOT NULL DEFAULT 0,
        severity TEXT NOT NULL,
        severity_rank INTEGER NOT NULL,
        findings TEXT NOT NULL,
        allowed_by TEXT,
        suppressed INTEGER NOT NULL DEFAULT 0,
        row_json TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT '',
        UNIQUE (event_id, rule_key)
    )
    """,
    """
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        change_id INTEGER NOT NULL REFERENCES changes (id),
        event_id TEXT NOT NULL,
        rule_key TEXT NOT NULL,
        position INTEGER NOT NULL,
        finding_id TEXT NOT NULL,
        title TEXT NOT NULL,
        severity TEXT NOT NULL,
        reason TEXT NOT NULL,
        UNIQUE (change_id, position)
    )
    """,
    """
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        channel TEXT NOT NULL,
        alert_id TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        detail TEXT NOT NULL,
        at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE remediations (
        id INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL,
        rule_key TEXT NOT NULL,
        group_id TEXT,
        status TEXT NOT NULL,
        dry_run INTEGER NOT NULL,
        detail TEXT NOT NULL,
        plan TEXT,
        at TEXT NOT NULL
    )
    """,
)

_APPEND_ONLY_TABLES = ("changes", "findings", "deliveries", "remediations", "sent_alerts")


def _append_only(table: str) -> tuple[str, ...]:
    return tuple(
        f"""
        CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
        BEGIN SELECT RAISE(ABORT, 'the audit table {table} is append-only'); END
        """
        for verb in ("UPDATE", "DELETE")
    )


_V2: tuple[str, ...] = (
    """
    CREATE TABLE sent_alerts (
        channel TEXT NOT NULL,
        alert_id TEXT NOT NULL,
        rule_key TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (channel, alert_id, rule_key)
    )
    """,
    "CREATE INDEX changes_by_time ON changes (event_time)",
    "CREATE INDEX changes_by_group ON changes (group_id, event_time)",
    "CREATE INDEX findings_by_change ON findings (change_id)",
    "CREATE INDEX remediations_by_change ON remediations (event_id, rule_key)",
    "CREATE INDEX deliveries_by_time ON deliveries (at)",
    *(stmt for table in _APPEND_ONLY_TABLES for stmt in _append_only(table)),
)

MIGRATIONS: tuple[Sequence[str], ...] = (_V1, _V2)
"""Statements per migration; index 0 is migration 1."""

SCHEMA_VERSION = len(MIGRATIONS)
