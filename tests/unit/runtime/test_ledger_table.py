"""``audit: {ledger_table: ...}`` in the config, and the DynamoDB ledger's batching and retries (against an
in-process stand-in for the DynamoDB API: no sockets)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from typing import Any

import pytest

from sgwatch.errors import ConfigError, DeliveryError
from sgwatch.notify.dynamodb_ledger import DynamoSentLedger
from sgwatch.settings import load_settings_text


def settings(text: str) -> Any:
    return load_settings_text(textwrap.dedent(text), "cfg.yaml", environ={})


def test_ledger_table_is_read_from_the_audit_section() -> None:
    parsed = settings("""\
        enrich: false
        audit:
          ledger_table: sgwatch-sent.ledger_1
        """)
    assert parsed.ledger_table == "sgwatch-sent.ledger_1"
    assert parsed.db_path is None
    assert settings("enrich: true\n").ledger_table is None


def test_ledger_table_and_db_together() -> None:
    parsed = settings("audit:\n  db: audit.sqlite\n  ledger_table: sent\n")
    assert (str(parsed.db_path), parsed.ledger_table) == ("audit.sqlite", "sent")


@pytest.mark.parametrize(
    ("value", "shown"),
    [("[a, b]", "['a', 'b']"), ("42", "42"), ("''", "''"), ("ab", "'ab'"), ("'has space'", "'has space'")],
)
def test_an_invalid_ledger_table_names_file_and_line(value: str, shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(f"enrich: false\naudit:\n  db: a.sqlite\n  ledger_table: {value}\n")
    assert str(caught.value) == (
        "cfg.yaml:4: ledger_table: expected a DynamoDB table name (3-255 characters: letters, digits, '_', '-', '.'),"
        f" got {shown}"
    )


def test_unknown_audit_keys_still_fail() -> None:
    with pytest.raises(ConfigError, match=r"cfg.yaml:3: audit: unknown key 'table' \(expected: db, ledger_table\)"):
        settings("audit:\n  db: a.sqlite\n  table: sent\n")


class DynamoApi:
    """The two DynamoDB operations the ledger uses, over a dict; leaves ``throttle`` writes unprocessed."""

    def __init__(self, throttle: int = 0) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.throttle = throttle
        self.batches: list[int] = []

    def batch_write_item(self, *, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        ((table, requests),) = RequestItems.items()
        assert len(requests) <= 25
        self.batches.append(len(requests))
        unprocessed = []
        for request in requests:
            if self.throttle > 0:
                self.throttle -= 1
                unprocessed.append(request)
                continue
            item = request["PutRequest"]["Item"]
            self.items[(item["pk"]["S"], item["rule_key"]["S"])] = item
        return {"UnprocessedItems": {table: unprocessed} if unprocessed else {}}

    def query(self, **request: Any) -> dict[str, Any]:
        assert request["ConsistentRead"] is True
        values = request["ExpressionAttributeValues"]
        found = [
            {"rule_key": {"S": rk}}
            for (pk, rk) in sorted(self.items)
            if pk == values[":pk"]["S"] and (":rk" not in values or rk == values[":rk"]["S"])
        ]
        return {"Items": found}


def make(api: DynamoApi, **options: Any) -> DynamoSentLedger:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    return DynamoSentLedger("sent", lambda: api, now=lambda: at, retry_delay=0.0, **options)


def test_writes_go_in_batches_of_25() -> None:
    api = DynamoApi()
    keys = tuple(f"sgr-{n:03d}" for n in range(60))
    make(api).mark_sent("slack", "evt", keys)
    assert api.batches == [25, 25, 10]
    assert len(api.items) == 60
    assert make(api).sent_rules("slack", "evt", keys) == set(keys)


def test_unprocessed_items_are_retried() -> None:
    api = DynamoApi(throttle=7)
    make(api, max_attempts=3).mark_sent("slack", "evt", ("sgr-1", "sgr-2", "sgr-3", "sgr-4", "sgr-5"))
    assert api.batches == [5, 5, 2]  # each retry carries only what the previous attempt left unprocessed
    assert len(api.items) == 5


def test_items_still_unprocessed_raise_a_delivery_error() -> None:
    api = DynamoApi(throttle=100)
    with pytest.raises(
        DeliveryError, match=r"sent ledger table 'sent': 2 item\(s\) still unprocessed after 3 attempts"
    ):
        make(api, max_attempts=3).mark_sent("slack", "evt", ("sgr-1", "sgr-2"))
    assert api.batches == [2, 2, 2]
