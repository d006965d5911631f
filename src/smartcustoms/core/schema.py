"""Schema migrations with Alembic, run from code so that no alembic.ini is needed.

``serve`` calls :func:`ensure_current`: an empty database is migrated to the latest schema; a
database at an older revision is refused with the command to run, because upgrading a shared
production database is an operator's decision, not a side effect of starting a web worker.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect

from smartcustoms.core.db import Database
from smartcustoms.core.errors import ServiceUnavailable
from smartcustoms.core.orm import Base

__all__ = ["SchemaState", "ensure_current", "schema_state", "target_metadata", "upgrade"]

# Every module that defines tables. Listed here, in one place, so that migrations and
# autogenerate always see the whole schema.
TABLE_MODULES = (
    "smartcustoms.core.tables",
    "smartcustoms.ledger.tables",
    "smartcustoms.declarations.tables",
    "smartcustoms.tracking.tables",
    "smartcustoms.risk.tables",
    "smartcustoms.scans.tables",
    "smartcustoms.interop.webhooks.tables",
    "smartcustoms.interop.notify.tables",
    "smartcustoms.federation.tables",
    "smartcustoms.federation.handover_tables",
    "smartcustoms.federation.scans_tables",
    "smartcustoms.federation.exchange_tables",
    "smartcustoms.reference.offices",
    "smartcustoms.reports.schedules",
)


def target_metadata() -> MetaData:
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return Base.metadata


def _config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "smartcustoms:migrations")
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


@dataclass(frozen=True)
class SchemaState:
    current: tuple[str, ...]
    head: str
    empty: bool

    @property
    def up_to_date(self) -> bool:
        return self.current == (self.head,)


def schema_state(db: Database) -> SchemaState:
    script = ScriptDirectory.from_config(_config(db))
    head = script.get_current_head()
    assert head is not None, "the package ships at least one migration"
    with db.engine.connect() as conn:
        current = tuple(MigrationContext.configure(conn).get_current_heads())
        empty = not current and not inspect(conn).get_table_names()
    return SchemaState(current=current, head=head, empty=empty)


def upgrade(db: Database, revision: str = "head") -> SchemaState:
    """Migrate to ``revision`` (default: the latest) in one transaction per step."""
    cfg = _config(db)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return schema_state(db)


def ensure_current(db: Database) -> SchemaState:
    """Migrate an empty database; refuse one whose schema is not the latest."""
    state = schema_state(db)
    if state.empty:
        return upgrade(db)
    if state.up_to_date:
        return state
    script = ScriptDirectory.from_config(_config(db))
    known = {rev.revision for rev in script.walk_revisions()}
    if any(rev not in known for rev in state.current):
        raise ServiceUnavailable(
            f"the database schema is at revision {', '.join(state.current)}, which this "
            f"version of smartcustoms does not know: it was upgraded by a newer version",
            code="schema_newer",
        )
    found = ", ".join(state.current) or "none (tables exist but were not created by smartcustoms)"
    raise ServiceUnavailable(
        f"the database schema is at revision {found} but this version needs {state.head}: "
        "run `smartcustoms db upgrade` first (back up the database before)",
        code="schema_outdated",
    )
