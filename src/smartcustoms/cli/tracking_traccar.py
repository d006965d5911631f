"""``smartcustoms tracking traccar-config``: the traccar.xml entries that forward to us."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from smartcustoms.cli.lazy import lazy_module

if TYPE_CHECKING:
    from smartcustoms.core import tokens
    from smartcustoms.tracking import traccar
else:  # loaded when a command runs, not for `--help`
    tokens = lazy_module("smartcustoms.core.tokens")
    traccar = lazy_module("smartcustoms.tracking.traccar")


__all__ = ["TRACCAR_CONFIG_HELP", "register", "traccar_config"]

# One string per paragraph: the CLI keeps a docstring's line breaks.
TRACCAR_CONFIG_HELP = "\n\n".join(
    (
        "Print the traccar.xml entries that make a Traccar server forward its positions and "
        "events (JSON) to this smartcustoms, to paste inside <properties> and restart Traccar.",
        "Traccar sends the token as 'Authorization: Bearer …': make one for a user of its own "
        "with the tracking_gateway role, which may feed positions and events and nothing "
        "else (smartcustoms users add traccar --role tracking_gateway; smartcustoms tokens "
        "create), and give it on standard input with --token-stdin so that it stays out of the "
        "shell history; without it the entries hold a placeholder. Devices are matched on "
        "Traccar's device identifier (uniqueId), which must be the device id transits name here:",
        "  smartcustoms tokens create --user traccar --name forwarding | "
        "smartcustoms tracking traccar-config --url https://customs.example --token-stdin",
    )
)


def traccar_config(
    url: Annotated[
        str,
        typer.Option(help="This smartcustoms as Traccar reaches it, e.g. https://customs.example."),
    ],
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the API token from standard input.")
    ] = False,
    retry: Annotated[
        bool, typer.Option(help="Have Traccar retry what was not acknowledged.")
    ] = True,
) -> None:
    token = None
    if token_stdin:
        text = sys.stdin.read().strip()
        # The token is the last word: `tokens create` may print it after a label.
        token = text.split()[-1] if text else ""
        if not tokens.TOKEN_PATTERN.fullmatch(token):
            raise typer.BadParameter("standard input holds no API token (sct_…)")
    typer.echo(traccar.traccar_entries(url, token, retry=retry), nl=False)


def register(app: typer.Typer) -> None:
    """Add ``traccar-config`` to the ``tracking`` command group."""
    app.command("traccar-config", help=TRACCAR_CONFIG_HELP)(traccar_config)
