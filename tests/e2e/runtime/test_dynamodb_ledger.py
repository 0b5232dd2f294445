"""The DynamoDB sent ledger against moto: the items it writes, the Lambda handler delivering a duplicate event
once across containers, and a missing table never costing an alert. (The SentLedger contract, two containers
sharing one table included, is tests/e2e/notify/test_sent_ledger_contract.py.)"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sgwatch.errors import DeliveryError
from sgwatch.lambda_handler import LEDGER_TABLE_ENV, clear_cache, handler
from sgwatch.notify.dynamodb_ledger import DynamoSentLedger
from sgwatch.runtime.clients import AwsClients

SSH_EVENT = "5f1b2c3d-0000-4000-9000-000000000001"  # the record inside every fixture envelope
AT = datetime(2026, 3, 1, 10, 15, 30, tzinfo=UTC)


def items(build: Any, table: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = build.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(found, key=lambda item: (item["pk"]["S"], item["rule_key"]["S"]))


def ledger(table: str) -> DynamoSentLedger:
    """A ledger with its own clients, as a separate Lambda container would have."""
    clients = AwsClients()
    return DynamoSentLedger(table, lambda: clients.client("dynamodb"), now=lambda: AT, retry_delay=0.01)


def test_the_items_in_the_table(build: Any, create_table: Callable[[], str]) -> None:
    """One item per (channel, alert, rule), the empty rule key stored as '#', with the time and the TTL; more
    rules than one batch write are all stored (the behaviour: tests/e2e/notify/test_sent_ledger_contract.py)."""
    table = create_table()
    sent = ledger(table)
    sent.mark_sent("slack", "evt-1", ("sgr-1",))
    sent.mark_sent("slack", "evt-1", ("sgr-2", "sgr-2", "sgr-1"))
    sent.mark_sent("slack", "evt-3", ())
    sent.mark_sent("slack", "evt-3", ("",))
    assert sent.sent_rules("slack", "evt-3", ("",)) == {""}
    stored = items(build, table)
    assert [(i["pk"]["S"], i["rule_key"]["S"]) for i in stored] == [
        ("slack#evt-1", "sgr-1"),
        ("slack#evt-1", "sgr-2"),
        ("slack#evt-3", "#"),
    ]
    expires = int((AT + timedelta(days=30)).timestamp())
    assert {(i["sent_at"]["S"], i["expires_at"]["N"]) for i in stored} == {("2026-03-01T10:15:30+00:00", str(expires))}
    keys = tuple(f"authorize|sg-1|ingress|tcp|{port}|{port}|0.0.0.0/0|" for port in range(1, 61))
    sent.mark_sent("webhook", "evt-big", keys)
    assert len([i for i in items(build, table) if i["pk"]["S"] == "webhook#evt-big"]) == 60


def test_a_missing_table_is_a_delivery_error_naming_it(build: Any) -> None:
    gone = ledger(f"sgwatch-missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(DeliveryError, match=r"sent ledger table 'sgwatch-missing-\w+': cannot read: .*table exists"):
        gone.sent_rules("slack", "evt-1", ("sgr-1",))
    with pytest.raises(DeliveryError, match=r"cannot write: .*table exists"):
        gone.mark_sent("slack", "evt-1", ("sgr-1",))


# --- through the Lambda handler: one delivery per (channel, alert, rule) across containers -----------------


def cold_invoke(build: Any, event_id: str = SSH_EVENT) -> dict[str, Any]:
    """Invoke the handler as a new container would (no App kept from before) with the fixture record."""
    clear_cache()
    event = build.envelope("eventbridge")
    assert event["detail"]["eventID"] == event_id
    return handler(json.loads(json.dumps(event)), None)


def test_a_duplicate_event_in_two_containers_is_delivered_once(
    build: Any,
    create_table: Callable[[], str],
    config: Any,
    lambda_env: Any,
    receiver: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = create_table()
    lambda_env(config("enrich: false\n"))
    monkeypatch.setenv(LEDGER_TABLE_ENV, table)
    assert cold_invoke(build)["alerts"] == 1
    assert cold_invoke(build)["failures"] == []
    assert len(receiver.alerts()) == 1
    assert [i["pk"]["S"] for i in items(build, table)] == [f"webhook#111122223333:{SSH_EVENT}"]


def test_without_a_table_each_container_delivers_again(
    build: Any, config: Any, lambda_env: Any, receiver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LEDGER_TABLE_ENV, raising=False)
    lambda_env(config("enrich: false\n"))
    cold_invoke(build)
    cold_invoke(build)
    assert len(receiver.alerts()) == 2  # the in-memory ledger lasts one container only


def test_the_configured_table_wins_over_the_environment(
    build: Any,
    create_table: Callable[[], str],
    config: Any,
    lambda_env: Any,
    receiver: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configured, stack = create_table(), create_table()
    lambda_env(config(f"enrich: false\naudit:\n  ledger_table: {configured}\n"))
    monkeypatch.setenv(LEDGER_TABLE_ENV, stack)
    cold_invoke(build)
    cold_invoke(build)
    assert len(receiver.alerts()) == 1
    assert len(items(build, configured)) == 1
    assert items(build, stack) == []


def test_a_missing_table_still_delivers_and_logs(
    build: Any,
    config: Any,
    lambda_env: Any,
    receiver: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = f"sgwatch-missing-{uuid.uuid4().hex[:8]}"
    lambda_env(config("enrich: false\n"))
    monkeypatch.setenv(LEDGER_TABLE_ENV, missing)
    result = cold_invoke(build)
    assert (result["alerts"], result["failures"]) == (1, [])
    assert receiver.alert(SSH_EVENT)["severity"] == "critical"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    errors = [line for line in lines if line.get("event") == "ledger_error"]
    assert len(errors) == 2, errors  # the read before sending, the write after
    assert all(missing in line["detail"] and line["channel"] == "webhook" for line in errors)
    assert [line["ledger_table"] for line in lines if line.get("event") == "cold_start"] == [missing]
