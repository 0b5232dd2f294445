"""Schema migrations: from nothing, from version 1 written by hand, and refusals."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from sgwatch.audit.ledger import SqliteSentLedger
from sgwatch.audit.migrations import SCHEMA_VERSION
from sgwatch.audit.query import HistoryFilter
from sgwatch.audit.store import AuditStore
from sgwatch.errors import StoreError
from sgwatch.model import Action, Severity

# Version 1 exactly as released: the four history tables, no sent ledger, no indexes, no triggers.
V1_SCHEMA = """
CREATE TABLE changes (
    id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, rule_key TEXT NOT NULL, event_name TEXT NOT NULL,
    event_time TEXT NOT NULL, account_id TEXT, region TEXT, actor TEXT, actor_type TEXT, source_ip TEXT,
    user_agent TEXT, outcome TEXT NOT NULL, error_code TEXT, error_message TEXT, group_id TEXT, group_name TEXT,
    vpc_id TEXT, direction TEXT, action TEXT NOT NULL, protocol TEXT, from_port INTEGER, to_port INTEGER,
    peer TEXT, peer_kind TEXT, peer_account_id TEXT, rule_id TEXT, description TEXT, target TEXT,
    rule_index INTEGER NOT NULL DEFAULT 0, severity TEXT NOT NULL, severity_rank INTEGER NOT NULL,
    findings TEXT NOT NULL, allowed_by TEXT, suppressed INTEGER NOT NULL DEFAULT 0, row_json TEXT NOT NULL,
    recorded_at TEXT NOT NULL, origin TEXT NOT NULL DEFAULT '', UNIQUE (event_id, rule_key)
);
CREATE TABLE findings (
    id INTEGER PRIMARY KEY, change_id INTEGER NOT NULL REFERENCES changes (id), event_id TEXT NOT NULL,
    rule_key TEXT NOT NULL, position INTEGER NOT NULL, finding_id TEXT NOT NULL, title TEXT NOT NULL,
    severity TEXT NOT NULL, reason TEXT NOT NULL, UNIQUE (change_id, position)
);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY, channel TEXT NOT NULL, alert_id TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL, detail TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE remediations (
    id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, rule_key TEXT NOT NULL, group_id TEXT, status TEXT NOT NULL,
    dry_run INTEGER NOT NULL, detail TEXT NOT NULL, plan TEXT, at TEXT NOT NULL
);
PRAGMA user_version = 1;
"""

V1_ROW = {
    "event_id": "old-1", "event_name": "AuthorizeSecurityGroupIngress", "event_time": "2023-11-02T08:00:00Z",
    "account_id": "111122223333", "region": "us-east-1", "actor": "arn:aws:iam::111122223333:user/carol",
    "actor_type": "IAMUser", "source_ip": "192.0.2.1", "user_agent": "console.amazonaws.com", "outcome": "success",
    "error_code": None, "group_id": "sg-legacy", "group_name": "legacy", "direction": "ingress", "action": "added",
    "protocol": "tcp", "from_port": 3389, "to_port": 3389, "peer": "0.0.0.0/0", "peer_kind": "ipv4",
    "rule_id": "sgr-rdp", "description": None, "target": None, "severity": "critical",
    "findings": ["INGRESS_WORLD_ADMIN_PORT"], "allowed_by": None,
}  # fmt: skip


def tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def user_version(path: Path) -> int:
    """The schema version the file says it has (``PRAGMA user_version``, as documented)."""
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_empty_database_is_migrated_to_the_latest_schema(db_path: Path) -> None:
    with AuditStore.open(db_path) as store:
        assert list(store.query(HistoryFilter())) == []
        assert store.deliveries() == store.remediations() == ()
        assert SqliteSentLedger(store).sent_rules("slack", "a:1", ("r1",)) == frozenset()
    assert user_version(db_path) == SCHEMA_VERSION == 2
    assert db_path.parent.is_dir()
    assert tables(db_path) >= {"changes", "findings", "deliveries", "remediations", "sent_alerts"}
    # Opening again is a no-op.
    with AuditStore.open(db_path):
        pass
    assert user_version(db_path) == SCHEMA_VERSION


def test_version_1_database_is_migrated_and_keeps_its_history(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA)
        conn.execute(
            "INSERT INTO changes (event_id, rule_key, event_name, event_time, account_id, region, actor, actor_type,"
            " source_ip, user_agent, outcome, group_id, group_name, direction, action, protocol, from_port, to_port,"
            " peer, peer_kind, rule_id, severity, severity_rank, findings, row_json, recorded_at, origin)"
            " VALUES ('old-1', 'sgr-rdp', 'AuthorizeSecurityGroupIngress', '2023-11-02T08:00:00.000000Z',"
            " '111122223333', 'us-east-1', 'arn:aws:iam::111122223333:user/carol', 'IAMUser', '192.0.2.1',"
            " 'console.amazonaws.com', 'success', 'sg-legacy', 'legacy', 'ingress', 'added', 'tcp', 3389, 3389,"
            " '0.0.0.0/0', 'ipv4', 'sgr-rdp', 'critical', 4, '[\"INGRESS_WORLD_ADMIN_PORT\"]', ?,"
            " '2023-11-02T08:01:00.000000Z', 'old.json#1')",
            (json.dumps(V1_ROW),),
        )
        conn.execute(
            "INSERT INTO findings (change_id, event_id, rule_key, position, finding_id, title, severity, reason)"
            " VALUES (1, 'old-1', 'sgr-rdp', 0, 'INGRESS_WORLD_ADMIN_PORT', 'RDP open to the world', 'critical',"
            " 'tcp 3389 from 0.0.0.0/0')"
        )
        conn.execute(
            "INSERT INTO remediations (event_id, rule_key, group_id, status, dry_run, detail, plan, at)"
            " VALUES ('old-1', 'sgr-rdp', 'sg-legacy', 'reverted', 0, 'revoked', NULL, '2023-11-02T08:02:00.000000Z')"
        )
    conn.close()
    assert "sent_alerts" not in tables(path)

    with AuditStore.open(path) as store:
        (record,) = store.records(HistoryFilter())
        assert record.row_json == json.dumps(V1_ROW)  # history prints what version 1 recorded, as it was
        judgement = record.judgement
        assert judgement.change.rule_id == "sgr-rdp"
        assert judgement.change.action == Action.ADDED
        assert judgement.severity == Severity.CRITICAL
        assert judgement.findings[0].title == "RDP open to the world"
        assert store.executed_remediation("old-1", "sgr-rdp")
        assert [j.change.rule_id for j in store.query(HistoryFilter(port=3389, world=True))] == ["sgr-rdp"]
        # What version 2 added works on the migrated file.
        ledger = SqliteSentLedger(store)
        ledger.mark_sent("slack", "111122223333:old-1", ("sgr-rdp",))
        assert ledger.sent_rules("slack", "111122223333:old-1", ("sgr-rdp",)) == {"sgr-rdp"}
    assert "sent_alerts" in tables(path)
    assert user_version(path) == SCHEMA_VERSION


def test_tables_are_append_only(filled: AuditStore) -> None:
    with closing(sqlite3.connect(filled.path)) as conn:
        for sql in ("UPDATE changes SET severity = 'info'", "DELETE FROM remediations", "DELETE FROM findings"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(sql)


def test_newer_schema_is_refused_with_the_path(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match=r"future\.sqlite: schema version 7 was written by a newer sgwatch"):
        AuditStore.open(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are not the tables you are looking for\n" * 20)
    with pytest.raises(StoreError, match=r"notes\.sqlite: not a usable sgwatch audit database"):
        AuditStore.open(path)


def test_a_foreign_database_with_clashing_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE changes (x)")
    conn.close()
    with pytest.raises(StoreError, match="already exists"):
        AuditStore.open(path)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0  # rolled back


def test_an_unusable_folder_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=r"cannot create the folder .*file"):
        AuditStore.open(blocker / "sub" / "audit.sqlite")
