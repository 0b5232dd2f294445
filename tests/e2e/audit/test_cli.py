"""``sgwatch history`` and ``sgwatch report`` as subprocesses against a real database file."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from sgwatch.audit.store import AuditStore
from sgwatch.serialize import ROW_KEYS

Run = Callable[..., subprocess.CompletedProcess[str]]

pytestmark = pytest.mark.e2e


def jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_history_jsonl_rows_have_the_scan_keys(run: Run, audit_db: Path) -> None:
    result = run("history", "--db", str(audit_db), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert len(rows) == 13
    assert all(list(row) == list(ROW_KEYS) for row in rows)
    assert [row["event_time"] for row in rows] == sorted(str(row["event_time"]) for row in rows)
    assert rows[0]["event_id"] == "ev-01"
    assert rows[2]["findings"] == ["INGRESS_WORLD_ADMIN_PORT", "INGRESS_PORT_RANGE"]


def test_history_prints_each_change_as_it_was_recorded(run: Run, audit_db: Path, tmp_path: Path) -> None:
    with closing(sqlite3.connect(audit_db)) as conn:
        stored = [r[0] for r in conn.execute("SELECT row_json FROM changes ORDER BY event_time, id")]
    result = run("history", "--db", str(audit_db), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "".join(f"{line}\n" for line in stored)
    # A row recorded by another version (other key order, a key this one does not know) is printed as it is.
    copy = tmp_path / "copy.sqlite"
    with closing(sqlite3.connect(audit_db)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    row = {**json.loads(stored[0]), "event_id": "ev-00", "event_time": "2024-04-30T00:00:00Z", "group_id": "sg-db"}
    older = json.dumps({"recorded_by": "sgwatch 0.9", **dict(reversed(row.items()))})
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute(
            "INSERT INTO changes (event_id, rule_key, event_name, event_time, outcome, action, group_id, severity,"
            " severity_rank, findings, row_json, recorded_at) VALUES ('ev-00', 'sgr-00', 'CreateSecurityGroup',"
            " '2024-04-30T00:00:00.000000Z', 'success', 'created', 'sg-db', 'info', 0, '[]', ?,"
            " '2024-04-30T00:01:00.000000Z')",
            (older,),
        )
    result = run("history", "--db", str(copy), "--format", "jsonl", "--group", "sg-db", "--until", "2024-05-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{older}\n"
    result = run("history", "--db", str(copy), "--format", "csv", "--group", "sg-db", "--until", "2024-05-01")
    assert result.returncode == 0, result.stderr
    (cells,) = csv.DictReader(io.StringIO(result.stdout))
    assert (cells["event_id"], cells["event_time"], cells["action"]) == ("ev-00", "2024-04-30T00:00:00Z", "created")


def test_history_table_shows_recorded_text_literally(run: Run, sc: ModuleType, tmp_path: Path) -> None:
    """A description or group name from CloudTrail that looks like rich markup is printed, not a crash."""
    judgement = sc.scenario()[3]
    change = replace(judgement.change, description="[/]admin [bold]x", group_name="[/x]")
    db = tmp_path / "markup.sqlite"
    with AuditStore.open(db) as store:
        store.record_judgements([replace(judgement, change=change)])
    result = run("history", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "“[/]admin [bold]x”" in result.stdout
    assert "user/alice" in result.stdout


def test_who_opened_22_to_the_world(run: Run, audit_db: Path) -> None:
    result = run("history", "--db", str(audit_db), "--port", "22", "--world", "--action", "added",
                 "--since", "2024-05-01", "--until", "2024-06-01", "--format", "jsonl")  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout)
    assert [(r["actor"], r["from_port"], r["to_port"], r["peer"], r["outcome"]) for r in rows] == [
        ("arn:aws:iam::111122223333:user/alice", 20, 25, "0.0.0.0/0", "success"),
        ("arn:aws:iam::111122223333:user/alice", 22, 22, "::/0", "success"),
        ("arn:aws:iam::111122223333:user/mallory", 22, 22, "0.0.0.0/0", "failure"),
    ]


def test_history_filters_on_the_command_line(run: Run, audit_db: Path) -> None:
    def ids(*args: str) -> list[str]:
        result = run("history", "--db", str(audit_db), "--format", "jsonl", *args)
        assert result.returncode == 0, result.stderr
        return [str(r["event_id"]) for r in jsonl(result.stdout)]

    assert ids("--actor", "*BOB") == ["ev-05", "ev-06", "ev-13"]
    assert ids("--severity", "HIGH") == ["ev-03", "ev-03", "ev-06", "ev-10"]
    assert ids("--group", "sg-db", "--peer", "198.51.100.0/24") == ["ev-07"]
    assert ids("--port", "5432", "--group", "sg-db") == ["ev-05", "ev-06", "ev-07"]
    assert ids("--since", "2024-05-09T16:00:00Z") == ["ev-11", "ev-12", "ev-13"]


def test_history_csv(run: Run, audit_db: Path) -> None:
    result = run("history", "--db", str(audit_db), "--format", "csv", "--group", "sg-bastion")
    assert result.returncode == 0, result.stderr
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert tuple(reader.fieldnames or ()) == ROW_KEYS
    rows = list(reader)
    assert [(r["event_id"], r["action"], r["findings"]) for r in rows] == [
        ("ev-03", "added", "INGRESS_WORLD_ADMIN_PORT INGRESS_PORT_RANGE"),
        ("ev-03", "added", "INGRESS_WORLD_ADMIN_PORT"),
        ("ev-08", "removed", ""),
    ]


def test_history_table_shows_before_and_after(run: Run, audit_db: Path) -> None:
    result = run("history", "--db", str(audit_db), "--group", "sg-db")
    assert result.returncode == 0, result.stderr
    assert "modified: ingress tcp/5432 from 203.0.113.0/24 -> ingress tcp/5432 from 198.51.100.7/32" in result.stdout
    assert "assumed-role/Admin/bob" in result.stdout


def test_group_rules_at_a_time(run: Run, audit_db: Path) -> None:
    def rules(*args: str) -> list[tuple[object, object]]:
        result = run("history", "--db", str(audit_db), "--format", "jsonl", *args)
        assert result.returncode == 0, result.stderr
        return [(r["rule_id"], r["peer"]) for r in jsonl(result.stdout)]

    assert rules("--group", "sg-db", "--at", "2024-05-05T14:00:00Z") == [
        ("sgr-db1", "10.0.0.0/8"), ("sgr-db2", "203.0.113.0/24")
    ]  # fmt: skip
    assert rules("--group", "sg-db", "--at", "now") == [
        ("sgr-db1", "10.0.0.0/8"), ("sgr-db2", "198.51.100.7/32"), ("sgr-db3", "10.1.0.0/16")
    ]  # fmt: skip
    # Every group, only what lets the world in.
    assert rules("--at", "2024-06-01", "--world") == [("sgr-b2", "::/0"), ("sgr-web443", "0.0.0.0/0")]
    table = run("history", "--db", str(audit_db), "--group", "sg-bastion", "--at", "2024-05-03")
    assert "Rules of sg-bastion at 2024-05-03 00:00:00 UTC" in table.stdout
    assert "ingress tcp/20-25 from 0.0.0.0/0" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "7x"), "--since: '7x' is neither a relative age"),
        (("--peer", "10.0.0.0/40"), "--peer: '10.0.0.0/40' is not a CIDR"),
        (("--at", "now", "--since", "7d"), "--at shows the rules at one time"),
    ],
)
def test_history_usage_errors(run: Run, audit_db: Path, args: tuple[str, ...], message: str) -> None:
    result = run("history", "--db", str(audit_db), *args)
    assert result.returncode == 2
    assert result.stderr.startswith("sgwatch: error: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_and_newer_databases_are_errors(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    result = run("history", "--db", str(missing))
    assert result.returncode == 2
    assert f"sgwatch: error: {missing}: no audit database here" in result.stderr
    assert not missing.exists()
    future = tmp_path / "future.sqlite"
    with closing(sqlite3.connect(future)) as conn:
        conn.execute("PRAGMA user_version = 99")
    result = run("report", "--db", str(future), "--out", str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert "was written by a newer sgwatch" in result.stderr


def test_report_writes_one_file(run: Run, audit_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.html"
    result = run("report", "--db", str(audit_db), "--since", "2024-04-25", "--until", "2024-05-25", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "13 change(s), 2 exposed group(s), 3 remediation(s), 4 notification(s)" in result.stderr
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert 'id="count-changes" data-count="13"' in html
    # The database path from a config file works too, and '-' writes to stdout.
    config = tmp_path / "sgwatch.yaml"
    config.write_text(f"audit:\n  db: {audit_db}\n", encoding="utf-8")
    piped = run("report", "--config", str(config), "--since", "2024-05-01", "--until", "2024-05-02", "--out", "-")
    assert piped.returncode == 0, piped.stderr
    assert 'id="count-changes" data-count="2"' in piped.stdout


def test_report_rejects_an_empty_period(run: Run, audit_db: Path, tmp_path: Path) -> None:
    result = run("report", "--db", str(audit_db), "--since", "2024-05-02", "--until", "2024-05-01", "--out",
                 str(tmp_path / "r.html"))  # fmt: skip
    assert result.returncode == 2
    assert "--since (2024-05-02 00:00) must be before --until (2024-05-01 00:00)" in result.stderr


def test_world_means_what_the_policy_says(run: Run, audit_db: Path, tmp_path: Path) -> None:
    """--world and the report's exposed groups use the policy's `world` thresholds, as judging does."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("world: {ipv4_prefix: 24, ipv6_prefix: 16}\n", encoding="utf-8")
    config = tmp_path / "sgwatch.yaml"
    config.write_text(f"policy: {policy.name}\naudit:\n  db: {audit_db}\n", encoding="utf-8")

    def peers(*args: str) -> list[str]:
        result = run("history", "--world", "--format", "jsonl", *args)
        assert result.returncode == 0, result.stderr
        return sorted({str(r["peer"]) for r in jsonl(result.stdout)})

    default = peers("--db", str(audit_db))
    assert "203.0.113.0/24" not in default
    wider = peers("--db", str(audit_db), "--policy", str(policy))
    assert set(default) < set(wider)
    assert set(wider) - set(default) == {"203.0.113.0/24"}  # a public /24 is "the world" now
    assert peers("--config", str(config)) == wider

    def exposed_rules(*args: str) -> int:
        result = run("report", "--db", str(audit_db), "--since", "2024-04-25", "--until", "2024-05-06", "--out", "-",
                     *args)  # fmt: skip
        assert result.returncode == 0, result.stderr
        found = re.search(r'id="count-exposed-rules" data-count="(\d+)"', result.stdout)
        assert found is not None
        return int(found.group(1))

    # By then sg-db's /24 had become 198.51.100.7/32: "the world" only if even a single address counts.
    assert exposed_rules("--policy", str(policy)) == exposed_rules() == 3
    policy.write_text("world: {ipv4_prefix: 32}\n", encoding="utf-8")
    assert exposed_rules("--policy", str(policy)) == 4


def test_a_broken_policy_is_named(run: Run, audit_db: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("world: {ipv4_prefix: wide}\n", encoding="utf-8")
    result = run("history", "--db", str(audit_db), "--world", "--policy", str(policy))
    assert result.returncode == 2
    assert str(policy) in result.stderr
    assert "Traceback" not in result.stderr


def test_history_table_shows_what_a_modified_rule_was(run: Run, audit_db: Path) -> None:
    result = run("history", "--db", str(audit_db), "--group", "sg-db")
    assert result.returncode == 0, result.stderr
    assert "modified: ingress tcp/5432 from 203.0.113.0/24 -> ingress tcp/5432 from 198.51.100.7/32" in result.stdout


@pytest.mark.parametrize(("add_id", "revoke_id"), [("ffff-add", "0000-revoke"), ("0000-add", "ffff-revoke")])
def test_opened_and_revoked_in_one_second_is_not_exposed(
    run: Run, sc: ModuleType, tmp_path: Path, add_id: str, revoke_id: str
) -> None:
    """A log file opening tcp/22 to the world and revoking it in the same second (as an automatic revert does)."""
    ssh = sc.permission("tcp", (22, 22), "0.0.0.0/0")
    second = "2024-10-14T10:00:00"
    log = tmp_path / "trail.json"
    records = [
        sc.cloudtrail_record("AuthorizeSecurityGroupIngress", add_id, second, ssh),
        sc.cloudtrail_record("RevokeSecurityGroupIngress", revoke_id, second, ssh),
    ]
    log.write_text(json.dumps({"Records": records}), encoding="utf-8")
    db = tmp_path / "audit.sqlite"
    scanned = run("scan", str(log), "--db", str(db), "--format", "jsonl")
    assert scanned.returncode == 0, scanned.stderr
    assert [r["event_id"] for r in jsonl(scanned.stdout)] == [add_id, revoke_id]
    for when in ("now", f"{second}Z"):
        rules = run("history", "--db", str(db), "--at", when, "--format", "jsonl")
        assert rules.returncode == 0, rules.stderr
        assert jsonl(rules.stdout) == []
    listed = run("history", "--db", str(db), "--format", "jsonl")
    assert [r["event_id"] for r in jsonl(listed.stdout)] == [add_id, revoke_id]
    report = run("report", "--db", str(db), "--since", "2024-10-01", "--until", "2024-11-01", "--out", "-")
    assert report.returncode == 0, report.stderr
    assert "2 change(s), 0 exposed group(s)" in report.stderr
    # The same records again in the other order (another file, a re-scan) change nothing.
    log.write_text(json.dumps({"Records": records[::-1]}), encoding="utf-8")
    assert run("scan", str(log), "--db", str(db), "--format", "jsonl").returncode == 0
    world = run("history", "--db", str(db), "--at", "now", "--world", "--format", "jsonl")
    assert jsonl(world.stdout) == []
