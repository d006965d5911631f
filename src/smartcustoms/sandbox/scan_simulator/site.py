"""The simulated site's scanner: its identity and its true physics.

Both the scanner model (:mod:`.scanner`) and the site's reference scan (:mod:`.reference`) need
them; they live here so that neither imports the other's caller.
"""

from __future__ import annotations

from functools import cache

from smartcustoms.scans.physics.calibration import Calibration, geant4_calibration

__all__ = ["SCANNER_ID", "truth_calibration"]

SCANNER_ID = "SIM-LINAC-9/6"


@cache
def truth_calibration() -> Calibration:
    """The simulator's physics: Geant4-fitted factors with their change over elevation."""
    return geant4_calibration(angle_terms=True)
