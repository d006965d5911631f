"""``smartcustoms scans import`` and ``export-labels``: scans into the review queue from the
console, and the examined ones out again as labelled data for ``scans evaluate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smartcustoms.cli.common import actor, console, fail, open_context

if TYPE_CHECKING:
    from smartcustoms.core.errors import SmartCustomsError
    from smartcustoms.scans.tables import ScanRow

__all__ = ["export_labels", "import_scan"]

IMPORT_HELP = "\n\n".join(
    (
        "Receive a scan file into the review queue, as the scanner's upload would: read it, "
        "check it against the declaration, analyse it, store it, and print the findings.",
        "FILE is a 16-bit TIFF (its sidecar FILE.json beside it, given with --sidecar, or inside "
        "the TIFF) or a DICOS file; --declaration is the stored declaration's id. The container "
        "number comes from the file, or --container when the file has none; it must be one the "
        "declaration lists.",
        "  smartcustoms scans import KE-MSA-0001.tif --declaration 812",
        "An unreadable file or one that does not match its declaration exits with status 1 and "
        "says what is wrong; the same file imported again is the same scan.",
    )
)


def import_scan(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The scan (.tif/.tiff or .dcm).", show_default=False)
    ],
    declaration: Annotated[
        int, typer.Option("--declaration", help="Id of the stored declaration.", show_default=False)
    ],
    sidecar: Annotated[
        Path | None,
        typer.Option(help="The TIFF's JSON sidecar, if not FILE.json.", show_default=False),
    ] = None,
    container: Annotated[
        str | None,
        typer.Option(help="ISO 6346 number, when the file names none.", show_default=False),
    ] = None,
    tare_kg: Annotated[
        float | None,
        typer.Option(
            "--tare-kg",
            help="Tare from the CSC plate, kg: reported as the container's gross beside the "
            "imaged load; never compared.",
            show_default=False,
            min=0,
        ),
    ] = None,
    goods_gross_kg: Annotated[
        float | None,
        typer.Option(
            "--goods-gross-kg",
            help="Gross mass of this container's goods, when several share the declaration.",
            show_default=False,
            min=0,
        ),
    ] = None,
    empty: Annotated[bool, typer.Option("--empty", help="Declared empty.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored scan as JSON.")] = False,
) -> None:
    from smartcustoms.core.errors import SmartCustomsError
    from smartcustoms.scans.intake import Upload, receive_scan
    from smartcustoms.scans.storage import store_for
    from smartcustoms.scans.wording import CATEGORIES

    try:
        data = file.read_bytes()
        side = sidecar.read_bytes() if sidecar is not None else None
    except OSError as exc:
        fail(f"{exc.filename}: {exc.strerror}")
    if side is None and file.with_suffix(".json").is_file():
        side = file.with_suffix(".json").read_bytes()
    with open_context(ctx) as app_ctx:
        try:
            with app_ctx.unit() as unit:
                received = receive_scan(
                    unit,
                    store_for(app_ctx.settings),
                    Upload(
                        data=data,
                        file_name=file.name,
                        declaration_id=declaration,
                        sidecar=side,
                        container_number=container,
                        tare_kg=tare_kg,
                        goods_gross_kg=goods_gross_kg,
                        declared_empty=True if empty else None,
                    ),
                    actor=actor(),
                    source="cli",
                )
                scan = received.scan
                summary = _summary(scan)
        except SmartCustomsError as exc:
            fail(exc.message)
    if as_json:
        typer.echo(json.dumps({**summary, "created": received.created}, indent=2))
        return
    verb = "stored" if received.created else "already stored"
    console.print(
        f"scan {summary['id']} {verb}: container {summary['container_number']}, declaration "
        f"{summary['declaration_id']}, machine decision [bold]{summary['alarm_decision']}[/]",
        highlight=False,
    )
    for f in summary["report"]["threat_objects"]:
        category = CATEGORIES.get(f["assessment"]["category"], f["assessment"]["category"])
        console.print(
            f"  #{f['id']} {category}: {f['assessment']['description']} (score {f['score']:.2f})",
            highlight=False,
        )
    console.print(f"review it at /scans/{summary['id']}", highlight=False)


def _summary(scan: ScanRow) -> dict[str, Any]:
    return {
        "id": scan.id,
        "container_number": scan.container_number,
        "declaration_id": scan.declaration_id,
        "alarm_decision": scan.alarm_decision,
        "status": scan.status,
        "file_sha256": scan.file_sha256,
        "report": scan.report,
    }


EXPORT_HELP = "\n\n".join(
    (
        "Write the examined scans and a labels file for `smartcustoms scans evaluate`.",
        "Every scan with a recorded examination result goes to OUTPUT (its file, and its "
        "sidecar beside it) with a row in OUTPUT/labels.csv: the outcome, the declared goods "
        "and mass it was analysed with, the weighed load and where the irregularity was, when "
        "the officer recorded them. --cleared-as-declared adds the scans analysts cleared "
        "(and no one examined) as found as declared: far more of them, but labelled by a "
        "person's eye, not by opening the container.",
        "  smartcustoms scans export-labels labelled/\n"
        "  smartcustoms scans evaluate labelled/ --labels labelled/labels.csv",
    )
)


def export_labels(
    ctx: typer.Context,
    output: Annotated[Path, typer.Argument(help="Folder to write (created if absent).")],
    cleared_as_declared: Annotated[
        bool,
        typer.Option(
            "--cleared-as-declared", help="Also cleared scans no one examined, as as_declared."
        ),
    ] = False,
) -> None:
    from smartcustoms.scans.labels import export_labelled_scans
    from smartcustoms.scans.storage import store_for

    output.mkdir(parents=True, exist_ok=True)

    def skipped(scan: ScanRow, exc: SmartCustomsError) -> None:
        console.print(f"[yellow]skipped scan {scan.id}:[/] {exc.message}", highlight=False)

    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        rows = export_labelled_scans(
            session,
            store_for(app_ctx.settings),
            output,
            cleared_as_declared=cleared_as_declared,
            on_skipped=skipped,
        )
    irregular = sum(r["outcome"] == "irregular" for r in rows)
    console.print(
        f"wrote {len(rows)} scans ({irregular} irregular, {len(rows) - irregular} as declared) "
        f"and {output / 'labels.csv'}",
        highlight=False,
    )
