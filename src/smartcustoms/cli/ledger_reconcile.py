"""``smartcustoms ledger status | export | reconcile``: where the log stands against what it
published, and resolving a hold on signing (a database restored from an older backup)."""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from smartcustoms.cli.common import (
    actor,
    console,
    err_console,
    error_line,
    fail,
    open_context,
    settings_of,
)
from smartcustoms.cli.lazy import lazy_module

if TYPE_CHECKING:
    from smartcustoms import backup as archive
    from smartcustoms.core import schema
    from smartcustoms.core.settings import Settings
    from smartcustoms.ledger import errors as ledger_errors
    from smartcustoms.ledger import reconcile as reconciliation
    from smartcustoms.ledger import service as ledger_service
else:  # loaded when a command runs, not for `--help`
    archive = lazy_module("smartcustoms.backup")
    schema = lazy_module("smartcustoms.core.schema")
    ledger_errors = lazy_module("smartcustoms.ledger.errors")
    reconciliation = lazy_module("smartcustoms.ledger.reconcile")
    ledger_service = lazy_module("smartcustoms.ledger.service")

__all__ = ["export", "reconcile", "status"]


def status(ctx: typer.Context) -> None:
    """Show the log's size, latest checkpoint, what it published and whether it may sign.

    Exits 1 while signing is held (a database restored from an older backup, or a witness
    that saw more), naming why and how to resolve it.
    """
    settings = settings_of(ctx)
    with open_context(ctx, migrate_empty=False) as app_ctx:
        st = reconciliation.ledger_status(app_ctx.db, settings.data_dir, settings.ledger_origin)
    say = typer.echo  # plain lines, never wrapped: scripts read them

    say(f"ledger {settings.ledger_origin}: {st.size} entries stored")
    if st.queued:
        say(f"queued for the sequencer: {st.queued}")
    if st.checkpoint is None:
        say("latest checkpoint: none")
    else:
        cp = st.checkpoint
        witnessed = f", cosigned {len(cp.cosignatures)}/{cp.quorum}" if cp.quorum else ""
        say(
            f"latest checkpoint: size {cp.size}, key {cp.key}, "
            f"{cp.created_at:%Y-%m-%d %H:%M:%S}{witnessed}"
        )
    say(f"current key: {st.key or 'none yet'}")
    if st.state is not None:
        mark = st.state.mark
        if mark is not None:
            say(f"signed by this instance: up to size {mark.size} ({mark.at}, key {mark.key})")
        for w in st.state.witnesses:
            say(f"witness {w.witness}: {w.kind} at size {w.size} ({w.at})")
        for f in st.state.forks:
            say(
                f"fork accepted {f.at} by {f.actor}: went on from {f.size} entries (published "
                f"{f.published}); key {f.old_key} -> {f.new_key}; reason: {f.reason}"
            )
    if st.hold is None:
        say("signing: ok")
        return
    error_line(f"signing held ({st.hold.code}): {st.hold.message}")
    err_console.print(f"To resolve: {escape(st.hold.remedy)}", highlight=False)
    raise typer.Exit(1)


def export(
    ctx: typer.Context,
    output: Annotated[str, typer.Argument(help="File to write; - for standard output.")],
    first: Annotated[int, typer.Option("--from", min=0, help="First entry to export.")] = 0,
) -> None:
    """Export the ledger (entries from --from on, checkpoints, cosignatures, keys) as JSON
    Lines, from one consistent snapshot: what `ledger reconcile --from` catches up from."""
    settings = settings_of(ctx)
    with open_context(ctx, migrate_empty=False) as app_ctx:
        try:
            if output == "-":
                done = reconciliation.write_export(
                    app_ctx.db, sys.stdout, origin=settings.ledger_origin, first=first
                )
            else:
                with Path(output).open("w", encoding="utf-8") as fh:
                    done = reconciliation.write_export(
                        app_ctx.db, fh, origin=settings.ledger_origin, first=first
                    )
        except ledger_errors.PRODUCT_ERRORS as exc:
            fail(exc.message)
    if output != "-":
        console.print(
            f"exported entries {done.first}..{done.size - 1} and {done.checkpoints} checkpoints "
            f"to {output}",
            highlight=False,
        )


def reconcile(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Catch up from a later backup folder, a `ledger export` file, or a database "
            "URL (a later backup restored elsewhere).",
        ),
    ] = None,
    fork: Annotated[
        bool,
        typer.Option(
            "--accept-fork",
            help="Go on from what the log holds under a new key, abandoning what it published "
            "beyond it (recorded in the ledger).",
        ),
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the fork is accepted (recorded).")
    ] = None,
) -> None:
    """Resolve a hold on signing: catch the log up, or accept a fork.

    --from: the published entries the restored database lacks are added from SOURCE, checked
    against the signed checkpoints; entries stored since the restore are moved after them. Stop
    every smartcustoms process on this database first.

    --accept-fork --reason "…": when no later copy exists. The log key is rotated, the old key
    never signs again, and the decision is recorded in the ledger. Give the new key (printed)
    to verifiers and witnesses; witnesses must also drop the log's old history.
    """
    if fork == (source is not None):
        fail("give either --from SOURCE or --accept-fork --reason …", code=2)
    settings: Settings = settings_of(ctx)
    with open_context(ctx, migrate_empty=False) as app_ctx:
        schema.ensure_current(app_ctx.db)
        try:
            if fork:
                done = reconciliation.accept_fork(app_ctx, reason=reason or "", actor=actor())
                console.print(
                    f"fork accepted: the log goes on from {done.size} entries (it had published "
                    f"{done.published}); key {done.old_key} -> {done.new_key}",
                    highlight=False,
                )
                console.print("give the new key to verifiers and witnesses:", highlight=False)
                typer.echo(done.vkey)
            else:
                assert source is not None
                with ExitStack() as stack:
                    if Path(source).is_dir():  # a backup folder
                        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                        export_ = archive.ledger_export(
                            Path(source), settings.ledger_origin, folder
                        )
                    else:
                        export_ = stack.enter_context(
                            reconciliation.open_source(source, settings.ledger_origin)
                        )
                    caught = reconciliation.catch_up(app_ctx, export_, actor=actor())
                console.print(
                    f"caught up from {caught.source}: kept {caught.kept} entries, added "
                    f"{caught.added} published ones (up to checkpoint {caught.checkpoint}), "
                    f"moved {caught.moved} stored since after them; {caught.size} entries now",
                    highlight=False,
                )
            # Store the record now; a checkpoint follows.
            ledger_service.ledger_of(app_ctx).flush(30.0)
        except ledger_errors.PRODUCT_ERRORS as exc:
            fail(exc.message)
