"""Calibrating a scanner on site: measure reference objects in a scan, fit the model to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from smartcustoms.scans.errors import ScanInputError
from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.calibration import (
    Calibration,
    ReferenceMeasurement,
    fit_calibration,
)
from smartcustoms.scans.physics.materials import Material
from smartcustoms.scans.preprocess import attenuation

__all__ = ["ReferenceObject", "calibrate_from_reference_scan", "measure_references"]


@dataclass(frozen=True)
class ReferenceObject:
    """A reference object in a scan: material, areal density along the beam, and a pixel box
    (col0, row0, col1, row1; end-exclusive) lying wholly inside it."""

    material: Material
    areal_density: float
    box: tuple[int, int, int, int]


def measure_references(
    scan: Scan, objects: Sequence[ReferenceObject]
) -> list[ReferenceMeasurement]:
    """Mean α of each object's box in both channels, at the box's mean elevation."""
    if not scan.is_dual_energy:
        raise ScanInputError("calibration needs a dual-energy scan", field="channels")
    att = attenuation(scan)
    assert att.low is not None
    angles = scan.row_angles_deg()
    rows, cols = scan.shape
    out = []
    for i, obj in enumerate(objects):
        c0, r0, c1, r1 = obj.box
        if not (0 <= c0 < c1 <= cols and 0 <= r0 < r1 <= rows):
            raise ScanInputError(
                f"reference object {i} box {obj.box} is outside the scan", field=f"objects[{i}].box"
            )
        out.append(
            ReferenceMeasurement(
                material=obj.material,
                areal_density=obj.areal_density,
                alpha_high=float(np.mean(att.high[r0:r1, c0:c1])),
                alpha_low=float(np.mean(att.low[r0:r1, c0:c1])),
                angle_deg=float(np.mean(angles[r0:r1])),
            )
        )
    return out


def calibrate_from_reference_scan(
    scan: Scan,
    objects: Sequence[ReferenceObject],
    *,
    calibration_id: str | None = None,
    source: str = "reference scan",
    spectrum_terms: bool = False,
) -> Calibration:
    """Fit the scanner's calibration to the reference objects seen in ``scan``;
    ``spectrum_terms`` also fits its filtration (see :func:`fit_calibration`)."""
    refs = measure_references(scan, objects)
    try:
        return fit_calibration(
            refs, source=source, calibration_id=calibration_id, spectrum_terms=spectrum_terms
        )
    except ValueError as exc:
        raise ScanInputError(str(exc), field="objects") from exc
