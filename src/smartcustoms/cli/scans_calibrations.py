"""``smartcustoms scans calibration install|list|remove``: the calibration each scanner's scans
are analysed with, when the scan file carries none of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from smartcustoms.cli.common import actor, console, fail, open_context, settings_of

if TYPE_CHECKING:
    from smartcustoms.scans.calibrations import CalibrationStore

# Nothing of `smartcustoms.scans` at module level (see cli/scans.py): imported when run.

__all__ = ["app", "installed_store"]

app = typer.Typer(
    help=(
        "Calibrations installed per scanner: every scan from scanner ID that carries no "
        "calibration of its own is analysed (by the server's intake, `scans import` and "
        "`scans analyze`) with the one installed for ID.\n\n"
        "  smartcustoms scans calibration install calibration.json --scanner KE-MSA-01\n\n"
        "FILE is what `scans calibrate --output` writes. Installing and removing are recorded "
        "in the ledger."
    ),
    no_args_is_help=True,
)


def installed_store(ctx: typer.Context) -> CalibrationStore:
    """The installed calibrations beside the settings' scan store."""
    from smartcustoms.scans.calibrations import calibrations_for
    from smartcustoms.scans.storage import store_for

    return calibrations_for(store_for(settings_of(ctx)).root)


@app.command("install")
def install_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The calibration JSON (`scans calibrate --output`).")
    ],
    scanner: Annotated[
        str, typer.Option("--scanner", help="The scanner id its scans carry, e.g. KE-MSA-01.")
    ],
) -> None:
    """Install a calibration for a scanner, replacing the one it had."""
    from smartcustoms.core.errors import SmartCustomsError
    from smartcustoms.scans.calibrations import calibration_from_json, canonical_sha256
    from smartcustoms.scans.events import ScannerCalibrationInstalled

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{file}: not a readable JSON file ({exc})", 2)
    store = installed_store(ctx)
    try:
        calibration = calibration_from_json(data)
        store.path(scanner)  # the id is checked before anything is recorded
        with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
            # The file is written inside the transaction: a write that fails records nothing.
            replaced = store.install(scanner, calibration)
            unit.emit(
                ScannerCalibrationInstalled(
                    actor=actor(),
                    scanner_id=scanner.strip(),
                    calibration_id=calibration.calibration_id,
                    calibration_sha256=canonical_sha256(calibration),
                    replaced=replaced,
                )
            )
    except SmartCustomsError as exc:
        fail(f"{file}: {exc.message}", 2)
    console.print(
        f"calibration {calibration.calibration_id or calibration.source} installed for scanner "
        f"{scanner.strip()}" + (" (replacing the previous one)" if replaced else ""),
        highlight=False,
    )


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print them as JSON.")] = False,
) -> None:
    """The installed calibrations, by scanner."""
    from smartcustoms.core.errors import SmartCustomsError

    try:
        installed = installed_store(ctx).all()
    except SmartCustomsError as exc:
        fail(exc.message, 2)
    if as_json:
        rows = [
            {
                "scanner_id": c.scanner_id,
                "installed_at": c.installed_at.isoformat() if c.installed_at else None,
                "calibration": c.calibration.to_dict(),
            }
            for c in installed
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not installed:
        console.print("no calibration installed", highlight=False)
        return
    from rich.table import Table

    table = Table("scanner", "calibration", "source", "installed")
    for c in installed:
        table.add_row(
            c.scanner_id,
            c.calibration.calibration_id or "",
            c.calibration.source,
            c.installed_at.isoformat(timespec="seconds") if c.installed_at else "",
        )
    console.print(table)


@app.command("remove")
def remove_command(
    ctx: typer.Context,
    scanner: Annotated[str, typer.Argument(help="The scanner id.")],
) -> None:
    """Remove a scanner's calibration: its scans are analysed with the shipped one again."""
    from smartcustoms.core.errors import SmartCustomsError
    from smartcustoms.scans.events import ScannerCalibrationRemoved

    store = installed_store(ctx)
    try:
        if not store.path(scanner).exists():
            fail(f"scanner {scanner}: no calibration installed", 1)
        with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
            removed = store.remove(scanner)
            if removed is None:  # removed by someone else meanwhile
                fail(f"scanner {scanner}: no calibration installed", 1)
            unit.emit(
                ScannerCalibrationRemoved(
                    actor=actor(),
                    scanner_id=removed.scanner_id,
                    calibration_id=removed.calibration.calibration_id,
                )
            )
    except SmartCustomsError as exc:
        fail(exc.message, 2)
    console.print(f"calibration removed for scanner {scanner.strip()}", highlight=False)
