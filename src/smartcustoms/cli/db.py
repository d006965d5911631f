"""``smartcustoms db``: create and upgrade the database schema."""

from __future__ import annotations

import typer

from smartcustoms.cli.common import actor, console, open_context

# The schema (Alembic, SQLAlchemy) is imported by the commands that use it: `db --help` and
# the other groups need none of it.

app = typer.Typer(
    help="Create or upgrade the database schema. Back up the database before an upgrade.",
    no_args_is_help=True,
)


@app.command("upgrade")
def upgrade_command(ctx: typer.Context) -> None:
    """Bring the database schema to this version's latest (creates it if empty).

    Safe to run again: an up-to-date database is left as it is. Run it after installing a new
    version and before starting `smartcustoms serve`.
    """
    from smartcustoms.core.events import AdminAction
    from smartcustoms.core.schema import schema_state, upgrade

    with open_context(ctx, migrate_empty=False) as app_ctx:
        before = schema_state(app_ctx.db)
        after = upgrade(app_ctx.db)
        was = ",".join(before.current) or "empty"
        if before.current == after.current:
            console.print(f"database {app_ctx.db.display_url()} already at {after.head}")
            return
        app_ctx.record(
            AdminAction(actor=actor(), action="schema_upgrade", target=f"{was} -> {after.head}")
        )
        console.print(f"database {app_ctx.db.display_url()} upgraded: {was} -> {after.head}")


@app.command("status")
def status_command(ctx: typer.Context) -> None:
    """Show the schema revision of the database and the one this version needs."""
    from smartcustoms.core.schema import schema_state

    with open_context(ctx, migrate_empty=False) as app_ctx:
        state = schema_state(app_ctx.db)
        console.print(f"database: {app_ctx.db.display_url()}")
        console.print(f"current:  {','.join(state.current) or 'empty'}")
        console.print(f"needed:   {state.head}")
        if not state.up_to_date:
            console.print("run `smartcustoms db upgrade` to bring it up to date")
            raise typer.Exit(3)
