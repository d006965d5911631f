"""The federation outbox: messages to partners, queued in the transaction of their cause.

:func:`enqueue` writes one ``federation_outbox`` row through the caller's connection, inside
the transaction that makes the change the message reports (a hand-over, a discharge, a batch of
positions forwarded): the change and its message commit together or not at all, so nothing is
lost when the process dies after the commit and nothing is sent for a change rolled back.
The row holds the envelope exactly as it will be sent; its ``message_id`` is the id the
partner's inbox is idempotent on, so sending it again (a crash between the partner's answer
and our marking it delivered) is answered "duplicate" there and processed once.
:mod:`.deliverer` sends the rows.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select

from smartcustoms.core import clock
from smartcustoms.core.queued import QueuedMark
from smartcustoms.federation.tables import PENDING, OutboxRow

__all__ = ["QUEUED", "enqueue", "envelope_text", "outbox_summary", "queue_figures"]

#: Set when this thread's transaction queued a message or positions to forward: its commit
#: wakes the deliverer (:class:`smartcustoms.core.queued.QueuedMark`).
QUEUED = QueuedMark()


def envelope_text(message_id: str, kind: str, body: dict[str, Any]) -> str:
    """The envelope the inbox reads (:mod:`.inbox`), compact JSON (orjson: a batch of
    positions is thousands of values; what it cannot encode, the standard library does)."""
    doc = {"id": message_id, "kind": kind, "body": body}
    try:
        return orjson.dumps(doc).decode()
    except TypeError:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def enqueue(
    conn: Connection,
    partner_id: int,
    kind: str,
    body: dict[str, Any],
    *,
    at: datetime | None = None,
) -> str:
    """Queue ``body`` as a ``kind`` message to partner ``partner_id`` in ``conn``'s open
    transaction; the message id."""
    message_id = str(uuid.uuid4())
    now = at or clock.now()
    conn.execute(
        insert(OutboxRow).values(
            message_id=message_id,
            partner_id=partner_id,
            kind=kind,
            body=envelope_text(message_id, kind, body),
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    QUEUED.mark()
    return message_id


def queue_figures(conn: Connection) -> tuple[int, datetime | None]:
    """How many messages wait to be delivered, and when the oldest of them was queued."""
    count, oldest = conn.execute(
        select(func.count(), func.min(OutboxRow.created_at)).where(OutboxRow.state == PENDING)
    ).one()
    return int(count), oldest


def outbox_summary(conn: Connection) -> list[dict[str, Any]]:
    """Per partner: messages waiting, the oldest one's age and its last error, and how many
    were delivered — what an operator looks at when a partner is down."""
    from smartcustoms.federation.tables import DEAD, DELIVERED, PartnerRow

    now = clock.now()
    found = []
    for pid, name in conn.execute(select(PartnerRow.id, PartnerRow.name).order_by(PartnerRow.name)):
        pending, oldest = conn.execute(
            select(func.count(), func.min(OutboxRow.created_at)).where(
                OutboxRow.partner_id == pid, OutboxRow.state == PENDING
            )
        ).one()
        delivered = conn.scalar(
            select(func.count()).where(OutboxRow.partner_id == pid, OutboxRow.state == DELIVERED)
        )
        set_aside = conn.scalar(
            select(func.count()).where(OutboxRow.partner_id == pid, OutboxRow.state == DEAD)
        )
        head = conn.execute(
            select(
                OutboxRow.kind, OutboxRow.attempts, OutboxRow.last_error, OutboxRow.next_attempt_at
            )
            .where(OutboxRow.partner_id == pid, OutboxRow.state == PENDING)
            .order_by(OutboxRow.id)
            .limit(1)
        ).first()
        found.append(
            {
                "partner": name,
                "pending": int(pending),
                "delivered": int(delivered or 0),
                "set_aside": int(set_aside or 0),
                "oldest_age_s": None
                if oldest is None
                else round(max(0.0, (now - oldest).total_seconds()), 1),
                "head_kind": head.kind if head else None,
                "head_attempts": head.attempts if head else None,
                "last_error": head.last_error if head else None,
                "next_attempt_at": head.next_attempt_at.isoformat() if head else None,
            }
        )
    return found
