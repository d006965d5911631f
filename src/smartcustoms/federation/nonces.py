"""The nonces of accepted signed requests: a request is accepted once.

``federation_nonces`` is unique on (key id, nonce). The insert is ``ON CONFLICT DO NOTHING``
in the request's own transaction: of two workers given the same request at once, the
database lets one insert the row and tells the other it inserted nothing (PostgreSQL makes the
second wait for the first's commit; SQLite serialises writers) — that one refuses it as a replay.
Rows expire after twice the clock window (a request older than the window is refused as stale
anyway); each insert deletes a bounded number of expired rows.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.federation.tables import NonceRow

__all__ = ["PRUNE_BATCH", "remember_nonce"]

PRUNE_BATCH = 500


def remember_nonce(session: Session, key_id: str, nonce: str, *, keep: timedelta) -> bool:
    """Record (``key_id``, ``nonce``); False if it was seen already (a replay)."""
    now = clock.now()
    expired = (
        select(NonceRow.id).where(NonceRow.expires_at < now).limit(PRUNE_BATCH).scalar_subquery()
    )
    session.execute(delete(NonceRow).where(NonceRow.id.in_(expired)))
    values = {"key_id": key_id, "nonce": nonce, "expires_at": now + keep}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(NonceRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key_id", "nonce"])
        .returning(NonceRow.id)
    )
    return session.execute(stmt).scalar() is not None
