"""A throwaway database for a benchmark: a SQLite file in a temporary folder, or a new database
on the PostgreSQL server a URL names (created for the run and dropped after it), so that no run
sees another's tables, ledger or keys."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

__all__ = ["fresh_database"]


@contextmanager
def fresh_database(folder: Path, server_url: str | None) -> Iterator[str]:
    """The URL of an empty database: SQLite in ``folder``, or a new database on the server of
    ``server_url`` (any database of that server; the new one is dropped afterwards)."""
    if not server_url:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    server = make_url(server_url)
    name = f"sc_bench_{secrets.token_hex(4)}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
