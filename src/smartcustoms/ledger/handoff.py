"""The queue table the sequencer drains: appends from processes that are not the sequencer, and
the transactional outbox (records queued in the same transaction as the change they record,
see :mod:`.outbox`).

A process that does not hold the sequencer lease (another web worker, a CLI command while the
server runs, a second replica) commits its entries to ``ledger_pending`` — from then on they
survive a crash — and waits. The sequencer reads that table on every pass, stores the entries
in the tree and, in the same transaction, writes each one's index back into its pending row.
The waiter reads the indexes and deletes its rows. Rows of waiters that died are removed by
the sequencer after :data:`STALE_AFTER`.

If no sequencer takes the entries within the timeout the caller gets ServiceUnavailable, but the
entries stay queued and are stored when a sequencer next runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.core.errors import ServiceUnavailable
from smartcustoms.ledger.tables import LedgerPending

__all__ = [
    "STALE_AFTER",
    "assign",
    "hand_off",
    "purge_stale",
    "queue_entries",
    "take_pending",
    "wait_stored",
]

STALE_AFTER = timedelta(hours=1)


def queue_entries(conn: Connection, entries: Sequence[bytes]) -> list[int]:
    """Queue ``entries`` for the sequencer in the caller's open transaction; return their queue
    ids. They are durable, and will be stored in the tree, once that transaction commits."""
    now = clock.now()
    return list(
        conn.execute(
            insert(LedgerPending).returning(LedgerPending.id, sort_by_parameter_order=True),
            [{"data": e, "created_at": now} for e in entries],
        ).scalars()
    )


def hand_off(db: Database, entries: Sequence[bytes], *, timeout: float) -> list[int]:
    """Queue ``entries`` for the sequencer, durably, and return their indexes once stored.

    Raises ServiceUnavailable after ``timeout`` seconds without a sequencer.
    """
    with db.writer.begin() as conn:
        ids = queue_entries(conn, entries)
    return wait_stored(db, ids, timeout=timeout)


def wait_stored(
    db: Database, ids: Sequence[int], *, timeout: float, forget: bool = True
) -> list[int]:
    """Wait until the sequencer has stored the queued ``ids``; return their indexes. With
    ``forget`` the queue rows are deleted once read (else the sequencer purges them later).

    Raises ServiceUnavailable after ``timeout`` seconds without a sequencer; the entries stay
    queued and are stored when a sequencer next runs.
    """
    ids = list(ids)
    deadline = time.monotonic() + timeout
    pause = 0.002
    while True:
        with db.engine.connect() as conn:  # a plain read: polling must not take the write lock
            query = select(LedgerPending.id, LedgerPending.idx).where(
                LedgerPending.id.in_(ids), LedgerPending.idx.is_not(None)
            )
            got = {int(pid): int(idx) for pid, idx in conn.execute(query) if idx is not None}
        if len(got) == len(ids):
            if forget:
                with db.writer.begin() as conn:
                    conn.execute(delete(LedgerPending).where(LedgerPending.id.in_(ids)))
            return [got[i] for i in ids]
        if time.monotonic() > deadline:
            raise ServiceUnavailable(
                f"no ledger sequencer stored the entry within {timeout:g} s; it is queued and "
                "will be stored when the sequencer runs",
                code="ledger_unavailable",
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


# Built once: the sequencer asks twenty times a second, and building the statement cost more
# than running it on an empty queue.
_PENDING = (
    select(LedgerPending.id, LedgerPending.data)
    .where(LedgerPending.idx.is_(None))
    .order_by(LedgerPending.id)
    .limit(bindparam("limit"))
)


def take_pending(conn: Connection, limit: int) -> list[tuple[int, bytes]]:
    """Return up to ``limit`` queued ``(id, entry)`` not yet stored, oldest first."""
    return [(int(i), bytes(d)) for i, d in conn.execute(_PENDING, {"limit": limit})]


def assign(conn: Connection, ids: Sequence[int], first_index: int) -> None:
    """Record, in the sequencer's write transaction, that queued ``ids`` got consecutive
    indexes from ``first_index``."""
    if ids:
        conn.execute(
            update(LedgerPending)
            .where(LedgerPending.id == bindparam("pid"))
            .values(idx=bindparam("new_idx")),
            [{"pid": pid, "new_idx": first_index + n} for n, pid in enumerate(ids)],
        )


def purge_stale(conn: Connection) -> int:
    """Delete stored rows whose waiter never came back for them; return how many."""
    cutoff = clock.now() - STALE_AFTER
    result = conn.execute(
        delete(LedgerPending).where(
            LedgerPending.idx.is_not(None), LedgerPending.created_at < cutoff
        )
    )
    return int(result.rowcount)
