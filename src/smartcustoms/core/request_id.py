"""The id of the request being served, for logs and the ledger's administrative records.

A context variable: set by the web layer for each request (``web.requestlog``), it follows the
request into the thread pool that runs its route and its unit of work, so a log line or an
``admin.*`` ledger record made anywhere below can name the request that caused it. Outside a
request (the CLI, background threads) it is None.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

__all__ = ["current_request_id", "new_request_id", "request_id_var", "sane_request_id"]

request_id_var: ContextVar[str | None] = ContextVar("smartcustoms_request_id", default=None)

# What an incoming X-Request-ID may be to be kept: short, and nothing a log or a terminal
# would read as structure (no spaces, quotes, control characters).
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


def current_request_id() -> str | None:
    return request_id_var.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """``value`` if it is an acceptable request id, else None (the caller makes one)."""
    if value is None or not _SANE.fullmatch(value):
        return None
    return value
