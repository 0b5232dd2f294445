"""Structured log lines: one JSON object per line on the ``sgwatch.notify`` logger. Never holds secrets."""

from __future__ import annotations

import json
import logging
from typing import Any

LOGGER_NAME = "sgwatch.notify"
log = logging.getLogger(LOGGER_NAME)


def emit(level: int, event: str, *, exc_info: bool = False, **fields: Any) -> None:
    """Log ``{"event": …, **fields}`` as one JSON line (keys sorted, None fields left out)."""
    if not log.isEnabledFor(level):
        return
    record = {"event": event, **{k: v for k, v in fields.items() if v is not None}}
    log.log(level, "%s", json.dumps(record, sort_keys=True, ensure_ascii=False, default=str), exc_info=exc_info)
