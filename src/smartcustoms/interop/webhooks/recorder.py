"""The webhook outbox writer: a second recorder on the event bus.

Called inside the transaction that made the events, before it commits (like the ledger's
recorder), it writes one ``webhook_deliveries`` row per (matching event, interested
subscription) through that transaction's connection. The decision and its deliveries therefore
commit together or not at all, and the row ids give the commit order of each subject.

The recorder never talks to a receiver: lodging costs one batched insert, whatever state the
receivers are in. The active subscriptions are read through the same connection and cached for
:data:`CACHE_SECONDS`; this process forgets the cache at once when it changes a subscription,
other processes see the change within that time.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from smartcustoms.core.events import Event
from smartcustoms.core.queued import QueuedMark
from smartcustoms.interop.webhooks.catalogue import CATALOGUE, match
from smartcustoms.interop.webhooks.tables import PENDING, WebhookDelivery, WebhookSubscription

__all__ = ["CACHE_SECONDS", "QUEUED", "WebhookRecorder", "new_message_id", "payload_of"]

CACHE_SECONDS = 1.0

#: Set when this thread's transaction queued a delivery: its commit wakes the deliverer
#: (:class:`smartcustoms.core.queued.QueuedMark`; kept per thread, like the partners' outbox's).
QUEUED = QueuedMark()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def payload_of(name: str, subject: str, event: Event, data: dict[str, Any]) -> str:
    """The body sent (and signed), in the Standard Webhooks shape: ``type``, ``timestamp``,
    ``data``, plus the ``subject`` order is kept for."""
    body = {"type": name, "timestamp": event.at.isoformat(), "subject": subject, "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


class WebhookRecorder:
    def __init__(self, cache_seconds: float = CACHE_SECONDS) -> None:
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._subscriptions: list[tuple[int, frozenset[str]]] = []
        self._expires = 0.0

    def invalidate(self) -> None:
        with self._lock:
            self._expires = 0.0

    def _active(self, conn: Connection) -> list[tuple[int, frozenset[str]]]:
        now = time.monotonic()
        with self._lock:
            if now < self._expires:
                return self._subscriptions
        query = select(WebhookSubscription.id, WebhookSubscription.event_types).where(
            WebhookSubscription.active.is_(True)
        )
        subs = [(int(i), frozenset(json.loads(t))) for i, t in conn.execute(query)]
        with self._lock:
            self._subscriptions, self._expires = subs, now + self._cache_seconds
        return subs

    def __call__(self, conn: Connection, events: Sequence[Event]) -> None:
        # Cheap tests first: most transactions carry no event that goes out.
        candidates = [e for e in events if e.type in CATALOGUE or e.type == "admin.action"]
        if not candidates:
            return
        subs = self._active(conn)
        if not subs:
            return
        rows: list[dict[str, Any]] = []
        for event in candidates:
            found = match(event.type, vars(event))
            if found is None:
                continue
            name, subject, data = found
            wanted = [sid for sid, types in subs if name in types]
            if not wanted:
                continue
            payload = payload_of(name, subject, event, data)
            for sid in wanted:
                rows.append(
                    {
                        "subscription_id": sid,
                        "message_id": new_message_id(),
                        "event_type": name,
                        "subject": subject[:128],
                        "payload": payload,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": event.at,
                        "created_at": event.at,
                    }
                )
        if rows:
            conn.execute(insert(WebhookDelivery), rows)
            QUEUED.mark()
