"""The ``Scan``: what every reader produces and every analysis consumes.

A scan is one side-view transmission image of a container: one or two energy channels of raw
detector counts (rows = detector elements from top to bottom, columns = scan lines along the
container), with each channel's open-beam (air) and dark levels per detector row, the pixel pitch
in the object plane, the beam geometry and what the scan is of (scanner, container, declaration).
Counts stay as the scanner wrote them; attenuation is derived on demand so that nothing is lost
if the calibration changes later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.physics.attenuation import alpha_from_counts
from smartcustoms.scans.physics.calibration import Calibration
from smartcustoms.scans.physics.spectra import Channel

__all__ = ["BeamGeometry", "EnergyChannel", "Scan", "ScanMetadata"]


@dataclass(frozen=True, eq=False)
class EnergyChannel:
    """One energy channel: counts (rows, columns) and its per-row air and dark levels."""

    name: Channel
    nominal_mev: float
    counts: NDArray[np.uint16]
    air: NDArray[np.float32]  # open-beam level per detector row, same units as counts
    dark: NDArray[np.float32]  # level with the beam off, per detector row

    def attenuation(self) -> NDArray[np.float32]:
        """α = −ln((I − dark)/(air − dark)) per pixel."""
        return alpha_from_counts(self.counts, self.air[:, None], self.dark[:, None])


@dataclass(frozen=True)
class BeamGeometry:
    """Where the source sits relative to the image, for the elevation angle of each row.

    A linac's spectrum softens away from the beam axis, so the physics needs each row's angle:
    ``source_row`` is the (fractional) row on the beam axis and ``source_distance_mm`` the
    distance from the source to the object plane (the plane the pixel pitch is given in, taken
    to be the container's centre plane). Unknown geometry means every row on-axis.

    ``projection`` says what the image's rows are: ``"fan"`` (the default, what a linac scanner
    records: rays from the source, so the near and far walls' roof and floor edges land at
    different heights and every ray crosses the load 1/cos φ longer than it is wide) or
    ``"parallel"`` (an image already rectified to parallel rays, or a simulation made so). It
    only matters when the source is known.
    """

    source_row: float | None = None
    source_distance_mm: float | None = None
    projection: str = "fan"

    @property
    def fan(self) -> bool:
        """Rays from a known source (parallax and oblique paths apply)."""
        return (
            self.projection == "fan"
            and self.source_row is not None
            and self.source_distance_mm is not None
        )

    def row_angles_deg(self, rows: int, pitch_y_mm: float) -> NDArray[np.float64]:
        """Elevation of each row above (+) or below (−) the beam axis, in degrees."""
        if self.source_row is None or self.source_distance_mm is None:
            return np.zeros(rows)
        offset_mm = (self.source_row - np.arange(rows)) * pitch_y_mm
        return np.asarray(np.degrees(np.arctan2(offset_mm, self.source_distance_mm)), np.float64)


@dataclass(frozen=True)
class ScanMetadata:
    """What the scan is of and where it came from."""

    scanner_id: str
    container_number: str | None = None  # ISO 6346, validated by the readers
    container_type: str | None = None  # ISO 6346 size-type code, e.g. "22G1", "45G1", "45R1"
    declaration_ref: str | None = None
    acquired_at: datetime | None = None
    calibration: Calibration | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Scan:
    """A side-view transmission scan with one (single-energy) or two (high, low) channels."""

    channels: tuple[EnergyChannel, ...]
    pitch_x_mm: float  # along the container (scan direction), in the object plane
    pitch_y_mm: float  # vertical, in the object plane
    metadata: ScanMetadata
    beam: BeamGeometry = BeamGeometry()
    source: Path | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.channels) <= 2:
            raise ValueError("a scan has one or two energy channels")
        shapes = {c.counts.shape for c in self.channels}
        if len(shapes) != 1:
            raise ValueError(f"channels differ in shape: {sorted(shapes)}")
        names = [c.name for c in self.channels]
        if len(set(names)) != len(names):
            raise ValueError("two channels share a name")
        if not (self.pitch_x_mm > 0 and self.pitch_y_mm > 0):
            raise ValueError("pixel pitch must be positive")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        rows, cols = self.channels[0].counts.shape
        return int(rows), int(cols)

    @property
    def is_dual_energy(self) -> bool:
        return len(self.channels) == 2

    @property
    def pixel_area_cm2(self) -> float:
        return self.pitch_x_mm * self.pitch_y_mm / 100.0

    def channel(self, name: Channel) -> EnergyChannel:
        """The channel called ``name`` (a single-energy scan's only channel is HIGH)."""
        for c in self.channels:
            if c.name is name:
                return c
        raise KeyError(f"scan has no {name.value} channel")

    def row_angles_deg(self) -> NDArray[np.float64]:
        return self.beam.row_angles_deg(self.shape[0], self.pitch_y_mm)
