"""Beam spectra and detector response of a dual-energy linac cargo scanner.

The shipped scanner is the one of Lalor & Danagoulian (NIM A 1064, 2024; plalor/semiZ): a 9/6 MeV
interlaced linac whose bremsstrahlung spectrum softens with the angle above the beam axis, seen
by a detector with energy response ``D(E)``. The spectra come in 100 angle bins (0°–25.5°); the
angle of each bin follows from the Geant4 calibration slabs, whose areal density along the ray
is ``100 g/cm² / cos θ``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

__all__ = ["Channel", "ScannerSpectra", "default_spectra"]

FloatArray = NDArray[np.float64]


class Channel(StrEnum):
    """An energy channel of a dual-energy scan."""

    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True, eq=False)
class ScannerSpectra:
    """Per-angle beam spectra and the detector response on one energy grid.

    ``high`` and ``low`` have shape (angle bins, energies): photons per MeV per bin, arbitrary
    normalisation. ``angle_deg`` is the elevation of each bin above the beam axis.
    """

    energy_mev: FloatArray
    detector_response: FloatArray
    high: FloatArray
    low: FloatArray
    angle_deg: FloatArray
    nominal_mev: tuple[float, float] = (9.0, 6.0)

    @property
    def n_angles(self) -> int:
        return int(self.angle_deg.size)

    def weights(self, channel: Channel) -> FloatArray:
        """Detector-weighted spectra ``D·φ`` per angle bin, each row summing to one."""
        phi = self.high if channel is Channel.HIGH else self.low
        w = phi * self.detector_response[None, :]
        return np.asarray(w / w.sum(axis=1, keepdims=True), dtype=np.float64)

    def compressed(self, n_bins: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The spectra on ``n_bins`` coarse energy bins, for fast forward models.

        Bins hold equal shares of the mean detector-weighted flux of both beams, so resolution
        goes where the signal is. Returns the flux-weighted mean energy of each bin (bins,) and
        the per-angle weights (angles, bins) of the high and the low channel.
        """
        return _compressed(self, n_bins)

    def angle_bin(self, angle_deg: NDArray[np.floating] | float) -> NDArray[np.intp]:
        """The spectrum bin nearest to each |angle| (beyond the last bin, the last bin)."""
        a = np.abs(np.asarray(angle_deg, dtype=np.float64))
        idx = np.searchsorted(self.angle_deg, a)
        idx = np.clip(idx, 1, self.n_angles - 1)
        left = self.angle_deg[idx - 1]
        right = self.angle_deg[idx]
        return np.where(a - left <= right - a, idx - 1, idx).astype(np.intp)


@cache
def _compressed(spectra: ScannerSpectra, n_bins: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    w_high = spectra.weights(Channel.HIGH)
    w_low = spectra.weights(Channel.LOW)
    mean = w_high.mean(axis=0) + w_low.mean(axis=0)
    share = np.cumsum(mean) / mean.sum()
    edges = np.searchsorted(share, np.linspace(0, 1, n_bins + 1)[1:-1])
    groups = [g for g in np.split(np.arange(spectra.energy_mev.size), edges) if g.size]
    energy = np.array([np.average(spectra.energy_mev[g], weights=mean[g] + 1e-30) for g in groups])
    high = np.stack([w_high[:, g].sum(axis=1) for g in groups], axis=1)
    low = np.stack([w_low[:, g].sum(axis=1) for g in groups], axis=1)
    return energy, high, low


@cache
def default_spectra() -> ScannerSpectra:
    """The semiZ 9/6 MeV scanner shipped in ``data/semiZ``."""
    base = resources.files("smartcustoms.scans").joinpath("data/semiZ")
    with base.joinpath("spectra.npz").open("rb") as fh, np.load(fh) as spectra:
        energy = np.asarray(spectra["E"], dtype=np.float64)
        response = np.asarray(spectra["D"], dtype=np.float64)
        high = np.asarray(spectra["phi_9MeV"], dtype=np.float64)
        low = np.asarray(spectra["phi_6MeV"], dtype=np.float64)
    with base.joinpath("geant4_calibration.npz").open("rb") as fh, np.load(fh) as calib:
        slab = np.asarray(calib["lmbda_calib"][:, 0], dtype=np.float64)
    angle = np.degrees(np.arccos(np.clip(100.0 / slab, -1.0, 1.0)))
    return ScannerSpectra(energy, response, high, low, angle)
