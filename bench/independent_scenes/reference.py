"""Reference scans of the independent family's scanner: step wedges and test pieces in open air.

What a site does to calibrate its scanner: it drives a frame of reference objects through the
portal – steps of water, cellulose (paper board), aluminium and iron, each of a known thickness
– and tells the calibration what each step is and where it lies in the image. This module makes
that scan with the family's own physics (its attenuation table, spectra, fan beam and detector,
exactly as its container scenes) and writes, beside the TIFF and sidecar, the wedge's data sheet
as the site would write it for ``smartcustoms scans calibrate``: a JSON list of objects with the
material's name in the product's vocabulary, the areal density along the beam (g/cm²) and a box
of pixels well inside the step (end-exclusive columns and rows).

The same frame with other pieces (:data:`CHECK_PIECES`: water slabs, thin steel sheets, a
garment carton) makes a second scan, never used for the fit, on which the calibration is checked.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import SEED_BASE, exposures, sidecar_channels, write_counts
from .attenuation import Material
from .detector import Detector, detect
from .geometry import Box, Placement, project, rasterise

__all__ = [
    "CHECK_PIECES",
    "WEDGE_STEPS",
    "Piece",
    "ReferenceScene",
    "make_reference",
    "write_reference",
]

#: The family's materials for reference pieces, and the product's name for each (its
#: ``smartcustoms.scans.physics.materials.MATERIALS``): pure iron is its "steel" (element 26),
#: cellulose its "paper" (C₆H₁₀O₅).
PIECE_MATERIALS: dict[str, tuple[Material, str]] = {
    "water": (Material.of("water", water=1.0), "water"),
    "cellulose": (Material.of("cellulose", cellulose=1.0), "paper"),
    "aluminium": (Material.of("aluminium", aluminium=1.0), "aluminium"),
    "iron": (Material.of("iron", iron=1.0), "steel"),
    "garments": (Material.of("garments", cellulose=0.97, water=0.03), "cotton textile"),
}
DENSITY = {"water": 1.0, "cellulose": 0.7, "aluminium": 2.70, "iron": 7.87, "garments": 0.25}

#: The step wedges (areal density along the beam, g/cm²): from a container's thin steel sheet to
#: the thickest loads the family has.
WEDGE_STEPS: dict[str, tuple[float, ...]] = {
    "water": (5.0, 10.0, 20.0, 40.0, 80.0, 120.0, 160.0),
    "cellulose": (5.0, 20.0, 50.0, 100.0),
    "aluminium": (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 150.0),
    "iron": (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 150.0),
}
#: Test pieces for checking a calibration: thicknesses the wedges do not have.
CHECK_PIECES: dict[str, tuple[float, ...]] = {
    "water": (15.0, 30.0, 60.0),  # 15, 30, 60 cm of water
    "iron": (1.26, 1.57, 3.1),  # 1.6 mm and 2 mm sheet (a container's walls), 4 mm plate
    "garments": (35.0, 58.75),  # a 1.4 m and a 2.35 m deep stack of 0.25 g/cm³ cartons
}

STEP_WIDTH_M = 0.28  # along the scan: a step spans ~50 columns
HEIGHTS_M = ((0.25, 1.05), (1.45, 2.25))  # a low and a high copy: two elevations in a fan beam
INSET_PX = (8, 30)  # the box keeps this far (columns, rows) from a step's edges: blur and halo


@dataclass(frozen=True)
class Piece:
    """One reference piece as the site's data sheet gives it."""

    material: str  # the product's name for it
    areal_density: float  # g/cm² along the beam
    box: tuple[int, int, int, int]  # (col0, row0, col1, row1), end-exclusive, inside the piece

    def to_dict(self) -> dict[str, Any]:
        return {
            "material": self.material,
            "areal_density_g_cm2": self.areal_density,
            "box": list(self.box),
        }


@dataclass
class ReferenceScene:
    counts: list[NDArray[np.uint16]]
    sidecar: dict[str, Any]
    pieces: list[Piece]
    family_material: list[str]  # the family's own name of each piece (same order)
    detector: Detector


def make_reference(
    steps: dict[str, tuple[float, ...]] = WEDGE_STEPS, *, seed: int = 0, fan: bool = True
) -> ReferenceScene:
    """A scan of ``steps`` (family material → areal densities), each at two heights, through the
    family's scanner (a fan beam by default, as most of its portals)."""
    rng = np.random.default_rng([SEED_BASE, seed, 29])
    px, py = 5.5, 6.0
    px_m, py_m = px / 1000, py / 1000
    pieces = [(name, lam) for name, lams in steps.items() for lam in lams]
    length = 0.3 + (STEP_WIDTH_M + 0.1) * len(pieces)
    height = 2.6
    rows, cols = math.ceil(height / py_m), math.ceil(length / px_m)
    source_h, source_d = (1.2, 8.5) if fan else (None, None)
    place = Placement(rows, cols, px_m, py_m, 0.0, 0.0, 0.0, source_h, source_d)
    boxes: list[Box] = []
    out: list[Piece] = []
    names: list[str] = []
    for i, (name, lam) in enumerate(pieces):
        mat, product_name = PIECE_MATERIALS[name]
        rho = DENSITY[name]
        u0 = 0.2 + (STEP_WIDTH_M + 0.1) * i
        u1 = u0 + STEP_WIDTH_M
        for v0, v1 in HEIGHTS_M:
            depth = lam / rho / 100.0  # m along the beam
            boxes.append(Box(u0, u1, v0, v1, -depth / 2, depth / 2, rho, mat))
            # where the piece's faces land: the near face is magnified most in a fan beam
            corners = [place.to_image(u, v, w) for u in (u0, u1) for v in (v0, v1) for w in (0,)]
            c0 = math.ceil(min(c for c, _ in corners)) + INSET_PX[0]
            c1 = math.floor(max(c for c, _ in corners)) - INSET_PX[0]
            r0 = math.ceil(min(r for _, r in corners)) + INSET_PX[1]
            r1 = math.floor(max(r for _, r in corners)) - INSET_PX[1]
            out.append(Piece(product_name, lam, (c0, r0, c1, r1)))
            names.append(name)
    grid = rasterise(boxes, place, v_min=0.0, v_max=height, u_max=length, fan=fan)
    trans = exposures(project(grid, place), place)
    det = Detector.draw(rng)
    counts, air, dark = detect(trans, det, rng)
    sidecar: dict[str, Any] = {
        "format": "smartcustoms.scan-sidecar/1",
        "scanner_id": "IND-REF",
        "pixel_pitch_mm": {"x": px, "y": py},
        "channels": sidecar_channels(air, dark, bool(rng.random() < 0.5)),
        "acquired_at": "2026-02-27T08:00:00+00:00",
    }
    if fan:
        assert source_h is not None and source_d is not None
        sidecar["beam"] = {
            "source_row": round(rows - source_h / py_m - 0.5, 3),
            "source_distance_mm": round(source_d * 1000, 1),
        }
    return ReferenceScene(counts, sidecar, out, names, det)


def write_reference(scene: ReferenceScene, folder: Path, name: str = "IND-REF") -> Path:
    """``folder/NAME.tif`` and its sidecar, and the data sheet ``NAME.objects.json``."""
    path = write_counts(scene.counts, scene.sidecar, folder / f"{name}.tif")
    sheet = {"objects": [p.to_dict() for p in scene.pieces]}
    (folder / f"{name}.objects.json").write_text(json.dumps(sheet, indent=1), encoding="utf-8")
    return path
