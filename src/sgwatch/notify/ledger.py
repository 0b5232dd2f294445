"""Which (alert, rule) pairs each channel already received: the exactly-once record.

``SentLedger`` is the port; ``MemoryLedger`` keeps it for one process. A durable ledger (the audit store, the
DynamoDB table) implements the same methods so that a record delivered twice by CloudTrail or a queue, in the
same run or a later one, still yields one message per (event id, rule) per channel. A ledger that can also
answer for every rule of an alert at once (``BatchSentLedger``) is asked once per alert and channel.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class SentLedger(Protocol):
    """Remembers what was delivered, keyed by channel name, ``Alert.alert_id`` and ``RuleChange.rule_key``.

    Contract:

    * ``already_sent(channel, alert_id, rule_keys)`` is True when *every* key in ``rule_keys`` was marked
      sent for that channel and alert (an empty tuple is never "already sent").
    * ``mark_sent(channel, alert_id, rule_keys)`` records a successful delivery of those rules. It is called
      only after the channel accepted the message, so a crash in between can repeat a message (at least once)
      but never lose one.
    * Either method may raise ``sgwatch.errors.SgwatchError`` (e.g. ``StoreError``); delivery then logs it and
      sends anyway, preferring a duplicate to a lost alert.

    Delivery asks per rule, so an alert that gains a rule is sent again with the new rule only.
    """

    def already_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> bool: ...

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None: ...


@runtime_checkable
class BatchSentLedger(SentLedger, Protocol):
    """A ``SentLedger`` that answers for all the rules of one alert in one read.

    ``sent_rules(channel, alert_id, rule_keys)`` is the subset of ``rule_keys`` already marked sent for that
    channel and alert (empty for an empty tuple); it may raise ``SgwatchError`` like the other methods.
    """

    def sent_rules(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]: ...


def sent_rules(ledger: SentLedger, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]:
    """The rules of ``rule_keys`` already sent: one question when the ledger can batch, else one per rule."""
    if isinstance(ledger, BatchSentLedger):
        return ledger.sent_rules(channel, alert_id, rule_keys)
    return frozenset(key for key in dict.fromkeys(rule_keys) if ledger.already_sent(channel, alert_id, (key,)))


class MemoryLedger:
    """A ``BatchSentLedger`` kept in memory: exactly once within one process (one scan, one warm Lambda)."""

    __slots__ = ("_sent",)

    def __init__(self) -> None:
        self._sent: set[tuple[str, str, str]] = set()

    def already_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> bool:
        return bool(rule_keys) and all((channel, alert_id, key) in self._sent for key in rule_keys)

    def sent_rules(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]:
        return frozenset(key for key in rule_keys if (channel, alert_id, key) in self._sent)

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None:
        self._sent.update((channel, alert_id, key) for key in rule_keys)
