"""Runtime pieces without AWS: JSON log lines, config references, rule snapshots, own-role patterns."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sgwatch.errors import ConfigError
from sgwatch.runtime.app import own_role_patterns
from sgwatch.runtime.clients import AwsClients
from sgwatch.runtime.config_ref import load_config_ref
from sgwatch.runtime.logs import JsonFormatter
from sgwatch.runtime.snapshots import RuleSnapshots


def _line(formatter: JsonFormatter, message: str, *args: Any, **extra: Any) -> dict[str, Any]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.{id(stream)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning(message, *args, extra=extra)
    result: dict[str, Any] = json.loads(stream.getvalue())
    return result


def test_json_lines_merge_structured_messages_and_context() -> None:
    formatter = JsonFormatter()
    formatter.context = {"request_id": "req-1"}
    line = _line(formatter, "%s", json.dumps({"event": "delivery", "channel": "slack"}))
    assert (line["event"], line["channel"], line["request_id"], line["level"]) == (
        "delivery",
        "slack",
        "req-1",
        "WARNING",
    )
    plain = _line(formatter, "hello %s", "world")
    assert plain["message"] == "hello world"
    structured = _line(formatter, "x", sgwatch_fields={"event": "batch", "alerts": 2})
    assert (structured["event"], structured["alerts"]) == ("batch", 2)


def test_config_ref_file_and_the_lambda_enrich_default(tmp_path: Path) -> None:
    clients = AwsClients()
    said_nothing = tmp_path / "a.yaml"
    said_nothing.write_text("notify: []\n")
    said_false = tmp_path / "b.yaml"
    said_false.write_text("enrich: false\npolicy: policy.yaml\n")
    env = {"X": "1"}
    assert load_config_ref(str(said_nothing), env, clients, enrich_default=True).enrich is True
    settings = load_config_ref(str(said_false), env, clients, enrich_default=True)
    assert settings.enrich is False
    assert settings.policy_path == tmp_path / "policy.yaml"
    assert settings.environ == env
    assert load_config_ref(None, env, clients, enrich_default=True).enrich is True
    assert load_config_ref("", env, clients).enrich is False
    with pytest.raises(ConfigError, match="expected ssm:/parameter-name"):
        load_config_ref("ssm:", env, clients)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config_ref(str(tmp_path / "missing.yaml"), env, clients)


def test_snapshots_give_the_latest_definition_strictly_before(judged: Any) -> None:
    (j,) = judged("AuthorizeSecurityGroupIngress__items_world_ssh")
    change = replace(j.change, rule_id="sgr-1")
    snaps = RuleSnapshots()
    snaps.remember_change(change)
    t = change.event_time
    assert snaps.before("sgr-1", t) is None
    assert snaps.before("sgr-1", t + timedelta(seconds=1)) == change
    later = replace(change, peer="10.0.0.0/8")
    snaps.remember(later, t + timedelta(minutes=5))
    assert snaps.before("sgr-1", t + timedelta(minutes=1)) == change
    assert snaps.before("sgr-1", datetime(2030, 1, 1, tzinfo=UTC)) == later


def test_own_role_patterns() -> None:
    patterns = own_role_patterns("arn:aws:sts::111122223333:assumed-role/sgwatch-fn-role/sgwatch-fn")
    assert patterns == (
        "arn:aws:sts::111122223333:assumed-role/sgwatch-fn-role/*",
        "arn:aws:iam::111122223333:role/sgwatch-fn-role",
        "arn:aws:iam::111122223333:role/*/sgwatch-fn-role",
    )
    assert own_role_patterns("arn:aws:iam::1:user/ci") == ("arn:aws:iam::1:user/ci",)


def test_snapshots_keep_a_repeated_definition_once_so_older_ones_survive(judged: Any) -> None:
    (j,) = judged("AuthorizeSecurityGroupIngress__items_world_ssh")
    t = j.change.event_time
    snaps = RuleSnapshots()
    defs = [replace(j.change, rule_id="sgr-1", peer=f"10.{i}.0.0/16") for i in range(8)]
    for i, rule in enumerate(defs):
        snaps.remember(rule, t + timedelta(minutes=i))
    described = replace(defs[-1], event_id="described")
    for k in range(20):  # the same definition seen again and again (one describe per change)
        snaps.remember(described, t + timedelta(hours=1, seconds=k))
    assert snaps.before("sgr-1", t + timedelta(minutes=7)) == defs[6]
    assert snaps.before("sgr-1", t + timedelta(minutes=1)) == defs[0]
    assert snaps.before("sgr-1", t + timedelta(days=1)) == defs[7]  # the earliest of a repeated run is kept
    snaps.remember(replace(defs[3], event_id="again"), t + timedelta(hours=2))  # an earlier definition back
    assert snaps.before("sgr-1", t + timedelta(days=1)).event_id == "again"  # type: ignore[union-attr]
    for i in range(8, 20):  # distinct definitions are still bounded: the oldest go first
        snaps.remember(replace(defs[0], peer=f"10.{i}.0.0/16"), t + timedelta(hours=3, minutes=i))
    assert snaps.before("sgr-1", t + timedelta(minutes=1)) is None
    assert str(snaps.before("sgr-1", t + timedelta(days=1)).peer) == "10.19.0.0/16"  # type: ignore[union-attr]


def test_build_app_validates_the_notify_section() -> None:
    from sgwatch.runtime.app import build_app
    from sgwatch.settings import load_settings_text

    bad = load_settings_text(
        "notify:\n  - type: webhook\n    url: https://hooks.example.com/x\n    burst: 3\n", "c.yaml"
    )
    with pytest.raises(ConfigError, match=r"^c\.yaml:4: notify\[0\] \(webhook\)"):
        build_app(bad, enrich=False, discover=False)
    good = load_settings_text("notify:\n  - type: webhook\n    url: https://hooks.example.com/x\n", "c.yaml")
    app = build_app(good, enrich=False, discover=False)
    assert app.enricher is None
    assert app.notify_config is not None
    assert [c.name for c in app.notify_config.channels] == ["webhook"]
    assert app.notifier.config is app.notify_config  # parsed once, at build time
    app.close()


def test_the_stack_ledger_table_is_a_checked_default(tmp_path: Path) -> None:
    from sgwatch.runtime.clients import AwsClients
    from sgwatch.runtime.config_ref import load_config_ref

    clients = AwsClients(default_region="eu-west-1")  # never used: no ssm: reference
    assert load_config_ref(None, {}, clients, ledger_table_default="sgw-sent").ledger_table == "sgw-sent"
    with pytest.raises(ConfigError, match=r"^SGWATCH_LEDGER_TABLE: ledger_table: expected a DynamoDB table name"):
        load_config_ref(None, {}, clients, ledger_table_default="bad name!")
    config = tmp_path / "c.yaml"
    config.write_text("audit:\n  ledger_table: own-table\n")
    assert load_config_ref(str(config), {}, clients, ledger_table_default="sgw-sent").ledger_table == "own-table"
    config.write_text("enrich: false\n")
    assert load_config_ref(str(config), {}, clients, ledger_table_default="sgw-sent").ledger_table == "sgw-sent"
