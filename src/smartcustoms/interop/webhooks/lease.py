"""Who delivers: one deliverer per database, elected like the ledger sequencer.

The same two mechanisms as :mod:`smartcustoms.ledger.leader` under a name of their own (a
process may be the sequencer and not the deliverer): a ``flock`` on a file beside a SQLite
database, a session advisory lock on PostgreSQL. The kernel or the server releases either when
the process dies, so another process takes over after a kill -9. Two deliverers at once (a
lease lost unnoticed) could only send a message twice, which at-least-once allows.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from smartcustoms.core.db import Database
from smartcustoms.ledger.leader import FileLease, Lease

__all__ = ["InProcessLease", "WebhookAdvisoryLease", "lease_for"]

_PG_KEY = int.from_bytes(hashlib.sha256(b"smartcustoms/webhooks/deliverer").digest()[:8], "big")
_PG_KEY -= (1 << 64) if _PG_KEY >= 1 << 63 else 0


class InProcessLease:
    """An in-memory SQLite database has one process: it always holds the lease."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


class WebhookAdvisoryLease:
    """A PostgreSQL session advisory lock on a connection of its own (detached from the pool,
    see :class:`smartcustoms.ledger.leader.AdvisoryLease` for why)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return self.still_held()
        conn = self._db.engine.connect()
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_KEY}).scalar()
            )
            conn.commit()
        except DBAPIError:
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        conn.detach()
        self._conn = conn
        return True

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
        except DBAPIError:
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(DBAPIError):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_KEY})
                self._conn.commit()
            with contextlib.suppress(DBAPIError):
                self._conn.close()
            self._conn = None


def lease_for(db: Database) -> Lease:
    if db.is_sqlite:
        database = make_url(db.url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return InProcessLease()
        return FileLease(Path(database + ".webhooks-lock"))
    return WebhookAdvisoryLease(db)
