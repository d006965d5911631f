"""The shared first step of every analysis: corrected attenuation, decomposition, geometry.

The container's frame is found first (:mod:`.frame`), and when the container is tilted or bowed
the images are rectified into that frame, so every analysis after this one sees a level box
whatever the trailer did. ``frame`` says what was found; the analyses' pixel boxes are in the
rectified frame and :meth:`Imaged.to_image_box` takes them back to the scan's own pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.analyses.frame import (
    ContainerFrame,
    find_frame,
    rectify,
    rectify_int,
    to_image_box,
)
from smartcustoms.scans.analyses.geometry import ContainerGeometry, locate_container
from smartcustoms.scans.container_types import spec_for_iso_code, spec_for_length
from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.calibration import Calibration, geant4_calibration
from smartcustoms.scans.physics.decompose import Decomposer, Decomposition, decomposer
from smartcustoms.scans.preprocess import Attenuation, attenuation

__all__ = ["Imaged", "image"]

_STILL_PX = 0.25  # a frame whose moves stay under this is left as it is (no interpolation)


@dataclass(frozen=True, eq=False)
class Imaged:
    """A scan with everything the analyses read from it (in the container's frame)."""

    scan: Scan
    attenuation: Attenuation
    decomposition: Decomposition
    geometry: ContainerGeometry
    decomposer: Decomposer
    frame: ContainerFrame | None = None
    rectified: bool = False

    @property
    def pixel_area_cm2(self) -> float:
        return self.scan.pixel_area_cm2

    def load_channels(self) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """High- and low-energy attenuation over the load space (float64), or None for a
        single-energy scan."""
        if self.attenuation.low is None:
            return None
        c0, r0, c1, r1 = self.geometry.interior
        high = self.attenuation.high[r0:r1, c0:c1].astype(np.float64)
        return high, self.attenuation.low[r0:r1, c0:c1].astype(np.float64)

    def to_image_box(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """A box in the analyses' frame, in the scan's own pixels."""
        if not self.rectified or self.frame is None:
            return box
        pitch = (self.scan.pitch_x_mm, self.scan.pitch_y_mm)
        return to_image_box(box, self.frame, pitch, self.scan.shape)


def _frame(att: Attenuation, scan: Scan) -> ContainerFrame | None:
    sees = att.high > 0.04
    idx = np.flatnonzero(sees.mean(axis=0) > 0.3)
    if idx.size < 10:
        return None
    c0, c1 = int(idx[0]), int(idx[-1]) + 1
    spec = spec_for_iso_code(scan.metadata.container_type)
    if spec is None:
        spec = spec_for_length((c1 - c0) * scan.pitch_x_mm / 1000, 2.591)
    return find_frame(att.high, scan.pitch_x_mm, scan.pitch_y_mm, spec, (c0, c1), scan.beam)


def image(
    scan: Scan,
    calibration: Calibration | None = None,
    *,
    rectified: bool = True,
    frame_finder: bool = True,
) -> Imaged:
    """Correct, decompose, find the frame and locate. The calibration is, in order of
    preference: the one passed, the scan's own (from its sidecar or DICOS header), the shipped
    Geant4 fit. ``rectified=False`` keeps the scan's own pixels (for display);
    ``frame_finder=False`` assumes a level box seen by parallel rays, as before the frame finder
    (a baseline for ``bench/scans_geometry.py``)."""
    cal = calibration or scan.metadata.calibration or geant4_calibration()
    dec = decomposer(cal)
    att = attenuation(scan)
    parts = dec.decompose(att.high, att.low, scan.row_angles_deg())
    frame = _frame(att, scan) if frame_finder else None
    moved = False
    # A misread frame (ContainerFrame.misread) is not straightened by: the scan is read as it
    # came, the frame reported unsure.
    if frame is not None and rectified and not frame.misread:
        rows, cols = scan.shape
        dv = frame.shift_rows(cols)[frame.cols[0] : frame.cols[1]]
        lean = abs(np.sin(np.radians(frame.tilt_deg))) * rows * scan.pitch_y_mm / scan.pitch_x_mm
        moved = bool(float(np.abs(dv).max(initial=0.0)) > _STILL_PX or lean / 2 > _STILL_PX)
    if moved and frame is not None:
        pitch = (scan.pitch_x_mm, scan.pitch_y_mm)
        att = replace(
            att,
            high=rectify(att.high, frame, pitch),
            low=None if att.low is None else rectify(att.low, frame, pitch),
        )
        parts = Decomposition(
            rectify(parts.areal_density, frame, pitch),
            rectify_int(parts.z_eff, frame, pitch),  # type: ignore[arg-type]
            rectify_int(parts.material_class, frame, pitch),  # type: ignore[arg-type]
        )
    hint = None
    fan = None
    if frame is not None:
        c0, c1 = frame.cols
        xs = np.arange(c0, c1, dtype=np.float64)
        roof = frame.roof.at(xs) - (frame.shift_rows(scan.shape[1])[c0:c1] if moved else 0.0)
        floor = frame.floor.at(frame.floor.c_mid if moved else xs)
        inner = slice(len(xs) // 20, len(xs) - len(xs) // 20)
        hint = (
            # With a fan beam the near wall's roof still leans after straightening (parallax):
            # its height at mid-length is the one the beam's geometry is read from.
            int(np.floor(roof[inner].min()))
            if not scan.beam.fan
            else int(np.floor(frame.roof.at(frame.roof.c_mid))),
            int(np.ceil(roof[inner].max())),
            int(np.round(np.median(floor))),
        )
        if scan.beam.fan and scan.beam.source_row is not None and scan.beam.source_distance_mm:
            spec = spec_for_iso_code(scan.metadata.container_type)
            d = scan.beam.source_distance_mm / 1000.0
            w = (spec.width if spec else 2.438) / 2.0
            fan = (scan.beam.source_row, d / (d - w), d / (d + w))
    geom = locate_container(
        att.high,
        scan.pitch_x_mm,
        scan.pitch_y_mm,
        scan.metadata.container_type,
        rows=hint if (moved or fan is not None or _chassis(att, hint)) else None,
        fan=fan,
    )
    top = bottom = 0
    if moved:
        bottom += 1  # interpolation spreads the floor's steep top edge into the row above it
    if frame is not None and frame.parallax_px > 0.5:
        # A tilted box in a fan beam: its near and far edges lean differently, so the roof and
        # floor bands are wider at the ends than one shift per column can straighten.
        extra = int(np.ceil(2.0 * frame.parallax_px))
        top, bottom = top + extra, bottom + extra
    if top or bottom:
        geom = replace(geom, empty_trim=(top, bottom))
    return Imaged(scan, att, parts, geom, dec, frame, bool(moved))


def _chassis(att: Attenuation, hint: tuple[int, int, int] | None) -> bool:
    """Something dense continues well below the floor: a chassis, rails, wheels."""
    if hint is None:
        return False
    rows = att.high.shape[0]
    below = att.high[min(rows - 1, hint[2] + 40) :, :]
    return bool(below.size and np.median(below, axis=1).max(initial=0.0) > 0.5)
