"""Structured JSON log lines for the runtime (Lambda, ``watch``): one object per line on stdout.

``log_event(level, "event", key=value, ...)`` writes ``{"time", "level", "logger", "event", ...}``. Lines
other stages log as JSON text (``sgwatch.notify``) are merged, not double-encoded.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

LOGGER_NAME = "sgwatch.runtime"
log = logging.getLogger(LOGGER_NAME)
_FIELDS = "sgwatch_fields"


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object; ``context`` fields (e.g. the Lambda request id) go on every line."""

    def __init__(self) -> None:
        super().__init__()
        self.context: dict[str, Any] = {}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        line.update(self.context)
        fields = getattr(record, _FIELDS, None)
        if isinstance(fields, Mapping):
            line.update(fields)
        else:
            message = record.getMessage()
            parsed = _json_object(message)
            if parsed is None:
                line["message"] = message
            else:
                line.update(parsed)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class _StdHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` / ``sys.stderr`` is at the time of each line."""

    def __init__(self, use_stderr: bool) -> None:
        super().__init__()
        self.use_stderr = use_stderr

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr if self.use_stderr else sys.stdout
        super().emit(record)


def configure_logging(level: str | int = "INFO", stream: IO[str] | None = None) -> JsonFormatter:
    """Send every ``sgwatch.*`` logger to stdout (or ``sys.stderr`` / another ``stream``) as JSON lines.

    Idempotent (the first call's destination stays); returns the formatter, whose ``context`` is added to
    every line.
    """
    root = logging.getLogger("sgwatch")
    for existing in root.handlers:
        if isinstance(existing.formatter, JsonFormatter):
            root.setLevel(level)
            return existing.formatter
    handler: logging.Handler
    if stream is None or stream is sys.stdout or stream is sys.stderr:
        handler = _StdHandler(use_stderr=stream is sys.stderr)
    else:
        handler = logging.StreamHandler(stream)
    formatter = JsonFormatter()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False  # the Lambda runtime's root handler would print every line a second time
    return formatter


def log_event(level: int, event: str, *, exc: BaseException | None = None, **fields: Any) -> None:
    """Log one structured event (None fields left out); ``exc`` adds its traceback."""
    if log.isEnabledFor(level):
        payload = {"event": event, **{k: v for k, v in fields.items() if v is not None}}
        log.log(level, event, extra={_FIELDS: payload}, exc_info=exc)
