"""Migrations: an empty database is created, an outdated one is refused with the command to run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from smartcustoms.core.db import Database
from smartcustoms.core.errors import ServiceUnavailable
from smartcustoms.core.schema import ensure_current, schema_state, target_metadata, upgrade


def test_upgrade_creates_every_table(database_url: str) -> None:
    db = Database(database_url)
    state = upgrade(db)
    assert state.up_to_date
    with db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert {t.name for t in target_metadata().sorted_tables} <= tables
    db.dispose()


def test_migrations_match_the_models(database_url: str) -> None:
    """Autogenerate finds nothing to do: the migrations create exactly what the models say."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Database(database_url)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), target_metadata())
    assert diff == []
    db.dispose()


def test_empty_database_is_migrated_on_start(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'new.db'}")
    assert schema_state(db).empty
    assert ensure_current(db).up_to_date
    db.dispose()


def test_outdated_schema_is_refused(database_url: str) -> None:
    db = Database(database_url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(ServiceUnavailable, match="upgraded by a newer version") as err:
        ensure_current(db)
    assert err.value.code == "schema_newer"  # 0000 is not a revision this version knows
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    with pytest.raises(ServiceUnavailable, match="run `smartcustoms db upgrade`") as err:
        ensure_current(db)
    assert err.value.code == "schema_outdated"
    db.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    db.dispose()
