"""``smartcustoms tokens``: API tokens for machines (your CMS, scanners, Prometheus …)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from smartcustoms.cli.common import actor, console, keep_whole, open_context
from smartcustoms.cli.lazy import lazy_module

if TYPE_CHECKING:
    from smartcustoms.core import tokens as token_service
    from smartcustoms.core import users as user_service
else:  # the accounts' tables (SQLAlchemy) load when a command runs, not for `--help`
    token_service = lazy_module("smartcustoms.core.tokens")
    user_service = lazy_module("smartcustoms.core.users")

app = typer.Typer(
    help="Create, list and revoke API tokens. A token acts with the roles of its user.",
    no_args_is_help=True,
)


@app.command("create")
def create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", "-u", help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What will use it, e.g. 'ASYCUDA connector'.")],
    days: Annotated[
        int | None, typer.Option(help="Days until it expires (default from settings).")
    ] = None,
) -> None:
    """Create a token and print it once. Store it now: it cannot be shown again.

    Machines send it as the header 'Authorization: Bearer <token>'.
    """
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        settings = app_ctx.settings
        owner = user_service.get_user(unit.session, user)
        new = token_service.create_token(
            unit,
            owner,
            name=name,
            days=days or settings.token_default_days,
            max_days=settings.token_max_days,
            actor=actor(),
        )
    console.print(f"token {new.token_id} for {user}, expires {new.expires_at:%Y-%m-%d}:")
    typer.echo(new.secret)


@app.command("list")
def list_(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's.")] = None,
) -> None:
    """List tokens (never their secrets)."""
    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        owner_id = user_service.get_user(session, user).id if user else None
        table = Table("id", "user", "name", "expires", "last used", "status")
        ids = []
        for row in token_service.list_tokens(session, owner_id):
            ids.append(row.id)
            table.add_row(
                row.id,
                row.user.username,
                row.name,
                f"{row.expires_at:%Y-%m-%d}",
                f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "-",
                "revoked" if row.revoked_at else "active",
            )
        keep_whole(table, 0, ids)  # what `tokens revoke` takes
        console.print(table)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token's id (or the whole token).")],
) -> None:
    """Revoke a token: it stops working at once."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        row = token_service.revoke_token(unit, token_id, actor=actor())
        console.print(f"token {row.id} of {row.user.username} revoked")
