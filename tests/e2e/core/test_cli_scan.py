"""The CLI as a user runs it: a subprocess, real files, exit codes, stderr lines, no tracebacks."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[2]
FIXTURES = TESTS / "fixtures"
Cli = Callable[..., "subprocess.CompletedProcess[str]"]


def rows(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_jsonl_has_the_documented_keys(cli: Cli) -> None:
    result = cli("scan", str(FIXTURES / "cloudtrail"), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    out = rows(result.stdout)
    required = [
        "event_id",
        "event_name",
        "event_time",
        "account_id",
        "region",
        "actor",
        "actor_type",
        "source_ip",
        "user_agent",
        "outcome",
        "error_code",
        "group_id",
        "direction",
        "action",
        "protocol",
        "from_port",
        "to_port",
        "peer",
        "rule_id",
        "description",
        "severity",
        "findings",
    ]
    assert out
    assert all(set(required) <= set(row) for row in out)
    assert "security-group changes" in result.stderr


def test_bad_inputs_are_one_line_each_and_the_rest_is_processed(cli: Cli) -> None:
    bad = FIXTURES / "bad"
    result = cli("scan", "--format", "jsonl", str(bad), str(FIXTURES / "envelopes" / "eventbridge.json"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("sgwatch: ") and "records" not in line]
    assert any("truncated.json.gz" in e and "gzip" in e for e in errors)
    assert any("invalid.json" in e and "invalid JSON" in e for e in errors)
    assert any("unknown_shape.json" in e and "unknown shape" in e for e in errors)
    bad_types = next(e for e in errors if "wrong_types.json#0" in e)  # the record named once, then the fault
    assert bad_types.startswith(f"sgwatch: {bad / 'wrong_types.json'}#0 (eventID bad-types-1): $.")
    assert bad_types.count("wrong_types.json") == 1
    assert "fromPort" in bad_types
    assert any(
        e.startswith(f"sgwatch: {bad / 'mixed.jsonl'}:3 (eventID bad-time-1): $.") and "eventTime" in e for e in errors
    )
    ids = {row["event_id"] for row in rows(result.stdout)}
    # the good records next to the bad ones still come out
    assert "5f1b2c3d-0000-4000-9000-000000000001" in ids  # eventbridge.json, mixed.jsonl:1
    assert "5f1b2c3d-0000-4000-9000-000000000022" in ids  # wrong_types.json#1 (ModifySecurityGroupRules)
    assert "5f1b2c3d-0000-4000-9000-000000000019" in ids  # mixed.jsonl:4


def test_fail_on_exits_3_and_min_severity_filters(cli: Cli) -> None:
    path = str(FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupIngress__web_ports_world.json")
    result = cli("scan", path, "--format", "jsonl", "--min-severity", "high", "--fail-on", "critical")
    assert result.returncode == 3
    assert [row["severity"] for row in rows(result.stdout)] == ["critical", "high"]
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("sgwatch: 1 records, ")
    assert ", 2 shown (--min-severity high)" in summary  # the summary counts every change, says what is shown
    everything = cli("scan", path, "--format", "jsonl")
    assert "shown" not in everything.stderr
    assert cli("scan", path, "--format", "jsonl", "--fail-on", "critical", "--min-severity", "critical").returncode == 3
    low_only = str(FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupEgress__world_all_traffic.json")
    assert cli("scan", low_only, "--format", "jsonl", "--fail-on", "high").returncode == 0


def test_stdin_and_duplicates_are_reported_once(cli: Cli) -> None:
    record = (FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupIngress__items_world_ssh.json").read_bytes()
    doubled = json.dumps({"Records": [json.loads(record), json.loads(record)]}).encode()
    result = cli("scan", "-", "--format", "jsonl", stdin=doubled)
    assert result.returncode == 0
    assert len(rows(result.stdout)) == 1
    assert "1 repeated changes skipped (the same event read more than once)" in result.stderr


def test_table_format_names_the_change(cli: Cli) -> None:
    result = cli(
        "scan",
        str(FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupIngress__items_world_ssh.json"),
        "--format",
        "table",
    )
    assert result.returncode == 0
    assert "critical" in result.stdout
    assert "added ingress tcp/22" in result.stdout
    assert "0.0.0.0/0" in result.stdout


def test_table_lists_changes_in_event_time_order_and_jsonl_in_input_order(tmp_path: Path, cli: Cli) -> None:
    record = json.loads((FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupIngress__items_world_ssh.json").read_bytes())
    late = record | {"eventID": "late", "eventTime": "2026-03-01T12:05:00Z"}
    early = record | {"eventID": "early", "eventTime": "2026-03-01T11:55:00Z", "requestParameters": {
        **record["requestParameters"], "groupId": "sg-0early0000000000"}}  # fmt: skip
    (tmp_path / "a.json").write_text(json.dumps({"Records": [late]}))  # delivered first, happened last
    (tmp_path / "b.json").write_text(json.dumps({"Records": [early]}))
    table = cli("scan", str(tmp_path), "--format", "table", "--workers", "1")
    assert table.returncode == 0
    assert table.stdout.index("11:55:00") < table.stdout.index("12:05:00")
    jsonl = cli("scan", str(tmp_path), "--format", "jsonl", "--workers", "1")
    assert [row["event_id"] for row in rows(jsonl.stdout)] == ["late", "early"]


def test_policy_errors_are_one_line_exit_2(tmp_path: Path, cli: Cli) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("allowlist:\n  - cidr: 10.0.0.0/8\n    reason: x\n    owner: y\n    expire: 2027-01-01\n")
    result = cli("scan", str(FIXTURES / "cloudtrail"), "--policy", str(policy))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"sgwatch: error: {policy}:5: allowlist[0]: unknown key 'expire' (expected: cidr, principal, group, reason, owner, expires)"
    )
    checked = cli("policy", "check", str(policy))
    assert checked.returncode == 2
    assert "unknown key 'expire'" in checked.stderr


def test_policy_check_ok_and_warns_on_expired(tmp_path: Path, cli: Cli) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("allowlist:\n  - group: sg-0aa\n    reason: x\n    owner: y\n    expires: 2020-01-01\n")
    result = cli("policy", "check", str(policy))
    assert result.returncode == 0
    assert "expired on 2020-01-01" in result.stderr
    assert "1 allowlist entries" in result.stdout


def test_allowlisted_change_is_info_with_reason(tmp_path: Path, cli: Cli) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "allowlist:\n  - principal: 'arn:aws:sts::111122223333:assumed-role/Admin/*'\n    reason: break-glass\n    owner: secops\n"
    )
    path = str(FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupIngress__items_world_ssh.json")
    (row,) = rows(cli("scan", path, "--format", "jsonl", "--policy", str(policy)).stdout)
    assert row["severity"] == "info"
    assert row["findings"] == ["WORLD_ADMIN_PORT_INGRESS"]
    assert row["allowed_by"] == "principal arn:aws:sts::111122223333:assumed-role/Admin/*: break-glass (secops)"


@pytest.mark.parametrize("finding_id", ["WORLD_ADMIN_PORT_INGRESS", "world_web_ingress"])
def test_explain(finding_id: str, cli: Cli) -> None:
    result = cli("explain", finding_id)
    assert result.returncode == 0
    assert "default severity:" in result.stdout


def test_explain_unknown_id_is_an_error(cli: Cli) -> None:
    result = cli("explain", "NOPE")
    assert result.returncode == 2
    assert result.stderr.startswith("sgwatch: error: unknown finding id 'NOPE'")


def test_no_paths_on_a_terminal_is_a_usage_error(cli: Cli) -> None:
    result = cli("scan")  # the runner's stdin is /dev/null
    # /dev/null is not a terminal: it is read as empty stdin, which is reported as empty input
    assert result.returncode == 2
    assert "empty input" in result.stderr


def test_workers_give_the_same_output_in_the_same_order(cli: Cli) -> None:
    paths = [str(FIXTURES / "cloudtrail"), str(FIXTURES / "envelopes"), str(FIXTURES / "cloudtrail")]
    one = cli("scan", *paths, "--format", "jsonl", "--workers", "1")
    two = cli("scan", *paths, "--format", "jsonl", "--workers", "2")
    assert one.returncode == two.returncode  # 2: an S3 notification among the envelopes is reported
    assert one.stdout == two.stdout
    assert one.stderr == two.stderr
    assert "repeated changes skipped" in one.stderr  # the directory given twice


def test_bad_channel_config_stops_before_reading_input(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("notify:\n  - type: slak\n")
    result = cli("scan", str(FIXTURES / "cloudtrail"), "--config", str(config), "--notify", "--format", "jsonl")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"sgwatch: error: {config}:2: notify[0]: type: expected one of")


def test_audit_store_with_notify_records_and_delivers_once(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "sgwatch.yaml"
    config.write_text("notify:\n  - type: console\n    min_severity: info\n", encoding="utf-8")
    ssh = str(FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupIngress__items_world_ssh.json")
    db = tmp_path / "audit.sqlite"
    first = cli("scan", ssh, "--config", str(config), "--notify", "--db", str(db), "--format", "jsonl")
    assert first.returncode == 0, first.stderr
    assert f"audit: 1 new changes recorded in {db}" in first.stderr
    assert "notify: console: 1 alert delivered" in first.stderr
    again = cli("scan", ssh, "--config", str(config), "--notify", "--db", str(db), "--format", "jsonl")
    assert "audit: 0 new changes recorded" in again.stderr  # the sent ledger in the store: no second alert
    assert "notify: console: 1 skipped (already sent)" in again.stderr


def test_unusable_audit_store_stops_the_run_before_reading_input(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "sgwatch.yaml"
    config.write_text("notify:\n  - type: console\n", encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    ssh = str(FIXTURES / "cloudtrail" / "AuthorizeSecurityGroupIngress__items_world_ssh.json")
    result = cli("scan", ssh, "--config", str(config), "--notify", "--db", str(blocker / "audit.sqlite"))
    assert result.returncode == 2
    assert result.stderr.startswith("sgwatch: error: ")
    assert str(blocker / "audit.sqlite") in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing judged, so nothing half-done: no alert lost after the fact
