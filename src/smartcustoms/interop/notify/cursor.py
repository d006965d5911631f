"""The notifier's place in the ledger: the index of the next record to read.

The ledger is the one ordered, durable journal of everything that happened, written in the
same transaction as each change by every process (web workers, the device listeners, the
CLI). Reading it with a cursor therefore sees every event whichever process made it. The
cursor moves in the transaction that queues the notifications its records call for, so a
crash either leaves both or neither (at-least-once reading, exactly-once queuing thanks to
each notification's unique key).
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from smartcustoms.core import clock
from smartcustoms.interop.notify.tables import NotifyCursor
from smartcustoms.ledger.store import read_tree_head

__all__ = ["CURSOR", "ensure_cursor", "lock_cursor", "move_cursor"]

CURSOR = "ledger"


def ensure_cursor(conn: Connection) -> int:
    """The cursor's position, created at the ledger's current size if it did not exist."""
    position = conn.execute(
        select(NotifyCursor.position).where(NotifyCursor.name == CURSOR)
    ).scalar()
    if position is not None:
        return int(position)
    size = read_tree_head(conn).size
    conn.execute(insert(NotifyCursor).values(name=CURSOR, position=size, updated_at=clock.now()))
    return size


def lock_cursor(conn: Connection) -> int | None:
    """The cursor's position, locked until the transaction ends (PostgreSQL ``FOR UPDATE``;
    SQLite's write transaction already excludes other writers). None before any rule exists."""
    position = conn.execute(
        select(NotifyCursor.position).where(NotifyCursor.name == CURSOR).with_for_update()
    ).scalar()
    return None if position is None else int(position)


def move_cursor(conn: Connection, old: int, new: int) -> bool:
    """Compare-and-set: False if another notifier moved it meanwhile."""
    result = conn.execute(
        update(NotifyCursor)
        .where(NotifyCursor.name == CURSOR, NotifyCursor.position == old)
        .values(position=new, updated_at=clock.now())
    )
    return result.rowcount == 1
