"""The ``smartcustoms`` command.

Each group of commands lives in its own module (``db``, ``users``, ``tokens`` …) as a Typer
sub-application registered below; ``common`` holds what they share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from smartcustoms import __version__
from smartcustoms.cli import (
    backup,
    db,
    declarations,
    ledger,
    notify,
    risk,
    scans,
    serve,
    tokens,
    tracking,
    users,
    webhooks,
)
from smartcustoms.cli.common import run_guarded

__all__ = ["app", "main"]

app = typer.Typer(
    name="smartcustoms",
    help=(
        "smartcustoms: risk lanes, sealed-truck tracking, X-ray scan analysis and a verifiable "
        "ledger, run beside your customs management system.\n\n"
        "Start with `smartcustoms demo` to try it, or `smartcustoms serve` to run it."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"smartcustoms {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            envvar="SMARTCUSTOMS_CONFIG",
            help="TOML settings file (environment variables SMARTCUSTOMS_* override it).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = {"config": config}


app.command("serve")(serve.serve)
app.command("demo")(serve.demo)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(ledger.app, name="ledger")
app.add_typer(declarations.app, name="declarations")
app.add_typer(risk.app, name="risk")
app.add_typer(tracking.app, name="tracking")
app.add_typer(scans.app, name="scans")
app.add_typer(notify.app, name="notify")
app.add_typer(webhooks.app, name="webhooks")


def main() -> None:
    run_guarded(app)
