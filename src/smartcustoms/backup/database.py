"""Consistent copies of the database while the server runs, and putting one back.

* SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in one step
  under one read transaction, so the copy is one committed state even while the sequencer and
  the web workers write; the copy is read back for the ledger's size and checkpoint.
* PostgreSQL: a ``REPEATABLE READ`` transaction exports its snapshot
  (``pg_export_snapshot()``), reads the ledger's size and checkpoint in it, and ``pg_dump
  --format=custom --snapshot=…`` dumps exactly that state; ``pg_restore --single-transaction``
  puts it back (all or nothing). The password goes to the tools in ``PGPASSWORD``, never on
  their command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from smartcustoms.backup.errors import BackupFailed
from smartcustoms.backup.manifest import LedgerAt, fsync_dir
from smartcustoms.core.db import Database
from smartcustoms.ledger.checkpoints import latest_checkpoint
from smartcustoms.ledger.store import read_tree_head

__all__ = [
    "PG_FILE",
    "SQLITE_FILE",
    "dump_postgres",
    "dump_sqlite",
    "non_empty_tables",
    "restore_postgres",
    "restore_sqlite",
    "sqlite_path",
]

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
_TOOL_TIMEOUT_S = 6 * 3600


def sqlite_path(db: Database) -> Path:
    database = make_url(db.url).database
    if not database or database == ":memory:":
        raise BackupFailed("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _ledger_at(conn: Connection, origin: str) -> tuple[LedgerAt, str | None]:
    head = read_tree_head(conn)
    cp = latest_checkpoint(conn)
    try:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        revision = None
    ledger = LedgerAt(
        origin=origin,
        size=head.size,
        root=head.root_hash.hex(),
        checkpoint_size=0 if cp is None else cp.size,
        checkpoint=None if cp is None else cp.text,
        checkpoint_key=None if cp is None else cp.key,
    )
    return ledger, None if revision is None else str(revision)


def dump_sqlite(db: Database, target: Path, origin: str) -> tuple[LedgerAt, str | None]:
    """Copy the SQLite database to ``target`` with the online backup API; return the ledger
    state and schema revision the copy holds."""
    source = sqlite_path(db)
    if not source.is_file():
        raise BackupFailed(f"no database at {source}")
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # all pages in one step: one consistent state
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()
    os.chmod(target, 0o600)
    # Read the copy, not the live database: its state is exactly what was saved. A plain
    # engine (none of the product's pragmas) so the copy is not changed by reading it.
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return _ledger_at(conn, origin)
    finally:
        engine.dispose()


def _libpq(db: Database) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the tools, and the environment carrying the password."""
    url = make_url(db.url)
    params: dict[str, str] = {}
    for key, value in (
        ("host", url.host),
        ("port", str(url.port) if url.port else None),
        ("user", url.username),
        ("dbname", url.database),
    ):
        if value:
            params[key] = value
    for key, given in url.query.items():
        params[key] = given if isinstance(given, str) else given[-1]

    def quote(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    conninfo = " ".join(f"{k}={quote(v)}" for k, v in params.items())
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupFailed(
            f"{name} is not installed: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) at the server's major version or newer",
            code="tool_missing",
        )
    return path


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - our own arguments, no shell
            args, env=env, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise BackupFailed(f"{what} did not finish in {_TOOL_TIMEOUT_S} s") from None
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise BackupFailed(
            f"{what} failed (exit {done.returncode}): {' / '.join(message[-5:])[:2000]}",
            details=[{"tool": Path(args[0]).name, "exit": done.returncode}],
        )


def dump_postgres(db: Database, target: Path, origin: str) -> tuple[LedgerAt, str | None]:
    """``pg_dump`` the database (custom format) from one exported snapshot, in which the
    ledger state returned is read too."""
    pg_dump = _tool("pg_dump")
    conninfo, env = _libpq(db)
    with db.engine.connect() as base:
        conn = base.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            state = _ledger_at(conn, origin)
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--file", str(target),
                 "--dbname", conninfo],
                env,
                "pg_dump",
            )  # fmt: skip
    os.chmod(target, 0o600)
    return state


def non_empty_tables(db: Database) -> list[str]:
    """Tables of the database that hold rows (the schema version table aside)."""
    try:
        with db.engine.connect() as conn:
            names = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            quote = conn.dialect.identifier_preparer.quote
            return [
                name
                for name in names
                if conn.execute(text(f"SELECT 1 FROM {quote(name)} LIMIT 1")).first()  # noqa: S608
            ]
    except SQLAlchemyError:
        return []


def restore_sqlite(db: Database, source: Path) -> None:
    """Put the backup's SQLite file in place of the database (through a temporary file beside
    it, fsynced, renamed; the old write-ahead log removed first)."""
    target = sqlite_path(db)
    db.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".restoring")
    shutil.copyfile(source, tmp)
    os.chmod(tmp, 0o600)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, target)
    fsync_dir(target.parent)


def restore_postgres(db: Database, source: Path, *, clear: bool) -> None:
    """``pg_restore`` the dump into the database in one transaction; ``clear`` drops every
    table of the database's schema first."""
    pg_restore = _tool("pg_restore")
    conninfo, env = _libpq(db)
    if clear:
        with db.engine.begin() as conn:
            quote = conn.dialect.identifier_preparer.quote
            for name in inspect(conn).get_table_names():
                conn.execute(text(f"DROP TABLE IF EXISTS {quote(name)} CASCADE"))
    db.dispose()
    _run(
        [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         "--dbname", conninfo, str(source)],
        env,
        "pg_restore",
    )  # fmt: skip
