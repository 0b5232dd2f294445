"""The revert log's story of one change, read back from the facts written (in-memory ledger; every durable
ledger: tests/e2e/notify/test_sent_ledger_contract.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sgwatch.model import Action, Actor, Outcome, RemediationStatus, RuleChange
from sgwatch.notify.ledger import MemoryLedger
from sgwatch.runtime.reverts import MAX_ATTEMPTS, RevertLog

CHANGE = RuleChange(event_id="e-1", event_name="AuthorizeSecurityGroupIngress",
                    event_time=datetime(2026, 3, 1, tzinfo=UTC), account_id="111122223333", region="eu-west-1",
                    actor=Actor(), source_ip=None, user_agent=None, outcome=Outcome.SUCCESS, action=Action.ADDED,
                    group_id="sg-1", rule_id="sgr-1", protocol="tcp", from_port=22, to_port=22, peer="0.0.0.0/0")  # fmt: skip


def test_an_attempt_is_unsettled_until_its_outcome_is_recorded() -> None:
    log = RevertLog(MemoryLedger())
    assert not log.state(CHANGE).unsettled
    log.started(CHANGE, 1)
    assert log.state(CHANGE).unsettled
    log.refused(CHANGE, 1)
    assert not log.state(CHANGE).unsettled  # refused: nothing was changed, it may be tried again
    log.started(CHANGE, 2)
    state = log.state(CHANGE)
    assert (state.attempts, state.refused, state.unsettled, state.done) == (2, {1}, True, None)
    log.done(CHANGE, RemediationStatus.RESTORED)
    assert log.state(CHANGE).done is RemediationStatus.RESTORED


def test_the_last_attempt_counted_is_the_last_one_kept() -> None:
    log = RevertLog(MemoryLedger())
    for n in range(1, MAX_ATTEMPTS + 1):
        log.started(CHANGE, n)
        log.refused(CHANGE, n)
    state = log.state(CHANGE)
    assert (state.attempts, state.unsettled) == (MAX_ATTEMPTS, False)


def test_the_facts_are_kept_apart_from_every_alert() -> None:
    ledger = MemoryLedger()
    RevertLog(ledger).done(CHANGE, RemediationStatus.REVERTED)
    assert ledger.sent_rules("webhook", "111122223333:e-1", ("sgr-1", "sgr-1#done:reverted")) == frozenset()
    assert ledger.sent_rules("sgwatch:remediation", "remediation:111122223333:e-1", ("sgr-1#done:reverted",)) == {
        "sgr-1#done:reverted"
    }
