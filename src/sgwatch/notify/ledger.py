"""Which (alert, rule) pairs each channel already received: the exactly-once record.

``SentLedger`` is the port; ``MemoryLedger`` keeps it for one process. A durable ledger (the audit store, the
DynamoDB table) implements the same methods so that a record delivered twice by CloudTrail or a queue, in the
same run or a later one, still yields one message per (event id, rule) per channel. The runtime's revert log
(``sgwatch.runtime.reverts``) keeps what became of each revert in the same ledger, under the channel name
``sgwatch:remediation``, so replays are no-ops wherever the alerts are delivered exactly once.
"""

from __future__ import annotations

from typing import Protocol


class SentLedger(Protocol):
    """Remembers what was delivered, keyed by channel name, ``Alert.alert_id`` and ``RuleChange.rule_key``.

    Contract:

    * ``sent_rules(channel, alert_id, rule_keys)`` is the subset of ``rule_keys`` already marked sent for that
      channel and alert (empty for an empty tuple), answered in one read: delivery asks once per alert and
      channel, and an alert that gained a rule is sent again with the new rule only.
    * ``mark_sent(channel, alert_id, rule_keys)`` records a successful delivery of those rules. It is called
      only after the channel accepted the message, so a crash in between can repeat a message (at least once)
      but never lose one.
    * Either method may raise ``sgwatch.errors.SgwatchError`` (e.g. ``StoreError``); delivery then logs it and
      sends anyway, preferring a duplicate to a lost alert.
    """

    def sent_rules(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]: ...

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None: ...


class MemoryLedger:
    """A ``SentLedger`` kept in memory: exactly once within one process (one scan, one warm Lambda)."""

    __slots__ = ("_sent",)

    def __init__(self) -> None:
        self._sent: set[tuple[str, str, str]] = set()

    def sent_rules(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]:
        return frozenset(key for key in rule_keys if (channel, alert_id, key) in self._sent)

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None:
        self._sent.update((channel, alert_id, key) for key in rule_keys)
