"""A warm process keeps its notifier: the Lambda handler invoked twice reuses the parsed config, the
HTTP connection and the secret it read from SSM; secrets are read again after their max age (rotation);
the DynamoDB sent ledger is asked once per alert and channel. Against moto on 127.0.0.1 and a local
keep-alive webhook receiver; every AWS call the code makes is counted by the ``aws`` fixture."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from sgwatch.lambda_handler import LEDGER_TABLE_ENV, clear_cache, get_app, handler
from sgwatch.model import DeliveryStatus
from sgwatch.notify import Notifier
from sgwatch.notify.dynamodb_ledger import DynamoSentLedger
from sgwatch.runtime.clients import AwsClients
from sgwatch.settings import load_settings_text


@pytest.fixture
def server(http_sink: Callable[..., Any]) -> Any:
    """A keep-alive webhook receiver that counts its TCP connections."""
    return http_sink(keep_alive=True)


def parameter(build: Any, value: str) -> str:
    name = f"/sgwatch/test/{uuid.uuid4().hex[:10]}/webhook"
    build.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString")
    return name


def event_with_id(build: Any, event_id: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(build.envelope("eventbridge")))
    event["detail"]["eventID"] = event_id
    return event


def test_a_warm_lambda_reuses_config_connection_secret_and_ledger_client(
    build: Any,
    create_table: Callable[[], str],
    aws: Any,
    server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = parameter(build, server.url)
    table = create_table()
    path = tmp_path / "config.yaml"
    path.write_text(
        "enrich: false\n"
        f"notify:\n  - type: webhook\n    url: ssm:{name}\n    min_severity: info\n"
        "delivery:\n  max_attempts: 1\n  timeout: 5\n  burst: false\n"
    )
    monkeypatch.setenv("SGWATCH_CONFIG", str(path))
    monkeypatch.setenv(LEDGER_TABLE_ENV, table)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())

    assert handler(event_with_id(build, first), None)["failures"] == []
    notifier = get_app(dict(os.environ)).notifier
    parsed = notifier.config
    assert handler(event_with_id(build, second), None)["failures"] == []
    assert handler(event_with_id(build, first), None)["failures"] == []  # a repeat: the ledger drops it

    assert server.event_ids() == [first, second]
    assert server.accepted == 1  # one TCP connection for every warm invocation
    assert get_app(dict(os.environ)).notifier is notifier
    assert notifier.config is parsed
    assert aws.count("ssm:GetParameter") == 1  # the secret was read once
    assert aws.count("dynamodb:Query") == 3  # one per alert and channel
    assert aws.count("dynamodb:BatchWriteItem") == 2
    clear_cache()  # App.close closes the notifier: the connection ends
    deadline = time.monotonic() + 5.0
    while server.finished < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.finished == 1


def test_a_secret_in_ssm_is_read_again_after_its_max_age(
    build: Any,
    aws: Any,
    alerts: ModuleType,
    http_sink: Callable[..., Any],
    server: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="sgwatch.notify")
    rotated = http_sink(keep_alive=True)
    name = parameter(build, server.url)
    settings = load_settings_text(
        textwrap.dedent(
            f"""
            notify:
              - type: webhook
                url: ssm:{name}
                min_severity: info
            delivery:
              max_attempts: 1
              timeout: 5
              burst: false
              secret_max_age: 300
            """
        ),
        "cfg.yaml",
        environ={},
    )
    clock = alerts.ManualClock()
    batch = alerts.burst(6)
    with Notifier(settings, clock=clock) as notifier:
        notifier.deliver(batch[0:1])
        notifier.deliver(batch[1:2])
        assert aws.count("ssm:GetParameter") == 1
        build.client("ssm").put_parameter(Name=name, Value=rotated.url, Type="SecureString", Overwrite=True)
        clock.sleep(299.0)
        notifier.deliver(batch[2:3])  # within max age: the value read first
        assert aws.count("ssm:GetParameter") == 1
        clock.sleep(1.0)
        notifier.deliver(batch[3:4])  # due: read again, the rotated value is used
        assert aws.count("ssm:GetParameter") == 2
        build.client("ssm").delete_parameter(Name=name)
        clock.sleep(300.0)
        (kept,) = notifier.deliver(batch[4:5])  # cannot be read: the last value is kept, with a warning
        assert kept.status is DeliveryStatus.DELIVERED
        assert aws.count("ssm:GetParameter") == 3
        notifier.deliver(batch[5:6])  # and not asked again at once
        assert aws.count("ssm:GetParameter") == 3
    assert server.event_ids() == ["burst-0000", "burst-0001", "burst-0002"]
    assert rotated.event_ids() == ["burst-0003", "burst-0004", "burst-0005"]
    warnings = [json.loads(r.getMessage()) for r in caplog.records if "secret_refresh_failed" in r.getMessage()]
    assert len(warnings) == 1
    assert f"ssm:{name}: cannot read it (ParameterNotFound)" in warnings[0]["detail"]
    assert rotated.url not in caplog.text


def test_the_dynamodb_ledger_is_queried_once_per_alert_and_channel(
    build: Any,
    create_table: Callable[[], str],
    aws: Any,
    alerts: ModuleType,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = create_table()
    clients = AwsClients()
    ledger = DynamoSentLedger(table, lambda: clients.client("dynamodb"), retry_delay=0.01)
    settings = load_settings_text(
        "notify:\n  - {type: console, name: ops, min_severity: info}\n"
        "  - {type: console, name: audit, min_severity: info}\ndelivery: {burst: false}\n",
        "cfg.yaml",
        environ={},
    )
    multi = alerts.multi_rule()
    batch = [multi, alerts.critical_ssh(), alerts.malicious()]
    rules = sum(len(alert.judgements) for alert in batch)
    assert rules == 6
    with Notifier(settings, ledger=ledger) as notifier:
        first = notifier.deliver(batch)
        assert [d.status for d in first] == [DeliveryStatus.DELIVERED] * 6
        assert aws.count("dynamodb:Query") == 3 * 2  # not one per rule (6 * 2)
        assert aws.count("dynamodb:BatchWriteItem") == 3 * 2
        again = notifier.deliver(batch)
        assert [d.status for d in again] == [DeliveryStatus.SKIPPED] * 6
        assert aws.count("dynamodb:Query") == 2 * 3 * 2
        # The same alert seen again with one more rule: only the new rule goes out, still one query each.
        extra = alerts.judgement(alerts.change(event_id=multi.event_id, rule_id="sgr-05", from_port=23, to_port=23,
                                               rule_index=4), alerts.SSH_WORLD)  # fmt: skip
        grown = dataclasses.replace(multi, judgements=(*multi.judgements, extra))
        capsys.readouterr()
        assert [d.status for d in notifier.deliver([grown])] == [DeliveryStatus.DELIVERED] * 2
        assert aws.count("dynamodb:Query") == 2 * 3 * 2 + 2
    printed = capsys.readouterr().err
    assert printed.count("sgr-05") == 2
    assert "sgr-01" not in printed
    assert ledger.sent_rules("ops", multi.alert_id, ("sgr-01", "sgr-05", "sgr-99")) == {"sgr-01", "sgr-05"}
