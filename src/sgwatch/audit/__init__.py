"""Audit trail: a SQLite store of judged changes, deliveries and remediations; history and report.

Public names load on first use so that importing a pure submodule (``state``, ``query``, ``render``)
does not pull in SQLite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sgwatch.lazy import lazy_exports

if TYPE_CHECKING:
    from sgwatch.audit.ledger import SqliteSentLedger
    from sgwatch.audit.query import HistoryFilter
    from sgwatch.audit.store import AuditStore, default_db_path

__all__ = ["AuditStore", "HistoryFilter", "SqliteSentLedger", "default_db_path"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {"AuditStore": "store", "default_db_path": "store", "SqliteSentLedger": "ledger", "HistoryFilter": "query"},
)
