"""Structured log lines: a stable ``event=... key=value`` message plus the same fields in ``extra``.

Every line that the transports log goes through :func:`log_event`, so a log shipper can either
parse the message (logfmt) or read the fields off the ``LogRecord`` (a JSON formatter sees
``record.event``, ``record.client``...). Field names never change meaning between releases.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["format_fields", "log_event"]

# Attributes every LogRecord has: extra= must not overwrite them.
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/[]@+")


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    if text and all(ch in _SAFE for ch in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def format_fields(event: str, fields: dict[str, Any]) -> str:
    """``event=connect transport=ws client=1.2.3.4:5``: logfmt, values quoted when needed."""
    return " ".join([f"event={event}", *(f"{key}={_value(val)}" for key, val in fields.items())])


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log one structured line; the fields also travel as ``extra`` attributes."""
    if not logger.isEnabledFor(level):
        return
    clash = _RESERVED.intersection(fields)
    if clash:  # a programming error in livepy itself
        raise ValueError(f"log field names {sorted(clash)} clash with LogRecord attributes")
    logger.log(level, "%s", format_fields(event, fields), extra={"event": event, **fields})
