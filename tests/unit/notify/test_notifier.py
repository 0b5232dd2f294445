"""The long-lived Notifier without sockets: secrets kept for a bounded time, one ledger read per alert and
channel, pacing that holds across batches, and the delivery config that tunes them."""

from __future__ import annotations

import json
import logging
import textwrap
from types import ModuleType
from typing import Any

import pytest

from sgwatch.errors import ConfigError, DeliveryError, StoreError
from sgwatch.model import DeliveryStatus
from sgwatch.notify import MemoryLedger, Notifier
from sgwatch.notify.config import parse_notify
from sgwatch.notify.delivery import deliver_alerts
from sgwatch.notify.runtime import Runtime
from sgwatch.notify.secretref import RETRY_STALE, SecretRef, SecretResolver
from sgwatch.settings import Settings, load_settings_text

URL = SecretRef.parse("env:URL")


def settings(text: str = "") -> Settings:
    return load_settings_text(textwrap.dedent(text), "cfg.yaml", environ={})


class Ticks:
    """Monotonic seconds set by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --- secrets: kept for max_age, then read again ------------------------------------------------------------


def test_a_secret_is_kept_for_max_age_then_read_again() -> None:
    environ = {"URL": "https://one.example.invalid/"}
    ticks = Ticks()
    resolver = SecretResolver(environ, monotonic=ticks, max_age=300.0)
    assert resolver.resolve(URL) == "https://one.example.invalid/"
    environ["URL"] = "https://two.example.invalid/"  # rotated
    ticks.now = 299.9
    assert resolver.resolve(URL) == "https://one.example.invalid/"
    ticks.now = 300.0
    assert resolver.resolve(URL) == "https://two.example.invalid/"
    environ["URL"] = "https://three.example.invalid/"
    ticks.now = 599.9  # the age counts from the last read
    assert resolver.resolve(URL) == "https://two.example.invalid/"
    resolver.clear()
    assert resolver.resolve(URL) == "https://three.example.invalid/"


def test_max_age_zero_reads_every_time() -> None:
    environ = {"URL": "a"}
    resolver = SecretResolver(environ, monotonic=Ticks(), max_age=0.0)
    assert resolver.resolve(URL) == "a"
    environ["URL"] = "b"
    assert resolver.resolve(URL) == "b"


def test_a_failed_reread_keeps_the_previous_value_and_retries_later(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="sgwatch.notify")
    environ = {"URL": "https://kept.example.invalid/"}
    ticks = Ticks()
    resolver = SecretResolver(environ, monotonic=ticks, max_age=300.0)
    resolver.resolve(URL)
    del environ["URL"]
    ticks.now = 300.0
    assert resolver.resolve(URL) == "https://kept.example.invalid/"
    (line,) = [json.loads(r.getMessage()) for r in caplog.records]
    assert line["event"] == "secret_refresh_failed"
    assert "env:URL" in line["detail"]
    assert "kept.example" not in caplog.text
    environ["URL"] = "https://fixed.example.invalid/"
    ticks.now = 300.0 + RETRY_STALE - 0.1
    assert resolver.resolve(URL) == "https://kept.example.invalid/"  # not asked again yet
    ticks.now = 300.0 + RETRY_STALE
    assert resolver.resolve(URL) == "https://fixed.example.invalid/"


def test_without_a_previous_value_a_failed_read_raises() -> None:
    with pytest.raises(DeliveryError, match="environment variable URL is not set"):
        SecretResolver({}, monotonic=Ticks()).resolve(URL)
    environ = {"URL": ""}
    with pytest.raises(DeliveryError, match="secret env:URL is empty"):
        SecretResolver(environ, monotonic=Ticks()).resolve(URL)


def test_the_runtime_ages_secrets_on_its_clock_and_forgets_them_when_closed(clock: Any) -> None:
    environ = {"URL": "https://one.example.invalid/"}
    runtime = Runtime(environ=environ, clock=clock, timeout=1.0, secret_max_age=60.0)
    assert runtime.resolve_url("hook", URL) == "https://one.example.invalid/"
    environ["URL"] = "https://two.example.invalid/"
    clock.sleep(59.0)
    assert runtime.resolve_url("hook", URL) == "https://one.example.invalid/"
    runtime.close()
    assert runtime.resolve_url("hook", URL) == "https://two.example.invalid/"
    runtime.close()  # twice is fine


def test_secret_max_age_is_a_delivery_setting() -> None:
    assert parse_notify(settings()).delivery.secret_max_age == 300.0
    assert parse_notify(settings("delivery:\n  secret_max_age: 30\n")).delivery.secret_max_age == 30.0
    with pytest.raises(ConfigError, match=r"cfg.yaml:2: delivery: secret_max_age: expected a number of seconds"):
        parse_notify(settings("delivery:\n  secret_max_age: -1\n"))


# --- the ledger: one read per alert and channel -------------------------------------------------------------


class CountingLedger:
    """A memory ledger counting the reads it is asked for."""

    def __init__(self) -> None:
        self.inner = MemoryLedger()
        self.batches: list[tuple[str, str, tuple[str, ...]]] = []

    def sent_rules(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]:
        self.batches.append((channel, alert_id, rule_keys))
        return self.inner.sent_rules(channel, alert_id, rule_keys)

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None:
        self.inner.mark_sent(channel, alert_id, rule_keys)


def test_delivery_reads_the_ledger_once_per_alert_and_channel(
    alerts: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = settings(
        """
        notify:
          - {type: console, name: ops, min_severity: info}
          - {type: console, name: audit, min_severity: info}
        delivery: {burst: false}
        """
    )
    ledger = CountingLedger()
    batch = [alerts.multi_rule(), alerts.critical_ssh()]  # 4 rules + 1 rule
    with Notifier(cfg, ledger=ledger) as notifier:
        first = notifier.deliver(batch)
        again = notifier.deliver(batch)
    assert [d.status for d in first] == [DeliveryStatus.DELIVERED] * 4
    assert [d.status for d in again] == [DeliveryStatus.SKIPPED] * 4
    asked = [(channel, alert_id, len(keys)) for channel, alert_id, keys in ledger.batches]
    once = [(c, a.alert_id, len(a.judgements)) for c in ("ops", "audit") for a in batch]
    assert asked == once + once
    assert capsys.readouterr().err.count("Alert id: ") == 4


def test_a_failing_batch_read_sends_every_rule(alerts: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    class Locked(CountingLedger):
        def sent_rules(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]:
            raise StoreError("audit.db: database is locked")

    caplog.set_level(logging.ERROR, logger="sgwatch.notify")
    ledger = Locked()
    ledger.mark_sent("console", alerts.multi_rule().alert_id, ("sgr-01",))
    cfg = settings("notify:\n  - {type: console, min_severity: info}\n")
    (delivery,) = deliver_alerts([alerts.multi_rule()], cfg, ledger=ledger)
    assert delivery.status is DeliveryStatus.DELIVERED
    (line,) = [json.loads(r.getMessage()) for r in caplog.records]
    assert (line["event"], line["detail"]) == ("ledger_error", "audit.db: database is locked")


# --- what a Notifier keeps between batches --------------------------------------------------------------------


def test_pacing_holds_across_batches_of_one_notifier(alerts: ModuleType, clock: Any) -> None:
    cfg = settings("notify:\n  - {type: console, rate_limit: 1/2s}\ndelivery: {burst: false}\n")
    first, second, third = alerts.burst(3)
    with Notifier(cfg, clock=clock) as notifier:
        notifier.deliver([first])
        clock.sleep(0.5)
        notifier.deliver([second])
        assert clock.sleeps == [0.5, 1.5]  # the second batch waited for the destination's rate limit
        clock.sleep(5.0)
        notifier.deliver([third])
    assert clock.sleeps == [0.5, 1.5, 5.0]
    # One-shot calls start with no pacing state: the same two batches do not wait.
    clock.sleeps.clear()
    deliver_alerts([first], cfg, clock=clock)
    deliver_alerts([second], cfg, clock=clock)
    assert clock.sleeps == []


def test_the_notifier_remembers_what_it_sent_without_a_ledger(alerts: ModuleType) -> None:
    with Notifier(settings()) as notifier:
        assert [d.status for d in notifier.deliver([alerts.critical_ssh()])] == [DeliveryStatus.DELIVERED]
        assert [d.status for d in notifier.deliver([alerts.critical_ssh()])] == [DeliveryStatus.SKIPPED]


def test_a_closed_notifier_delivers_again(alerts: ModuleType) -> None:
    notifier = Notifier(settings())
    notifier.close()
    assert [d.status for d in notifier.deliver([alerts.critical_ssh()])] == [DeliveryStatus.DELIVERED]
    notifier.close()
    notifier.close()


def test_a_bad_notify_section_fails_when_the_notifier_is_made() -> None:
    with pytest.raises(ConfigError, match=r"cfg.yaml:2: notify\[0\]"):
        Notifier(settings("notify:\n  - type: pager\n"))


def test_send_test_names_unknown_channels(clock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with Notifier(settings("notify:\n  - {type: console, name: ops}\n"), clock=clock) as notifier:
        with pytest.raises(ConfigError, match=r"cfg.yaml: no channel named nope \(channels: ops\)"):
            notifier.send_test(["nope"])
        (delivery,) = notifier.send_test(["ops"])
    assert delivery.status is DeliveryStatus.DELIVERED
    assert "SGWATCH_TEST" in capsys.readouterr().err
