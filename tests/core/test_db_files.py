"""The SQLite database and its WAL and shared-memory files are private to the server's user
(0600, in a data directory made 0700), whatever the process umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from smartcustoms.core.db import Database
from smartcustoms.core.settings import load_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000, 0o277], ids=["umask022", "umask000", "umask277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_database_wal_and_shm_are_created_0600(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "data"
    path = data / "smartcustoms.db"
    db = Database(f"sqlite:///{path}")
    try:
        with db.session() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        with db.engine.connect() as conn:  # WAL and SHM exist while a connection is open
            assert conn.execute(text("SELECT x FROM t")).scalar_one() == 1
            for name in ("smartcustoms.db", "smartcustoms.db-wal", "smartcustoms.db-shm"):
                assert (data / name).exists(), name
                assert mode(data / name) == 0o600, name
        assert mode(data) == 0o700
    finally:
        db.dispose()


def test_an_existing_database_is_opened_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first = Database(f"sqlite:///{path}")
    with first.session() as session:
        session.execute(text("SELECT 1"))
    first.dispose()
    path.chmod(0o640)  # an administrator's choice (a backup group) is kept
    db = Database(f"sqlite:///{path}")
    with db.session() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
    db.dispose()
    assert mode(path) == 0o640


def test_a_data_directory_made_for_the_secret_key_is_0700(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "fresh" / "data"
    load_settings(None, data_dir=data).resolved_secret_key()
    assert mode(data) == 0o700
    assert mode(data / "secret.key") & 0o077 == 0
