"""Calibrating the product to the independent family's scanner, and what it changes.

    .venv/bin/python bench/scans_calibration.py

1. The family's reference scan (``bench/independent_scenes/reference.py``: step wedges of water,
   cellulose, aluminium and iron made with the family's own physics and detector) is written as
   a site would acquire it – TIFF, sidecar and the wedge's data sheet – and calibrated through
   the product's own path, ``smartcustoms scans calibrate`` (:func:`calibrate_files`).
2. Another scan of the same scanner (other seed, other detector draw) with test pieces the
   wedges do not have – 15/30/60 cm of water, 1.6 mm, 2 mm and 4 mm steel sheet, garment
   cartons 1.4 and 2.35 m deep – is decomposed by the product with the shipped calibration
   (Geant4 fit, *before*) and with the site's (*after*): areal density against the truth, Z_eff.
"""

from __future__ import annotations

import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from independent_scenes.reference import CHECK_PIECES, make_reference, write_reference

from smartcustoms.cli.scans_calibrate import Fit, calibrate_files
from smartcustoms.scans import read_scan
from smartcustoms.scans.physics.calibration import Calibration, geant4_calibration
from smartcustoms.scans.physics.decompose import decomposer
from smartcustoms.scans.preprocess import attenuation

REFERENCE_SEED = 0  # the wedge scan the site calibrates on
CHECK_SEED = 1  # the test pieces: another scan, never fitted


def site_fit(seed: int = REFERENCE_SEED) -> Fit:
    """The independent scanner's calibration, through the product's calibration command."""
    with tempfile.TemporaryDirectory(prefix="ind-ref-") as folder:
        path = write_reference(make_reference(seed=seed), Path(folder))
        return calibrate_files(
            path, path.with_suffix(".objects.json"), calibration_id=f"IND-SITE/ref-{seed}"
        )


@cache
def site_calibration() -> dict[str, Any]:
    """The sidecar ``calibration`` object a calibrated independent scanner writes."""
    return site_fit().calibration.to_dict()


def check_pieces(cal: Calibration) -> list[tuple[str, float, float, float]]:
    """(family material, true g/cm², imaged g/cm² mean, Z_eff median) of each test piece."""
    scene = make_reference(CHECK_PIECES, seed=CHECK_SEED)
    with tempfile.TemporaryDirectory(prefix="ind-check-") as folder:
        scan = read_scan(write_reference(scene, Path(folder), "IND-CHECK"))
    att = attenuation(scan)
    assert att.low is not None
    parts = decomposer(cal).decompose(att.high, att.low, scan.row_angles_deg())
    out = []
    for name, piece in zip(scene.family_material, scene.pieces, strict=True):
        c0, r0, c1, r1 = piece.box
        lam = float(np.mean(parts.areal_density[r0:r1, c0:c1]))
        z = float(np.median(parts.z_eff[r0:r1, c0:c1]))
        out.append((name, piece.areal_density, lam, z))
    return out


def main() -> None:
    from scans_common import machine

    print("# The independent family's scanner calibrated with `smartcustoms scans calibrate`")
    print(f"# on {machine()}; reference scan seed {REFERENCE_SEED}, test pieces seed {CHECK_SEED}")
    fit = site_fit()
    before = np.abs(np.array(fit.shipped_error))
    after = np.abs(np.array(fit.fitted_error))
    print(f"\n{len(fit.references)} wedge steps; α error of the model, |relative|, high / low:")
    print(
        f"  shipped (Geant4 fit): median {100 * np.median(before[:, 0]):.1f} / "
        f"{100 * np.median(before[:, 1]):.1f} %, max {100 * before[:, 0].max():.1f} / "
        f"{100 * before[:, 1].max():.1f} %"
    )
    print(
        f"  site calibration:     median {100 * np.median(after[:, 0]):.1f} / "
        f"{100 * np.median(after[:, 1]):.1f} %, max {100 * after[:, 0].max():.1f} / "
        f"{100 * after[:, 1].max():.1f} %"
    )
    print(f"  fitted: {fit.calibration.to_dict()}")
    print("\n## Test pieces (another scan), imaged areal density and Z_eff, before → after")
    print("| piece | true g/cm² | imaged before | error | Z_eff | imaged after | error | Z_eff |")
    print("|---|---|---|---|---|---|---|---|")
    rows_before = check_pieces(geant4_calibration())
    rows_after = check_pieces(fit.calibration)
    for (name, truth, lam0, z0), (_, _, lam1, z1) in zip(rows_before, rows_after, strict=True):
        print(
            f"| {name} | {truth:g} | {lam0:.2f} | {100 * (lam0 / truth - 1):+.1f} % | {z0:.1f} | "
            f"{lam1:.2f} | {100 * (lam1 / truth - 1):+.1f} % | {z1:.1f} |"
        )
    print("\nWater and garments (cellulose) should read Z_eff ≈ 7, iron ≈ 26.")


if __name__ == "__main__":
    main()
