"""``smartcustoms users``: add users, list them, change roles, disable and enable, and bind them
to the trader identities they act for (``users traders grant|revoke|list``)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from smartcustoms.cli.common import actor, console, fail, open_context
from smartcustoms.cli.lazy import lazy_module
from smartcustoms.core.roles import Role

if TYPE_CHECKING:
    from smartcustoms.core import password_change
    from smartcustoms.core import traders as trader_service
    from smartcustoms.core import users as user_service
else:  # the accounts' tables (SQLAlchemy) load when a command runs, not for `--help`
    password_change = lazy_module("smartcustoms.core.password_change")
    trader_service = lazy_module("smartcustoms.core.traders")
    user_service = lazy_module("smartcustoms.core.users")

app = typer.Typer(
    help="Manage the people who log in: add them, give them roles, disable them.",
    no_args_is_help=True,
)

ROLE_HELP = "Role to give; repeat for several. One of: " + ", ".join(r.value for r in Role)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            fail("no password on standard input", 2)
        return line
    prompted: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return prompted


@app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . _ -")],
    role: Annotated[list[str], typer.Option("--role", "-r", help=ROLE_HELP)],
    name: Annotated[str | None, typer.Option(help="Full name shown in the interface.")] = None,
    language: Annotated[str | None, typer.Option(help="Preferred language: en, fr or ar.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a user. You are asked for the password (or give it on standard input).

    Example: smartcustoms users add amina --role administrator --name "Amina Otieno"
    """
    roles = user_service.parse_roles(role)
    password = _read_password(password_stdin)
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        user = user_service.create_user(
            unit,
            username=username,
            password=password,
            roles=roles,
            display_name=name,
            language=language,
            actor=actor(),
        )
        console.print(f"added {user.username} with roles {', '.join(sorted(user.roles))}")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List users, their roles and whether they are disabled."""
    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        table = Table("username", "name", "roles", "status", "created")
        for user in user_service.list_users(session):
            table.add_row(
                user.username,
                user.display_name,
                ", ".join(sorted(user.roles)),
                "disabled" if user.disabled else "active",
                user.created_at.strftime("%Y-%m-%d"),
            )
        console.print(table)


@app.command("set-role")
def set_role(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user to change.")],
    role: Annotated[list[str], typer.Option("--role", "-r", help=ROLE_HELP)],
) -> None:
    """Replace a user's roles with the ones given.

    Example: smartcustoms users set-role amina --role supervisor --role auditor
    """
    roles = user_service.parse_roles(role)
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        user = user_service.set_roles(unit, username, roles, actor=actor())
        console.print(f"{user.username} now has roles {', '.join(sorted(user.roles))}")


@app.command("disable")
def disable(
    ctx: typer.Context, username: Annotated[str, typer.Argument(help="The user to disable.")]
) -> None:
    """Disable a user: their web sessions end and their API tokens stop working at once."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        user_service.set_disabled(unit, username, True, actor=actor())
        console.print(f"{username} disabled")


@app.command("enable")
def enable(
    ctx: typer.Context, username: Annotated[str, typer.Argument(help="The user to enable.")]
) -> None:
    """Enable a disabled user again."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        user_service.set_disabled(unit, username, False, actor=actor())
        console.print(f"{username} enabled")


@app.command("set-password")
def set_password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user whose password to set.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    no_change_required: Annotated[
        bool,
        typer.Option(
            "--no-change-required",
            help="Do not make the user choose a new password at next login (for a password "
            "only the user at this console knows).",
        ),
    ] = False,
) -> None:
    """Set a temporary password for a user: their open web sessions end and, at next login,
    they must choose their own before doing anything else."""
    password = _read_password(password_stdin)
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        password_change.reset_password(
            unit, username, password, actor=actor(), must_change=not no_change_required
        )
    then = "" if no_change_required else "; they must choose a new one at next login"
    console.print(f"password of {username} set{then}")


traders_app = typer.Typer(
    help="The trader identities (declarant IDs) each user may lodge and read for. A declarant "
    "bound to none can lodge nothing; a customs broker is bound to each trader it acts for.",
    no_args_is_help=True,
)
app.add_typer(traders_app, name="traders")


@traders_app.command("grant")
def traders_grant(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user who may act for them.")],
    declarant_ids: Annotated[list[str], typer.Argument(help="Declarant IDs, one or more.")],
) -> None:
    """Let a user act for trader identities.

    Example: smartcustoms users traders grant coast-clearing BRK001 BRK002
    """
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        added = trader_service.grant_traders(unit, username, declarant_ids, actor=actor())
        have = trader_service.trader_ids(
            unit.session, user_service.get_user(unit.session, username).id
        )
    shown = ", ".join(added) if added else "nothing new"
    console.print(f"{username}: granted {shown}; acts for {', '.join(sorted(have))}")


@traders_app.command("revoke")
def traders_revoke(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user.")],
    declarant_ids: Annotated[list[str], typer.Argument(help="Declarant IDs, one or more.")],
) -> None:
    """Stop a user acting for trader identities (each must be bound)."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        removed = trader_service.revoke_traders(unit, username, declarant_ids, actor=actor())
    console.print(f"{username}: revoked {', '.join(removed)}")


@traders_app.command("list")
def traders_list(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user.")],
) -> None:
    """List the trader identities a user acts for, with who granted each and when."""
    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        rows = trader_service.list_traders(session, username)
        table = Table("declarant ID", "granted by", "granted at")
        for row in rows:
            table.add_row(
                row.declarant_id, row.granted_by, row.granted_at.strftime("%Y-%m-%d %H:%M")
            )
    if rows:
        console.print(table)
    else:
        console.print(f"{username} acts for no trader identity")
