"""Who is the sequencer: one lease per database, held by at most one ledger at a time.

* PostgreSQL: a session-level advisory lock, held on a connection the lease keeps open. If the
  process dies or the connection drops, the server releases it.
* SQLite: an exclusive ``flock`` on a file beside the database. SQLite databases are local
  files, so every process that can write the database can take the lock; the kernel releases
  it when the process dies.

A lease is only a way to elect; it is not what keeps the tree safe. Every write also moves the
stored tree head from the size the writer knew (see :mod:`smartcustoms.ledger.store`), so a
sequencer that lost its lease without noticing fails its next write instead of forking the log.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from smartcustoms.core.db import Database

__all__ = [
    "AdvisoryLease",
    "FileLease",
    "Lease",
    "advisory_key",
    "lease_for",
]


def advisory_key(name: str) -> int:
    """A PostgreSQL advisory-lock key (a signed 64-bit integer) fixed by a name nobody else
    uses: each lease of the product (the sequencer, the webhook deliverer …) has its own."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
    return key - (1 << 64) if key >= 1 << 63 else key


_PG_KEY = advisory_key("smartcustoms/ledger/sequencer")


class Lease(Protocol):
    def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; return whether this lease now holds it."""
        ...

    def still_held(self) -> bool:
        """Whether the lease is still held (a cheap check, made before each write)."""
        ...

    def release(self) -> None: ...


class FileLease:
    """An exclusive ``flock`` on ``path`` (SQLite)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class AdvisoryLease:
    """A PostgreSQL session advisory lock on a connection of its own.

    Once the lock is taken, the connection is detached from the engine's pool: it is the
    lease's alone, so ``release`` closes it instead of returning it to a pool (a pooled
    connection that still held the lock, had the unlock failed, would hand the lease to
    whatever borrowed it next), and disposing of the engine while the lease is held (a
    restore does, to drop connections that knew the old tables) neither closes it under the
    lease nor leaves it open, orphaned, in the discarded pool.
    """

    def __init__(self, db: Database, key: int = _PG_KEY) -> None:
        self._db = db
        self._key = key  # the sequencer's unless another lease names its own
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return self.still_held()
        conn = self._db.engine.connect()
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar()
            )
            conn.commit()  # a session lock outlives the transaction; don't sit idle in one
        except DBAPIError:
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        conn.detach()  # the lease's own connection from now on (see the class documentation)
        self._conn = conn
        return True

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
        except DBAPIError:
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                self._conn.commit()
            except DBAPIError:
                pass  # the connection is gone, and the lock with it
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(DBAPIError):
                self._conn.close()
            self._conn = None


def lease_for(db: Database) -> Lease:
    """The sequencer lease for ``db``."""
    if db.is_sqlite:
        database = make_url(db.url).database
        if not database or database == ":memory:":
            raise ValueError("the ledger needs a SQLite file, not an in-memory database")
        return FileLease(Path(database + ".ledger-lock"))
    return AdvisoryLease(db)
