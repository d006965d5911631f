"""SQLite writers of one process take turns on a lock (``WriteTurns``), not in SQLite's busy
handler, whose sleeps grow to 100 ms: the next writer begins as soon as the last one ends,
however that transaction ends, and nothing can leave the others waiting for good."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from smartcustoms.core.db import Database, WriteTurns


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'turns.db'}")
    with database.session() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    yield database
    database.dispose()


def engine_with(tmp_path: Path, turns: WriteTurns, busy_ms: int) -> Engine:
    """A SQLite engine of its own with ``turns`` installed and SQLite's own busy timeout short."""
    engine = create_engine(
        f"sqlite:///{tmp_path / 'own.db'}", connect_args={"check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute(f"PRAGMA busy_timeout={busy_ms}")

    turns.install(engine)
    with engine.execution_options(sqlite_immediate=True).begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    return engine


def handoff_delay(db: Database, hold_s: float) -> float:
    """How long a second writer begins after the first, held ``hold_s``, commits."""
    holding, committed_at, began_at = threading.Event(), [0.0], [0.0]

    def second() -> None:
        holding.wait()
        with db.writer.begin() as conn:
            began_at[0] = time.perf_counter()
            conn.execute(text("INSERT INTO t VALUES (2)"))

    thread = threading.Thread(target=second)
    thread.start()
    with db.writer.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        holding.set()
        time.sleep(hold_s)
    committed_at[0] = time.perf_counter()
    thread.join(timeout=15)
    assert began_at[0] > 0, "the second writer never began"
    return began_at[0] - committed_at[0]


def test_the_next_writer_begins_as_soon_as_the_last_commits(db: Database) -> None:
    # SQLite's busy handler retries 1, 3, 8 … 628, 728 ms after the first try: a writer held
    # 0.64 s would let the second begin some 85 ms after its commit. Taking turns, at once.
    delays = [handoff_delay(db, 0.64) for _ in range(3)]
    assert sum(delays) / len(delays) < 0.03, delays
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 6


def test_a_rolled_back_or_failed_transaction_hands_the_turn_on(db: Database) -> None:
    with pytest.raises(ZeroDivisionError), db.writer.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        raise ZeroDivisionError
    with pytest.raises(OperationalError), db.session() as session:
        session.execute(text("INSERT INTO no_such_table VALUES (1)"))
    with db.writer.connect() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        conn.rollback()
    with db.writer.connect() as conn:  # closed with the transaction open: the pool resets it
        conn.execute(text("INSERT INTO t VALUES (1)"))
    started = time.perf_counter()
    with db.writer.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (5)"))
    assert time.perf_counter() - started < 1.0
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM t")).scalars().all() == [5]


def test_an_invalidated_connection_hands_the_turn_on(db: Database) -> None:
    conn = db.writer.connect()
    conn.execute(text("INSERT INTO t VALUES (1)"))
    conn.invalidate()
    conn.close()
    started = time.perf_counter()
    with db.writer.begin() as fresh:
        fresh.execute(text("INSERT INTO t VALUES (2)"))
    assert time.perf_counter() - started < 1.0


def test_reads_never_wait_for_a_turn(db: Database) -> None:
    with db.writer.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        started = time.perf_counter()
        with db.read_session() as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        assert time.perf_counter() - started < 1.0


def test_a_writer_inside_a_writer_of_the_same_thread_is_left_to_sqlite(tmp_path: Path) -> None:
    # Waiting for its own turn would wait the whole bound first; SQLite answers at once.
    turns = WriteTurns(wait_s=30.0)
    engine = engine_with(tmp_path, turns, busy_ms=100)
    writer = engine.execution_options(sqlite_immediate=True)
    started = time.perf_counter()
    with writer.begin() as outer:
        outer.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(OperationalError, match="locked"), writer.begin() as inner:
            inner.execute(text("INSERT INTO t VALUES (2)"))
    assert time.perf_counter() - started < 5.0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM t")).scalars().all() == [1]
    engine.dispose()


def test_a_turn_never_handed_back_delays_the_others_only_for_the_bound(tmp_path: Path) -> None:
    turns = WriteTurns(wait_s=0.3)
    engine = engine_with(tmp_path, turns, busy_ms=1000)
    assert turns._lock.acquire()  # a turn leaked (a bug): nobody will release it
    started = time.perf_counter()
    with engine.execution_options(sqlite_immediate=True).begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert 0.25 < time.perf_counter() - started < 5.0
    engine.dispose()
