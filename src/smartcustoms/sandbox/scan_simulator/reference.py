"""A simulated reference scan – step wedges of known materials – and the site calibration.

A site calibrates its scanner by scanning reference objects of known material and areal density
and fitting the model's factors to what it measured (:func:`smartcustoms.scans.calibrate.
calibrate_from_reference_scan`). The simulated site does the same on this scan, so the analysis
never sees the simulator's own physics.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from smartcustoms.sandbox.scan_simulator.detector import DetectorModel, expose
from smartcustoms.sandbox.scan_simulator.scene import Box, Grid, Scene, rasterize
from smartcustoms.sandbox.scan_simulator.site import SCANNER_ID, truth_calibration
from smartcustoms.scans.calibrate import ReferenceObject, calibrate_from_reference_scan
from smartcustoms.scans.model import BeamGeometry, EnergyChannel, Scan, ScanMetadata
from smartcustoms.scans.physics.calibration import Calibration
from smartcustoms.scans.physics.materials import MATERIALS

__all__ = ["REFERENCE_STEPS", "reference_scan", "simulated_site_calibration"]

# Areal densities (g/cm²) of the steps of each wedge.
REFERENCE_STEPS: dict[str, tuple[float, ...]] = {
    "polyethylene": (5.0, 20.0, 50.0, 100.0, 160.0, 220.0),
    "aluminium": (5.0, 20.0, 50.0, 100.0, 150.0, 200.0),
    "steel": (5.0, 20.0, 50.0, 100.0, 150.0, 200.0),
    "lead": (5.0, 20.0, 50.0, 90.0, 130.0, 170.0),
}
_HEIGHTS = ((0.35, 0.65), (2.25, 2.55))  # a low and a high copy: two elevations


def reference_scan(
    seed: int = 0, detector: DetectorModel | None = None
) -> tuple[Scan, list[ReferenceObject]]:
    """The wedge scan and where each step lies in it."""
    rng = np.random.default_rng(seed)
    pitch_x, pitch_y = 0.0055, 0.006
    steps = [(m, lam) for m, lams in REFERENCE_STEPS.items() for lam in lams]
    grid = Grid(520, int(np.ceil((0.2 + 0.13 * len(steps)) / pitch_x)), pitch_x, pitch_y)
    scene = Scene()
    objects: list[ReferenceObject] = []
    for i, (name, lam) in enumerate(steps):
        x0 = 0.1 + 0.13 * i
        rho = MATERIALS[name].density
        for y0, y1 in _HEIGHTS:
            scene.add(Box(x0, x0 + 0.1, y0, y1, 0.0, lam / rho / 100.0, name, rho, "reference"))
            c0, c1 = grid.col_range(x0, x0 + 0.1)
            r0, r1 = grid.row_range(y0, y1)
            objects.append(ReferenceObject(MATERIALS[name], lam, (c0 + 3, r0 + 3, c1 - 3, r1 - 3)))
    beam = BeamGeometry(
        source_row=grid.rows - 0.52 / pitch_y, source_distance_mm=6000.0, projection="parallel"
    )
    angles = beam.row_angles_deg(grid.rows, pitch_y * 1000)
    high, low = expose(
        rasterize(scene, grid), angles, truth_calibration(), detector or DetectorModel(), rng
    )
    channels = tuple(
        EnergyChannel(e.channel, nominal, e.counts, e.air, e.dark)
        for e, nominal in ((high, 9.0), (low, 6.0))
    )
    meta = ScanMetadata(scanner_id=SCANNER_ID, extra={"reference_scan": True})
    return Scan(channels, pitch_x * 1000, pitch_y * 1000, meta, beam), objects


@cache
def simulated_site_calibration() -> Calibration:
    """Constant (a, b, c) fitted on the simulated site's reference scan (seed 0)."""
    scan, objects = reference_scan(0)
    return calibrate_from_reference_scan(
        scan,
        objects,
        calibration_id="SIM-LINAC-9/6/ref-2025-01",
        source="reference scan (simulated)",
    )
