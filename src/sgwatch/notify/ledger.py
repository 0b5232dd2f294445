"""Which (alert, rule) pairs each channel already received: the exactly-once record.

``SentLedger`` is the port; ``MemoryLedger`` keeps it for one process. A durable ledger (the audit store)
implements the same two methods so that a record delivered twice by CloudTrail or a queue, in the same run
or a later one, still yields one message per (event id, rule) per channel.
"""

from __future__ import annotations

from typing import Protocol


class SentLedger(Protocol):
    """Remembers what was delivered, keyed by channel name, ``Alert.alert_id`` and ``RuleChange.rule_key``.

    Contract:

    * ``already_sent(channel, alert_id, rule_keys)`` is True when *every* key in ``rule_keys`` was marked
      sent for that channel and alert (an empty tuple is never "already sent"). Delivery asks one key at a
      time, so an alert that gains a rule is sent again with the new rule only.
    * ``mark_sent(channel, alert_id, rule_keys)`` records a successful delivery of those rules. It is called
      only after the channel accepted the message, so a crash in between can repeat a message (at least once)
      but never lose one.
    * Either method may raise ``sgwatch.errors.SgwatchError`` (e.g. ``StoreError``); delivery then logs it and
      sends anyway, preferring a duplicate to a lost alert.
    """

    def already_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> bool: ...

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None: ...


class MemoryLedger:
    """A ``SentLedger`` kept in memory: exactly once within one process (one scan, one warm Lambda)."""

    __slots__ = ("_sent",)

    def __init__(self) -> None:
        self._sent: set[tuple[str, str, str]] = set()

    def already_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> bool:
        return bool(rule_keys) and all((channel, alert_id, key) in self._sent for key in rule_keys)

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None:
        self._sent.update((channel, alert_id, key) for key in rule_keys)
