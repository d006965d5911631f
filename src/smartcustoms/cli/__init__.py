"""The ``smartcustoms`` command.

Each group of commands lives in its own module (``db``, ``users``, ``tokens`` …) as a Typer
sub-application; ``common`` holds what they share. They are registered below by name, module
and one-line help, and a module is imported only when one of its commands runs (``lazy``): the
groups between them load the whole product, which ``--version`` and ``--help`` must not wait
for. ``tests/cli/test_cli_startup.py`` checks that each help line here is the module's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

import typer

from smartcustoms import __version__
from smartcustoms.cli.lazy import LazyEntry, LazyGroup, plain_help

__all__ = ["COMMANDS", "app", "main"]

#: Every sub-command, in the order ``smartcustoms --help`` lists them.
COMMANDS: tuple[LazyEntry, ...] = (
    LazyEntry("serve", "smartcustoms.cli.serve:serve", "Run the web interface and API.", "command"),
    LazyEntry(
        "demo",
        "smartcustoms.cli.serve:demo",
        "Try smartcustoms: a throwaway database, one demo user per role, the web interface.",
        "command",
    ),
    LazyEntry(
        "backup",
        "smartcustoms.cli.backup:backup",
        "Back up the database, the ledger key directory and the scan store into DEST.",
        "command",
    ),
    LazyEntry(
        "restore",
        "smartcustoms.cli.backup:restore",
        "Restore a backup made by `smartcustoms backup` into this instance (stop it first).",
        "command",
    ),
    LazyEntry(
        "db",
        "smartcustoms.cli.db:app",
        "Create or upgrade the database schema. Back up the database before an upgrade.",
    ),
    LazyEntry(
        "users",
        "smartcustoms.cli.users:app",
        "Manage the people who log in: add them, give them roles, disable them.",
    ),
    LazyEntry(
        "tokens",
        "smartcustoms.cli.tokens:app",
        "Create, list and revoke API tokens. A token acts with the roles of its user.",
    ),
    LazyEntry(
        "ledger",
        "smartcustoms.cli.ledger:app",
        "The verifiable ledger: an append-only Merkle log (RFC 9162) with signed checkpoints "
        "(C2SP), witnessed by partner administrations.",
    ),
    LazyEntry(
        "declarations",
        "smartcustoms.cli.declarations:app",
        "Import goods declarations (JSON, flat CSV, KCS, CUSDEC, WCO DM XML); write answers.",
    ),
    LazyEntry(
        "risk",
        "smartcustoms.cli.risk:app",
        "The risk engine: models trained on your inspection history, and targeting rules.",
    ),
    LazyEntry(
        "tracking",
        "smartcustoms.cli.tracking:app",
        "Electronic cargo tracking: the e-seals, e-locks and trackers on transit trucks.",
    ),
    LazyEntry(
        "scans",
        "smartcustoms.cli.scans:app",
        "Container X-ray scans: the machine's first look before an image analyst's.",
    ),
    LazyEntry(
        "notify",
        "smartcustoms.cli.notify:app",
        "E-mail and SMS notifications to the people on duty: rules, contacts, what was sent.",
    ),
    LazyEntry(
        "webhooks",
        "smartcustoms.cli.webhooks:app",
        "Webhook subscriptions (Standard Webhooks, signed) and their deliveries.",
    ),
    LazyEntry(
        "partners",
        "smartcustoms.cli.partners:app",
        "Partner administrations: exchange signed partner cards, list partners.",
    ),
)


class _Root(LazyGroup):
    entries: ClassVar[dict[str, LazyEntry]] = {entry.name: entry for entry in COMMANDS}


app = typer.Typer(
    name="smartcustoms",
    cls=_Root,
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


def main() -> None:
    import os
    import sys

    from smartcustoms.cli.common import run_guarded

    # To a file or a pipe (no width asked for), help is plain text whose lines are never cut:
    # `--help | grep` finds whole sentences, not the half before Rich's wrap.
    if not sys.stdout.isatty() and not ({"COLUMNS", "TERMINAL_WIDTH"} & os.environ.keys()):
        plain_help(app)
    run_guarded(app)
