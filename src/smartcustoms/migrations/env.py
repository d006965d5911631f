"""Alembic environment: runs on the connection smartcustoms hands it (see core/schema.py)."""

from __future__ import annotations

from alembic import context

from smartcustoms.core.schema import target_metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand lands here
    raise SystemExit("run migrations with `smartcustoms db upgrade`")

context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
