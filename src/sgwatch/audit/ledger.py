"""The notify stage's sent ledger, kept in the audit database."""

from __future__ import annotations

from sgwatch.audit.rows import store_time
from sgwatch.audit.store import AuditStore


class SqliteSentLedger:
    """Which (channel, alert, rules) were already delivered, so replays do not notify twice.

    ``sent_rules`` answers for all the rules of one alert in one query (the notify stage's ``SentLedger``
    contract): an alert that gained a rule since is sent again with that rule. Marking no rules records
    nothing.
    """

    __slots__ = ("_db",)

    def __init__(self, store: AuditStore) -> None:
        self._db = store.db

    def sent_rules(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> frozenset[str]:
        keys = sorted(set(rule_keys))
        if not keys:
            return frozenset()
        marks = ", ".join("?" for _ in keys)
        with self._db.guard("read the sent ledger"):
            rows = self._db.execute(
                "SELECT DISTINCT rule_key FROM sent_alerts WHERE channel = ? AND alert_id = ?"
                f" AND rule_key IN ({marks})",
                (channel, alert_id, *keys),
            ).fetchall()
        return frozenset(str(row[0]) for row in rows)

    def mark_sent(self, channel: str, alert_id: str, rule_keys: tuple[str, ...]) -> None:
        at = store_time(self._db.now())
        rows = [(channel, alert_id, key, at) for key in sorted(set(rule_keys))]
        if not rows:
            return
        with self._db.guard("write the sent ledger"), self._db.transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO sent_alerts (channel, alert_id, rule_key, at) VALUES (?, ?, ?, ?)",
                rows,
            )
