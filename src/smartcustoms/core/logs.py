"""Log output: text for a person at a terminal, or one JSON object a line for a collector.

Every line carries the id of the request it was made in, if any (``core.request_id``); the
web layer's access line (``web.requestlog``) adds the user, roles, route template, method,
status and latency as fields. Nothing here reads a request's headers, cookies or body: a
secret can only reach a log if code puts it in a message, and none does.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from smartcustoms.core.request_id import current_request_id

__all__ = ["JsonFormatter", "TextFormatter", "configure_logging"]

#: Fields the access line sets (``extra=``) that JSON lines carry under these names.
ACCESS_FIELDS = ("user", "roles", "route", "method", "status", "latency_ms", "client")

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class _RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: timestamp (UTC, ISO 8601), level, logger, message, request_id
    and whatever fields the record was given (``extra=``); the exception's trace, if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in line and not key.startswith("_"):
                if key == "color_message":  # uvicorn's coloured copy of the message
                    continue
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``time level logger: message [rid=…]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{text} [rid={request_id}]" if request_id else text


def configure_logging(level: str, fmt: str = "text") -> None:
    """Send every logger's records (uvicorn's too) to standard error in ``fmt``, from ``level``.

    Replaces the root logger's handlers, so calling it again (``serve``, then the app its
    worker builds) changes nothing but the format."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers write through the root handler, in the same format.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
