"""``smartcustoms backup DEST`` and ``smartcustoms restore SRC``: the whole instance (database,
ledger key directory, scan store) into a folder with a manifest of SHA-256s, and back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from smartcustoms.cli.common import (
    actor,
    console,
    err_console,
    fail,
    open_context,
    settings_of,
)
from smartcustoms.cli.lazy import lazy_module
from smartcustoms.core.errors import ConfigurationError

if TYPE_CHECKING:
    from smartcustoms import backup as archive
    from smartcustoms.core import events, schema
    from smartcustoms.ledger import errors as ledger_errors
    from smartcustoms.ledger import service as ledger_service
else:  # loaded when a command runs, not for `--help`
    archive = lazy_module("smartcustoms.backup")
    events = lazy_module("smartcustoms.core.events")
    schema = lazy_module("smartcustoms.core.schema")
    ledger_errors = lazy_module("smartcustoms.ledger.errors")
    ledger_service = lazy_module("smartcustoms.ledger.service")

__all__ = ["backup", "restore"]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


def _record(ctx: typer.Context, action: str, target: str) -> None:
    """Record the action in the ledger when the schema allows (it may need `db upgrade`)."""
    try:
        with open_context(ctx, migrate_empty=False) as app_ctx:
            if not schema.schema_state(app_ctx.db).up_to_date:
                err_console.print(
                    f"not recorded in the ledger ({action}): the database schema is not this "
                    "version's; run `smartcustoms db upgrade`",
                    highlight=False,
                )
                return
            app_ctx.record(events.AdminAction(actor=actor(), action=action, target=target))
            ledger_service.ledger_of(app_ctx).flush(30.0)
    except ledger_errors.PRODUCT_ERRORS as exc:
        err_console.print(f"not recorded in the ledger yet ({action}): {escape(exc.message)}")


def backup(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(help="A new (or empty) folder for the backup.")],
) -> None:
    """Back up the database, the ledger key directory and the scan store into DEST.

    Safe while the server runs: the database is copied from one consistent snapshot (SQLite's
    online backup API, or pg_dump from an exported snapshot). DEST gets a manifest.json with
    the SHA-256 of every file and the ledger's size and checkpoint; it holds the ledger's keys,
    so keep it as safe as the server (it is created 0700).
    """
    settings = settings_of(ctx)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        fail(f"{dest} exists and is not an empty folder: back up into a new one")
    # Recorded first, so that the backup holds its own record: a record appended (and signed)
    # after the snapshot would leave every backup behind what the log published.
    _record(ctx, "backup", str(dest.resolve()))
    try:
        manifest = archive.create_backup(settings, dest, progress=lambda m: err_console.print(m))
    except ledger_errors.PRODUCT_ERRORS as exc:
        fail(exc.message, 2 if isinstance(exc, ConfigurationError) else 1)
    led = manifest.ledger
    scans = sum(1 for f in manifest.files if f.path.startswith("scans/"))
    checkpoint = f"checkpoint {led.checkpoint_size}" if led.checkpoint_size else "no checkpoint"
    console.print(
        f"backed up to {dest}: {manifest.backend} database (schema "
        f"{manifest.schema_revision or 'none'}), ledger {led.size} entries ({checkpoint}), "
        f"{scans} scan files; {len(manifest.files)} files, {_size(manifest.total_bytes)}",
        highlight=False,
    )


def restore(
    ctx: typer.Context,
    src: Annotated[Path, typer.Argument(help="A folder made by `smartcustoms backup`.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace a database, key directory or scan store that "
            "holds data (key files that differ are kept aside).",
        ),
    ] = False,
) -> None:
    """Restore a backup made by `smartcustoms backup` into this instance (stop it first).

    Every file is checked against the manifest's SHA-256 before anything is touched. The
    ledger key directory is merged, never rolled back: if the restored ledger is behind what it
    had published (checkpoints signed after the backup), it keeps storing entries but signs
    nothing until `smartcustoms ledger reconcile` resolves it; `smartcustoms ledger status`
    says why.
    """
    settings = settings_of(ctx)
    try:
        done = archive.restore_backup(
            settings, src, force=force, progress=lambda m: err_console.print(m)
        )
    except ledger_errors.PRODUCT_ERRORS as exc:
        fail(exc.message, 2 if isinstance(exc, ConfigurationError) else 1)
    led = done.manifest.ledger
    console.print(
        f"restored {src} (made {done.manifest.created_at}): {done.manifest.backend} database, "
        f"ledger {led.size} entries, {done.scan_files} scan files",
        highlight=False,
    )
    for name in done.set_aside:
        console.print(f"kept aside: {settings.data_dir / 'ledger' / name}", highlight=False)
    if done.manifest.schema_revision is not None:
        console.print(
            f"database schema {done.manifest.schema_revision}: run `smartcustoms db upgrade` "
            "if this version needs a newer one",
            highlight=False,
        )
    if done.hold is not None:
        err_console.print(
            f"[bold yellow]ledger signing held:[/] {escape(done.hold.message)}\n"
            f"To resolve: {escape(done.hold.remedy)}",
            highlight=False,
        )
    _record(ctx, "backup_restored", f"{src.resolve()} made {done.manifest.created_at}")
