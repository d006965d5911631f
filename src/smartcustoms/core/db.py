"""Database engine and sessions: SQLite (WAL) on one server, PostgreSQL (psycopg 3) when it grows.

Every module gets its connection from :class:`Database`; nothing else creates engines, so the
SQLite pragmas below hold for every connection the product opens.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from smartcustoms.core.checkpoints import DEFAULT_INTERVAL_S, Checkpointer

__all__ = [
    "Database",
    "WriteTurns",
    "core_connection",
    "insert_returning_ids",
    "inserted_ids",
    "table_of",
]

SQLITE_BUSY_TIMEOUT_S = 10.0


def core_connection(session: Session) -> Connection:
    """The session's connection, for Core statements on a hot path (every lodging, every API
    call), where the ORM's layers cost more than the query: what the session holds is flushed
    first, as the session's own ``execute`` would (autoflush), so the query sees it."""
    if session.autoflush:
        session.flush()
    return session.connection()


def table_of(row_class: type) -> Table:
    """The mapped class's table, typed as one (the ORM types ``__table__`` as a bare clause)."""
    return cast(Table, row_class.__table__)  # type: ignore[attr-defined]


def insert_returning_ids(row_class: type) -> Insert:
    """An INSERT into the class's table that hands back the new ids in the order of the rows
    given (``sort_by_parameter_order``: both engines batch a many-row insert, and without it
    the ids' order is not promised). Build it once, at import: building costs more than running."""
    table = table_of(row_class)
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


def inserted_ids(
    session: Session, statement: Insert, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Run an :func:`insert_returning_ids` statement on the session's connection; the new ids,
    one per row, in order."""
    return list(core_connection(session).execute(statement, rows).scalars().all())


# WAL lets readers work while the one writer commits; synchronous=NORMAL is durable across
# process crashes in WAL mode (a power cut may lose the last transactions, never corrupt);
# busy_timeout makes concurrent writers wait instead of failing with "database is locked".
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}",
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


class WriteTurns:
    """This process's SQLite write transactions, one at a time, queued on a lock.

    A deferred transaction that reads, then writes after another connection committed, fails
    at once with "database is locked" (SQLITE_BUSY_SNAPSHOT): busy_timeout cannot help it.
    Write transactions (Database.writer, every session) therefore take SQLite's lock up front
    (BEGIN IMMEDIATE); plain reads stay deferred and never block.

    Two writers of one process must not meet inside SQLite, though: its busy handler polls,
    sleeping 1, 2, 5 … then 100 ms between tries, so a lodging that arrives while the ledger
    sequencer commits can sleep far longer than the commit took (p99 hundreds of ms at
    50 lodgings/s). Queued here, the next writer starts the moment the last one's COMMIT or
    ROLLBACK returns. Other processes still meet this one in SQLite's busy handler.

    The wait for a turn is bounded by the busy timeout; past it (a connection that leaked its
    turn) the writer goes on to SQLite as before. A thread already holding a turn does not
    wait for a second one (it would wait on itself): SQLite decides, as it always did."""

    def __init__(self, wait_s: float) -> None:
        self._lock = threading.Lock()
        # Held by paused() while it waits for the lock: writers queue behind it rather than
        # pass it (a lock is not fair, and a busy thread would take every turn back at once).
        self._gate = threading.Lock()
        self._wait_s = wait_s
        self._held: dict[Any, int] = {}  # DB-API connection -> the thread that began it
        self._books = threading.Lock()  # guards _held

    @staticmethod
    def begin_untracked(conn: Any) -> None:
        """BEGIN as :meth:`begin` would, without taking a turn."""
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    def begin(self, conn: Any) -> None:
        if not conn.get_execution_options().get("sqlite_immediate", False):
            conn.exec_driver_sql("BEGIN")
            return
        me = threading.get_ident()
        with self._books:
            mine = me in self._held.values()
        if not mine and self._gate.acquire(timeout=self._wait_s):
            self._gate.release()
        got = not mine and self._lock.acquire(timeout=self._wait_s)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if got:
                self._lock.release()
            raise
        if got:
            with self._books:
                self._held[conn.connection.dbapi_connection] = me

    @contextmanager
    def paused(self, timeout_s: float) -> Iterator[bool]:
        """Keep this process's writers out for the block, once the current one is done (up to
        ``timeout_s``); yields whether they are out."""
        started = time.monotonic()
        if not self._gate.acquire(timeout=timeout_s):
            yield False
            return
        try:
            got = self._lock.acquire(timeout=max(0.0, timeout_s - (time.monotonic() - started)))
        finally:
            self._gate.release()
        try:
            yield got
        finally:
            if got:
                self._lock.release()

    def end(self, dbapi_conn: Any) -> None:
        # The dialect is handed the pool's proxy of the connection, the pool's events the
        # connection itself.
        dbapi_conn = getattr(dbapi_conn, "dbapi_connection", dbapi_conn)
        with self._books:
            held = self._held.pop(dbapi_conn, None) is not None
        if held:
            self._lock.release()

    def install(self, engine: Engine) -> None:
        """BEGIN through :meth:`begin`; every way a transaction ends — COMMIT, ROLLBACK, the
        pool's reset, a connection closed or invalidated — hands the turn on.

        The COMMIT and ROLLBACK are wrapped on this engine's own dialect instance because
        SQLAlchemy has no Core event *after* either returns (``commit``/``rollback`` events run
        before the driver's call, and the session's ``after_commit`` misses Core connections):
        handing the turn on before SQLite has released its lock would let the next writer meet
        this one in the busy handler, which is what the turns are for."""
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_conn: Any) -> None:
            try:
                commit(dbapi_conn)
            finally:
                self.end(dbapi_conn)

        def do_rollback(dbapi_conn: Any) -> None:
            try:
                rollback(dbapi_conn)
            finally:
                self.end(dbapi_conn)

        dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]
        event.listen(engine, "begin", self.begin)
        event.listen(engine.pool, "close", lambda dbapi_conn, _record: self.end(dbapi_conn))
        event.listen(
            engine.pool, "invalidate", lambda dbapi_conn, _record, _exc: self.end(dbapi_conn)
        )


class Database:
    """An engine and its session factory for one database URL."""

    def __init__(self, url: str, *, echo: bool = False, write_turns: bool = True) -> None:
        """``write_turns=False`` leaves this process's SQLite writers to SQLite's busy handler
        (:class:`WriteTurns` explains why they take turns): for comparison in a benchmark."""
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        self._turns: WriteTurns | None = None
        if self.dialect == "sqlite":
            name = parsed.database
            if name and name != ":memory:" and not name.startswith("file:"):
                _create_private(Path(name))
            kwargs["connect_args"] = {
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_S,
            }
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_on_connect)
            if write_turns:
                self._turns = WriteTurns(wait_s=SQLITE_BUSY_TIMEOUT_S)
                self._turns.install(self.engine)
            else:
                event.listen(self.engine, "begin", WriteTurns.begin_untracked)
        #: The engine for transactions that write: on SQLite they begin IMMEDIATE (see above).
        self.writer: Engine = self.engine.execution_options(sqlite_immediate=True)
        self._sessions = sessionmaker(self.writer, expire_on_commit=False)
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._background: dict[str, ThreadPoolExecutor] = {}
        self._background_lock = threading.Lock()
        self._checkpointer: Checkpointer | None = None

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

    def checkpoint_in_background(self, interval_s: float = DEFAULT_INTERVAL_S) -> bool:
        """Move SQLite's WAL checkpoints off this process's commits onto a thread of their own
        (:mod:`smartcustoms.core.checkpoints` says why); for processes that serve requests.
        Connections open before the call are closed when idle, so that none checkpoints on
        commit any more. False where there is nothing to do (not a SQLite file, or already)."""
        path = make_url(self.url).database
        if not self.is_sqlite or not path or path == ":memory:" or path.startswith("file:"):
            return False
        if self._checkpointer is not None:
            return False
        self._checkpointer = Checkpointer(
            Path(path),
            interval_s=interval_s,
            writers_out=None if self._turns is None else self._turns.paused,
        )

        def no_checkpoint_on_commit(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")

        event.listen(self.engine, "connect", no_checkpoint_on_commit)
        self.engine.dispose()  # idle connections closed; one checked out now is on return
        self._checkpointer.start()
        return True

    def dispose(self) -> None:
        with self._background_lock:
            pools = list(self._background.values())
        for pool in pools:
            pool.shutdown(wait=True, cancel_futures=True)
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.engine.dispose()
