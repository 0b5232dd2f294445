"""The SentLedger contract (sgwatch.notify.ledger), one test per rule, for every implementation: the in-memory
ledger, the SQLite ledger of the audit store and the DynamoDB ledger (against the session's moto server).

``sent_rules(channel, alert_id, rule_keys)`` is the frozenset of ``rule_keys`` already marked for that channel
and alert; ``mark_sent`` records rules as delivered. What each durable ledger stores is tested beside it
(tests/unit/audit, tests/e2e/runtime/test_dynamodb_ledger.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from sgwatch.audit.ledger import SqliteSentLedger
from sgwatch.audit.store import AuditStore
from sgwatch.notify.dynamodb_ledger import BATCH_SIZE, DynamoSentLedger
from sgwatch.notify.ledger import MemoryLedger, SentLedger

pytestmark = pytest.mark.e2e

AT = datetime(2026, 3, 1, 10, 15, 30, tzinfo=UTC)

Open = Callable[[], SentLedger]  # another handle on the same storage (another process, another container)


def memory(request: pytest.FixtureRequest, tmp_path: Path) -> Open:
    ledger = MemoryLedger()
    return lambda: ledger


def sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Open:
    path = tmp_path / "audit.sqlite"

    def open_one() -> SentLedger:
        store = AuditStore.open(path, now=lambda: AT)
        request.addfinalizer(store.close)
        return SqliteSentLedger(store)

    return open_one


def dynamodb(request: pytest.FixtureRequest, tmp_path: Path) -> Open:
    aws: ModuleType = request.getfixturevalue("support")("support/aws.py")
    endpoint: str = request.getfixturevalue("moto_url")
    table = aws.create_ledger_table(aws.client("dynamodb", endpoint))

    def open_one() -> SentLedger:
        client = aws.client("dynamodb", endpoint)  # its own client, as a separate Lambda container has
        return DynamoSentLedger(table, lambda: client, now=lambda: AT, retry_delay=0.01)

    return open_one


BACKENDS = {"memory": memory, "sqlite": sqlite, "dynamodb": dynamodb}
DURABLE = {"sqlite": sqlite, "dynamodb": dynamodb}


@pytest.fixture(params=list(BACKENDS))
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Open:
    return BACKENDS[request.param](request, tmp_path)


@pytest.fixture
def ledger(opener: Open) -> SentLedger:
    return opener()


def test_only_rules_marked_for_that_channel_and_alert_are_sent(ledger: SentLedger) -> None:
    nothing = ledger.sent_rules("slack", "a:1", ("r1", "r2"))
    assert type(nothing) is frozenset
    assert nothing == frozenset()
    ledger.mark_sent("slack", "a:1", ("r2", "r1"))
    found = ledger.sent_rules("slack", "a:1", ("r1", "r2"))
    assert type(found) is frozenset
    assert found == {"r1", "r2"}
    assert ledger.sent_rules("slack", "a:1", ("r1",)) == {"r1"}
    assert ledger.sent_rules("slack", "a:1", ("r1", "r2", "r3")) == {"r1", "r2"}  # a new rule: only it is unsent
    assert ledger.sent_rules("slack", "a:1", ("r1", "r3", "r1")) == {"r1"}  # a key asked twice
    assert ledger.sent_rules("teams", "a:1", ("r1", "r2")) == frozenset()  # per channel
    assert ledger.sent_rules("slack", "a:2", ("r1", "r2")) == frozenset()  # per alert


def test_marking_again_and_repeated_keys_change_nothing(ledger: SentLedger) -> None:
    ledger.mark_sent("slack", "a:1", ("r1", "r2"))
    ledger.mark_sent("slack", "a:1", ("r1", "r2"))  # idempotent
    assert ledger.sent_rules("slack", "a:1", ("r1", "r2")) == {"r1", "r2"}
    ledger.mark_sent("slack", "a:1", ("r3", "r3"))
    assert ledger.sent_rules("slack", "a:1", ("r3", "r1", "r4")) == {"r1", "r3"}


def test_no_rules_asked_none_sent_and_marking_none_records_nothing(ledger: SentLedger) -> None:
    ledger.mark_sent("slack", "a:1", ("r1",))
    assert ledger.sent_rules("slack", "a:1", ()) == frozenset()
    ledger.mark_sent("slack", "a:3", ())
    assert ledger.sent_rules("slack", "a:3", ()) == frozenset()
    assert ledger.sent_rules("slack", "a:3", ("r1",)) == frozenset()
    assert ledger.sent_rules("slack", "a:3", ("",)) == frozenset()


def test_the_empty_rule_key_is_a_key_like_any_other(ledger: SentLedger) -> None:
    ledger.mark_sent("slack", "a:3", ("",))
    assert ledger.sent_rules("slack", "a:3", ("", "r1")) == {""}
    assert ledger.sent_rules("slack", "a:4", ("",)) == frozenset()


def test_many_rules_at_once(ledger: SentLedger) -> None:
    """More rules than one DynamoDB batch write holds, read back in one call."""
    keys = tuple(f"authorize|sg-1|ingress|tcp|{port}|{port}|0.0.0.0/0|" for port in range(1, 2 * BATCH_SIZE + 11))
    ledger.mark_sent("webhook", "evt-big", keys)
    assert ledger.sent_rules("webhook", "evt-big", keys) == set(keys)
    assert ledger.sent_rules("webhook", "evt-big", keys[57:]) == set(keys[57:])
    assert ledger.sent_rules("webhook", "evt-big", (*keys, "sgr-extra")) == set(keys)


@pytest.mark.parametrize("backend", list(DURABLE))
def test_another_handle_sees_what_one_marked(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Two processes (two Lambda containers) sharing one database or table."""
    opener = DURABLE[backend](request, tmp_path)
    first, second = opener(), opener()
    assert second.sent_rules("pagerduty", "evt-9", ("sgr-a", "sgr-b")) == frozenset()
    first.mark_sent("pagerduty", "evt-9", ("sgr-a",))
    assert second.sent_rules("pagerduty", "evt-9", ("sgr-a", "sgr-b")) == {"sgr-a"}
    second.mark_sent("pagerduty", "evt-9", ("sgr-b",))
    assert first.sent_rules("pagerduty", "evt-9", ("sgr-a", "sgr-b")) == {"sgr-a", "sgr-b"}
    assert opener().sent_rules("pagerduty", "evt-9", ("sgr-b", "sgr-c")) == {"sgr-b"}  # and one opened later


def test_revert_facts_live_beside_the_alerts_and_are_seen_by_another_handle(opener: Open) -> None:
    """The revert log (sgwatch.runtime.reverts) keeps its facts in the same ledger, apart from any alert: two
    containers agree on what became of a revert, and no channel's record is touched."""
    import dataclasses

    from sgwatch.model import Action, Actor, Outcome, RemediationStatus, RuleChange
    from sgwatch.runtime.reverts import RevertLog

    change = RuleChange(event_id="evt-7", event_name="AuthorizeSecurityGroupIngress", event_time=AT,
                        account_id="111122223333", region="eu-west-1", actor=Actor(), source_ip=None, user_agent=None,
                        outcome=Outcome.SUCCESS, action=Action.ADDED, group_id="sg-1", protocol="tcp", from_port=22,
                        to_port=22, peer="0.0.0.0/0")  # fmt: skip
    first, second = RevertLog(opener()), RevertLog(opener())
    assert (first.state(change).attempts, first.state(change).done) == (0, None)
    first.started(change, 1)
    first.refused(change, 1)
    first.started(change, 2)
    seen = second.state(change)
    assert (seen.attempts, seen.refused, seen.unsettled) == (2, {1}, True)
    second.done(change, RemediationStatus.REVERTED)
    assert first.state(change).done is RemediationStatus.REVERTED
    other = dataclasses.replace(change, event_id="evt-8")
    assert second.state(other).attempts == 0  # per event and rule
    ledger = opener()
    assert ledger.sent_rules("webhook", "111122223333:evt-7", (change.rule_key,)) == frozenset()
