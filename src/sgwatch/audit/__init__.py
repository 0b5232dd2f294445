"""Audit trail: a SQLite store of judged changes, deliveries and remediations; history and report.

Public names load on first use so that importing a pure submodule (``state``, ``query``, ``render``)
does not pull in SQLite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sgwatch.audit.ledger import SqliteSentLedger
    from sgwatch.audit.query import HistoryFilter
    from sgwatch.audit.store import AuditStore, default_db_path

__all__ = ["AuditStore", "HistoryFilter", "SqliteSentLedger", "default_db_path"]

_EXPORTS = {
    "AuditStore": "sgwatch.audit.store",
    "default_db_path": "sgwatch.audit.store",
    "SqliteSentLedger": "sgwatch.audit.ledger",
    "HistoryFilter": "sgwatch.audit.query",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sgwatch.audit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
