"""``smartcustoms partners``: the partner administrations this instance works with.

Setting up a partnership is one card each way: ``partners card --output ours.json`` here,
``partners add theirs.json`` with the card they sent, each side reading its fingerprint to the
other by phone; ``partners update theirs.json`` takes a newer card (a rotated key, a moved URL).
Imports of the federation package stay inside the commands (the CLI starts fast).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(
    help="Partner administrations: exchange signed partner cards, list partners.",
    no_args_is_help=True,
)


@contextmanager
def _said() -> Iterator[None]:
    """Our errors as one line and an exit code (2 for settings, 1 for the rest)."""
    from smartcustoms.cli.common import fail
    from smartcustoms.core.errors import ConfigurationError
    from smartcustoms.ledger.errors import PRODUCT_ERRORS

    try:
        yield
    except PRODUCT_ERRORS as exc:
        fail(exc.message, 2 if isinstance(exc, ConfigurationError) else 1)


@app.command("card")
def card(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the card to this file.")
    ] = None,
) -> None:
    """Print this instance's signed partner card (give it to the partner) and its fingerprint
    (read it to them by phone)."""
    from smartcustoms.cli.common import err_console, open_context
    from smartcustoms.federation.card import fingerprint_groups
    from smartcustoms.federation.service import own_card

    with _said(), open_context(ctx) as app_ctx:
        own = own_card(app_ctx)
    if output is None:
        typer.echo(own.to_json(), nl=False)
    else:
        output.write_text(own.to_json(), encoding="utf-8")
        err_console.print(f"card written to {output}", highlight=False)
    err_console.print(f"fingerprint: {fingerprint_groups(own.fingerprint)}", highlight=False)


@app.command("add")
def add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The partner's card (JSON); - for standard input.")],
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", "-k", help="What it may receive (repeat); default: its card's."),
    ] = None,
) -> None:
    """Verify a partner's card and add the partner (a ledger record). Compare the printed
    fingerprint with the one the partner reads to you."""
    from smartcustoms.cli.common import actor, console, open_context
    from smartcustoms.federation.card import fingerprint_groups
    from smartcustoms.federation.directory import add_partner
    from smartcustoms.federation.service import own_card

    text = _read_card(file)
    with _said(), open_context(ctx) as app_ctx:
        own = own_card(app_ctx)
        with app_ctx.unit() as unit:
            row = add_partner(unit, text, own=own, actor=actor(), kinds=kind or None)
            name, fingerprint, kinds = row.name, row.fingerprint, row.kinds
    console.print(f"added partner {name} (may receive: {kinds or 'nothing'})", highlight=False)
    console.print(f"fingerprint: {fingerprint_groups(fingerprint)}", highlight=False)


@app.command("update")
def update(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The partner's new card (JSON); - for stdin.")],
    confirm_fingerprint: Annotated[
        str | None,
        typer.Option(
            "--confirm-fingerprint",
            help="The fingerprint the partner read to you; needed when its request key changed.",
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", "-k", help="Narrow what it may receive (repeat)."),
    ] = None,
) -> None:
    """Replace a partner's card with its new one (a key rotated, its URL moved; a ledger
    record). Prints the old and new fingerprints."""
    from smartcustoms.cli.common import actor, console, open_context
    from smartcustoms.federation.card import fingerprint_groups
    from smartcustoms.federation.directory import update_partner
    from smartcustoms.federation.service import own_card

    text = _read_card(file)
    with _said(), open_context(ctx) as app_ctx:
        own = own_card(app_ctx)
        with app_ctx.unit() as unit:
            done = update_partner(
                unit,
                text,
                own=own,
                actor=actor(),
                confirm_fingerprint=confirm_fingerprint,
                kinds=kind or None,
            )
            name, fingerprint = done.row.name, done.row.fingerprint
    what = ", ".join(done.changed) if done.changed else "nothing (the same card)"
    console.print(f"updated partner {name}: {what}", highlight=False)
    console.print(f"old fingerprint: {fingerprint_groups(done.old_fingerprint)}", highlight=False)
    console.print(f"new fingerprint: {fingerprint_groups(fingerprint)}", highlight=False)


def _read_card(file: Path) -> str:
    import sys

    from smartcustoms.cli.common import fail

    try:
        return sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: {exc}")


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, one array.")] = False,
) -> None:
    """List partners with their state, what they may receive and their card's fingerprint."""
    from rich.markup import escape
    from rich.table import Table

    from smartcustoms.cli.common import console, open_context
    from smartcustoms.federation.directory import list_partners, partner_public

    with _said(), open_context(ctx) as app_ctx, app_ctx.db.read_session() as session:
        partners = [partner_public(row) for row in list_partners(session)]
    if as_json:
        typer.echo(json.dumps(partners, default=str, ensure_ascii=False, indent=2))
        return
    table = Table("name", "country", "url", "receives", "state", "fingerprint")
    for p in partners:
        table.add_row(
            escape(p["name"]),
            p["country"],
            escape(p["url"]),
            ", ".join(p["kinds"]),
            p["state"],
            p["fingerprint"],
        )
    console.print(table)


@app.command("ping")
def ping(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The partner's name.")]
) -> None:
    """Send the partner a signed hello and print its answer: both sides then know the keys
    and URLs work."""
    from smartcustoms.cli.common import actor, console, open_context
    from smartcustoms.federation.service import ping as send_ping

    with _said(), open_context(ctx) as app_ctx:
        answer = send_ping(app_ctx, name, actor=actor())
    said = answer.get("answer", {})
    console.print(
        f"{name} answered: hello {said.get('hello')} from {said.get('from')} "
        f"(message {answer.get('id')})",
        highlight=False,
    )


@app.command("outbox")
def outbox(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, one array.")] = False,
) -> None:
    """What waits to be sent to each partner (hand-overs, positions, discharges): how many,
    how old the oldest is, and why its last try failed. The server's deliverer sends them."""
    from rich.markup import escape
    from rich.table import Table

    from smartcustoms.cli.common import console, open_context
    from smartcustoms.federation.outbox import outbox_summary

    with _said(), open_context(ctx) as app_ctx, app_ctx.db.engine.connect() as conn:
        rows = outbox_summary(conn)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(
        "partner", "pending", "oldest (s)", "next", "tries", "last error", "delivered", "set aside"
    )
    for r in rows:
        table.add_row(
            escape(r["partner"]),
            str(r["pending"]),
            "" if r["oldest_age_s"] is None else str(r["oldest_age_s"]),
            r["head_kind"] or "",
            "" if r["head_attempts"] is None else str(r["head_attempts"]),
            escape(r["last_error"] or ""),
            str(r["delivered"]),
            str(r["set_aside"]),
        )
    console.print(table)


def _state(ctx: typer.Context, name: str, state: str) -> None:
    from smartcustoms.cli.common import actor, console, open_context
    from smartcustoms.federation.directory import set_state

    with _said(), open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        set_state(unit, name, state, actor=actor())
    console.print(f"partner {name} is {state}", highlight=False)


@app.command("suspend")
def suspend(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The partner's name.")]
) -> None:
    """Suspend a partner: its requests are refused (and recorded) until reactivated."""
    _state(ctx, name, "suspended")


@app.command("activate")
def activate(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The partner's name.")]
) -> None:
    """Reactivate a suspended partner."""
    _state(ctx, name, "active")


@app.command("link")
def link(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="A partner-administration user account.")],
    name: Annotated[
        str | None, typer.Argument(help="The partner it acts for; leave out to unlink.")
    ] = None,
) -> None:
    """Link a partner-administration account to its partner: it then sees only the transits
    handed over to that administration."""
    from smartcustoms.cli.common import actor, console, open_context
    from smartcustoms.federation.accounts import link_account

    with _said(), open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        link_account(unit, username, name, actor=actor())
    console.print(
        f"{username} acts for {name}" if name else f"{username} acts for no partner",
        highlight=False,
    )
