"""Database engine and sessions: SQLite (WAL) on one server, PostgreSQL (psycopg 3) when it grows.

Every module gets its connection from :class:`Database`; nothing else creates engines, so the
SQLite pragmas below hold for every connection the product opens.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database"]

# WAL lets readers work while the one writer commits; synchronous=NORMAL is durable across
# process crashes in WAL mode (a power cut may lose the last transactions, never corrupt);
# busy_timeout makes concurrent writers wait instead of failing with "database is locked".
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-32000",
)


def _create_private(path: Path) -> None:
    """Create the SQLite file 0600, in a directory made 0700 when it is made here, before SQLite
    creates it with the umask's permissions. SQLite gives the ``-wal`` and ``-shm`` files the
    main file's permissions, so they are private too. An existing file is left as it is."""
    if not path.parent.is_dir():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)  # whatever the umask took away
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, 0o600)  # whatever the umask took away


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Python's sqlite3 opens transactions lazily and commits DDL implicitly; turning its own
    # transaction handling off and issuing BEGIN ourselves (below) gives SQLAlchemy real
    # transactions, including for the schema migrations.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    # A deferred transaction that reads, then writes after another connection committed, fails
    # at once with "database is locked" (SQLITE_BUSY_SNAPSHOT): busy_timeout cannot help it.
    # Write transactions (Database.writer, every session) therefore take the lock up front,
    # waiting for it; plain reads stay deferred and never block.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """An engine and its session factory for one database URL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            name = parsed.database
            if name and name != ":memory:" and not name.startswith("file:"):
                _create_private(Path(name))
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
        #: The engine for transactions that write: on SQLite they begin IMMEDIATE (see above).
        self.writer: Engine = self.engine.execution_options(sqlite_immediate=True)
        self._sessions = sessionmaker(self.writer, expire_on_commit=False)
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._background: dict[str, ThreadPoolExecutor] = {}
        self._background_lock = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: on SQLite its transaction is deferred, so it neither
        waits for nor blocks a writer (WAL readers see the last commit). Never write in it:
        it is rolled back at the end, and on SQLite a write could fail as a stale snapshot."""
        with self._readers() as session, session.begin():
            yield session
            session.rollback()

    def display_url(self) -> str:
        """The URL without its password, for logs and the status page."""
        return make_url(self.url).render_as_string(hide_password=True)

    def background(self, name: str) -> ThreadPoolExecutor:
        """One worker thread, by name, for work that uses this database off the request path.
        It is joined first when the database is disposed, so no connection is left open; after
        that, submitting raises ``RuntimeError``."""
        with self._background_lock:
            pool = self._background.get(name)
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
                self._background[name] = pool
            return pool

    def dispose(self) -> None:
        with self._background_lock:
            pools = list(self._background.values())
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
        self.engine.dispose()
