"""``smartcustoms scans calibrate``: fit the attenuation model to a site's own scanner."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smartcustoms.cli.common import console, fail
from smartcustoms.cli.scans_batch import check_output, write_atomically

if TYPE_CHECKING:
    from smartcustoms.scans.calibrate import ReferenceObject
    from smartcustoms.scans.physics.calibration import Calibration, ReferenceMeasurement

# Nothing of `smartcustoms.scans` at module level (see cli/scans.py): imported when run.

__all__ = ["CALIBRATE_HELP", "Fit", "calibrate_command", "calibrate_files", "reference_objects"]

CALIBRATE_HELP = "\n\n".join(
    (
        "Calibrate a scanner: fit the analyses' attenuation model to a scan of reference "
        "objects of known materials and thicknesses (step wedges).",
        "FILE is the reference scan (TIFF with its sidecar, or DICOS); --objects a JSON data "
        'sheet: {"objects": [{"material": "steel", "areal_density_g_cm2": 20, "box": [col0, '
        "row0, col1, row1]}, …]} – the material by its name in the analyses' list (water, "
        "paper, polyethylene, aluminium, steel, lead …), its areal density along the beam, and "
        "a box of pixels (end-exclusive) well inside it, clear of its edges. Three materials at "
        "least; several thicknesses of each let the fit read the scanner's own spectrum too.",
        "  smartcustoms scans calibrate wedge.tif --objects wedge.objects.json \\\n"
        "      --id SITE-A/2026-03 --output calibration.json",
        "It prints how far the shipped model and the fitted one are from each object, and "
        "writes the calibration as JSON: the object a scan sidecar's `calibration` field holds, "
        "which the analyses then use for that scanner's scans.",
    )
)


@dataclass(frozen=True)
class Fit:
    """A calibration and how well the model reproduces each reference, before and after."""

    calibration: Calibration
    references: list[ReferenceMeasurement]
    shipped_error: list[tuple[float, float]]  # relative α error (high, low) per reference
    fitted_error: list[tuple[float, float]]


def _number(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        from smartcustoms.scans import ScanInputError

        raise ScanInputError(f"{where} must be a positive number", field=where)
    return float(value)


def reference_objects(data: Any) -> list[ReferenceObject]:
    """The data sheet's objects; a typed error naming the field when one is malformed."""
    from smartcustoms.scans import ReferenceObject, ScanInputError
    from smartcustoms.scans.physics.materials import MATERIALS

    items = data.get("objects") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ScanInputError("the data sheet needs a non-empty list 'objects'", field="objects")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ScanInputError(f"objects[{i}] must be an object", field=f"objects[{i}]")
        name = item.get("material")
        if not isinstance(name, str) or name not in MATERIALS:
            raise ScanInputError(
                f"objects[{i}].material: {name!r} is not one of {', '.join(sorted(MATERIALS))}",
                field=f"objects[{i}].material",
            )
        lam = _number(item.get("areal_density_g_cm2"), f"objects[{i}].areal_density_g_cm2")
        box = item.get("box")
        if (
            not isinstance(box, list)
            or len(box) != 4
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in box)
        ):
            raise ScanInputError(
                f"objects[{i}].box must be four whole pixel numbers [col0, row0, col1, row1]",
                field=f"objects[{i}].box",
            )
        out.append(ReferenceObject(MATERIALS[name], lam, (box[0], box[1], box[2], box[3])))
    return out


def _errors(refs: Sequence[ReferenceMeasurement], cal: Calibration) -> list[tuple[float, float]]:
    import numpy as np

    from smartcustoms.scans.physics.calibration import model_alpha
    from smartcustoms.scans.physics.spectra import Channel

    high = model_alpha(refs, cal, Channel.HIGH) / np.array([r.alpha_high for r in refs]) - 1
    low = model_alpha(refs, cal, Channel.LOW) / np.array([r.alpha_low for r in refs]) - 1
    return [(float(h), float(lo)) for h, lo in zip(high, low, strict=True)]


def calibrate_files(
    scan_path: Path,
    objects_path: Path,
    *,
    calibration_id: str | None = None,
    spectrum: bool = True,
) -> Fit:
    """Read the reference scan and its data sheet, fit, and measure the fit.

    Raises ``ScanReadError`` for an unreadable scan, ``ScanInputError`` for a bad data sheet
    (naming the field) or references the fit cannot use."""
    from smartcustoms.scans import ScanInputError, read_scan
    from smartcustoms.scans.calibrate import measure_references
    from smartcustoms.scans.physics.calibration import fit_calibration, geant4_calibration

    try:
        sheet = json.loads(objects_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScanInputError(
            f"{objects_path}: not a readable JSON file ({exc})", field="objects"
        ) from None
    objects = reference_objects(sheet)
    scan = read_scan(scan_path)
    refs = measure_references(scan, objects)
    try:
        cal = fit_calibration(
            refs,
            spectrum_terms=spectrum,
            source=f"reference scan {scan_path.name}",
            calibration_id=calibration_id,
        )
    except ValueError as exc:
        raise ScanInputError(str(exc), field="objects") from exc
    return Fit(cal, refs, _errors(refs, geant4_calibration()), _errors(refs, cal))


def calibrate_command(
    file: Annotated[
        Path, typer.Argument(help="The reference scan (.tif with its sidecar, or .dcm).")
    ],
    objects: Annotated[
        Path,
        typer.Option("--objects", help="The reference objects' data sheet (JSON).", exists=True),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the calibration JSON here (default: print it)."),
    ] = None,
    calibration_id: Annotated[
        str | None,
        typer.Option("--id", help="An identifier for this calibration, e.g. SITE-A/2026-03."),
    ] = None,
    spectrum: Annotated[
        bool,
        typer.Option(
            "--spectrum/--no-spectrum",
            help="Also fit each channel's filtration (the scanner's own beam hardening).",
        ),
    ] = True,
) -> None:
    from smartcustoms.scans import ScanInputError, ScanReadError

    if output is not None:
        refused = check_output(output, [file])
        if refused:
            fail(refused, 2)
    try:
        fit = calibrate_files(file, objects, calibration_id=calibration_id, spectrum=spectrum)
    except (ScanInputError, ScanReadError) as exc:
        fail(f"{file}: {exc.message}", 2)
    from rich.table import Table

    table = Table("material", "g/cm²", "angle°", "shipped α err H/L", "fitted α err H/L")
    for ref, before, after in zip(fit.references, fit.shipped_error, fit.fitted_error, strict=True):
        table.add_row(
            ref.material.name,
            f"{ref.areal_density:g}",
            f"{ref.angle_deg:+.1f}",
            f"{100 * before[0]:+.1f} / {100 * before[1]:+.1f} %",
            f"{100 * after[0]:+.1f} / {100 * after[1]:+.1f} %",
        )
    console.print(table)
    worst = max(max(abs(h), abs(lo)) for h, lo in fit.fitted_error)
    console.print(
        f"{len(fit.references)} reference objects; largest α error after the fit "
        f"{100 * worst:.1f} %",
        highlight=False,
    )
    text = json.dumps(fit.calibration.to_dict(), indent=2, ensure_ascii=False)
    if output is None:
        typer.echo(text)
    else:
        write_atomically(output, text + "\n")
        console.print(f"calibration written to {output}", highlight=False)
