"""The shared first step of every analysis: corrected attenuation, decomposition, geometry."""

from __future__ import annotations

from dataclasses import dataclass

from smartcustoms.scans.analyses.geometry import ContainerGeometry, locate_container
from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.calibration import Calibration, geant4_calibration
from smartcustoms.scans.physics.decompose import Decomposer, Decomposition, decomposer
from smartcustoms.scans.preprocess import Attenuation, attenuation

__all__ = ["Imaged", "image"]


@dataclass(frozen=True, eq=False)
class Imaged:
    """A scan with everything the analyses read from it."""

    scan: Scan
    attenuation: Attenuation
    decomposition: Decomposition
    geometry: ContainerGeometry
    decomposer: Decomposer

    @property
    def pixel_area_cm2(self) -> float:
        return self.scan.pixel_area_cm2


def image(scan: Scan, calibration: Calibration | None = None) -> Imaged:
    """Correct, decompose and locate. The calibration is, in order of preference: the one
    passed, the scan's own (from its sidecar or DICOS header), the shipped Geant4 fit."""
    cal = calibration or scan.metadata.calibration or geant4_calibration()
    dec = decomposer(cal)
    att = attenuation(scan)
    parts = dec.decompose(att.high, att.low, scan.row_angles_deg())
    geom = locate_container(
        att.high, scan.pitch_x_mm, scan.pitch_y_mm, scan.metadata.container_type
    )
    return Imaged(scan, att, parts, geom, dec)
