"""Who delivers: one deliverer per database, elected like the ledger sequencer.

The same two mechanisms as :mod:`smartcustoms.ledger.leader` under a name of their own (a
process may be the sequencer and not the deliverer): a ``flock`` on a file beside a SQLite
database, a session advisory lock on PostgreSQL. The kernel or the server releases either when
the process dies, so another process takes over after a kill -9. Two deliverers at once (a
lease lost unnoticed) could only send a message twice, which at-least-once allows.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from smartcustoms.core.db import Database
from smartcustoms.ledger.leader import AdvisoryLease, FileLease, Lease, advisory_key

__all__ = ["InProcessLease", "lease_for"]

_PG_KEY = advisory_key("smartcustoms/webhooks/deliverer")


class InProcessLease:
    """An in-memory SQLite database has one process: it always holds the lease."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


def lease_for(db: Database) -> Lease:
    if db.is_sqlite:
        database = make_url(db.url).database
        if not database or database == ":memory:" or database.startswith("file:"):
            return InProcessLease()
        return FileLease(Path(database + ".webhooks-lock"))
    return AdvisoryLease(db, key=_PG_KEY)
