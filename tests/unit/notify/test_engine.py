"""run_jobs keeps one channel's failure to resolve its destination away from the other channels."""

from __future__ import annotations

import json
import logging
import random
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from sgwatch.errors import DeliveryError
from sgwatch.model import DeliveryStatus
from sgwatch.notify.config import ConsoleConfig, SlackConfig
from sgwatch.notify.console import ConsoleSender
from sgwatch.notify.engine import run_jobs
from sgwatch.notify.outcome import Attempt, Delivered, Message, message_id
from sgwatch.notify.runtime import Runtime
from sgwatch.notify.secretref import SecretRef
from sgwatch.notify.tuning import DeliveryConfig


class UnparsableDestination:
    """An adapter whose destination is a URL the standard library cannot split."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent: list[Message] = []

    @property
    def name(self) -> str:
        return "hooks"

    def destination(self) -> str:
        return f"hooks:{urlsplit(self.url).hostname}"

    def send(self, message: Message) -> Attempt:
        self.sent.append(message)
        return Delivered(detail="sent")


def test_an_unexpected_destination_error_fails_only_its_channel(
    alerts: ModuleType, clock: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="sgwatch.notify")
    runtime = Runtime(environ={}, clock=clock, timeout=1.0)
    broken_channel = SlackConfig(name="hooks", type="slack", url=SecretRef(kind="env", ref="HOOK"))
    console_channel = ConsoleConfig(name="console", type="console")
    broken = UnparsableDestination("https://[oops/x")
    batch = [alerts.critical_ssh(), alerts.multi_rule()]
    outcomes = run_jobs(
        [(broken_channel, broken, batch), (console_channel, ConsoleSender(console_channel, runtime), batch)],
        DeliveryConfig(),
        runtime,
        rng=random.Random(1),
        on_delivered=lambda _c, _m: None,
    )
    final = [(o.channel.name, message_id(o.message), o.status, o.attempts) for o in outcomes]
    assert final == [
        ("hooks", batch[0].alert_id, DeliveryStatus.FAILED, 0),
        ("hooks", batch[1].alert_id, DeliveryStatus.FAILED, 0),
        ("console", batch[0].alert_id, DeliveryStatus.DELIVERED, 1),
        ("console", batch[1].alert_id, DeliveryStatus.DELIVERED, 1),
    ]
    assert outcomes[0].detail == (
        "not sent: internal error in the slack adapter while resolving the destination: ValueError: Invalid IPv6 URL"
    )
    assert broken.sent == []
    printed = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Alert id: ")]
    assert printed == [f"Alert id: {alert.alert_id}" for alert in batch]
    (logged,) = [r for r in caplog.records if '"adapter_error"' in r.getMessage()]
    assert logged.exc_info is not None
    assert json.loads(logged.getMessage()) == {
        "channel": "hooks",
        "detail": "ValueError: Invalid IPv6 URL",
        "event": "adapter_error",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://[oops/x", r"env:URL does not hold a valid http\(s\) URL \(it cannot be parsed; check the host"),
        ("https://[secret-host]/x", r"env:URL does not hold a valid http\(s\) URL \(it cannot be parsed"),
        ("ftp://host.invalid/x", r"env:URL does not hold an http\(s\) URL"),
    ],
)
def test_resolve_url_turns_bad_values_into_delivery_errors(clock: Any, value: str, expected: str) -> None:
    runtime = Runtime(environ={"URL": value}, clock=clock, timeout=1.0)
    with pytest.raises(DeliveryError, match=expected) as info:
        runtime.resolve_url("hooks", SecretRef(kind="env", ref="URL"))
    assert value not in str(info.value)
    assert "secret-host" not in str(info.value)
