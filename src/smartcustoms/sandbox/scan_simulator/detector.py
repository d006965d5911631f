"""From areal densities to the counts a linac scanner's detectors would write.

The physics here is the simulator's "truth", deliberately not the analysis's model:

* polychromatic transmission with the angle-dependent spectra and the Geant4-fitted
  cross-section factors *with* their change over elevation (the analysis calibrates constant
  factors on a reference scan, as a site would);
* scatter reaching the detectors, blur (detector crosstalk, motion), scintillator afterglow;
* photon noise at a fixed number of noise-equivalent quanta per pixel, read noise, 16-bit ADC;
* detector gain non-uniformity corrected by an air scan taken earlier, with a residual drift
  along the scan (stripes), linac dose jitter from line to line, and the odd dead detector.

How the noise level was chosen: 1.5·10⁵ (9 MeV) and 1.0·10⁵ (6 MeV) quanta per open-beam pixel
put the per-pixel noise at ≈1 % behind 100 mm of steel, the contrast sensitivity vendors publish
for 6–9 MeV portals, and with 2.5 ADU read noise under a 56,000 ADU air level the image runs out
of signal (σα ≈ 0.3) near 350 mm of steel at 9 MeV, the penetration they publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, signal

from smartcustoms.scans.physics.attenuation import mass_attenuation
from smartcustoms.scans.physics.calibration import Calibration
from smartcustoms.scans.physics.materials import MATERIALS
from smartcustoms.scans.physics.spectra import Channel, ScannerSpectra, default_spectra
from smartcustoms.scans.physics.xcom import cross_sections

__all__ = ["DetectorModel", "Exposure", "expose", "transmission"]

FloatArray = NDArray[np.float64]
_BASIS = (6, 26, 82)  # carbon, iron, lead: any material's μ(E) at 0.1–9 MeV within 0.2 % in α
_ENERGY_BINS = 64


@dataclass(frozen=True)
class DetectorModel:
    """Noise and detector imperfections of the simulated scanner (see the module docstring)."""

    quanta: tuple[float, float] = (1.5e5, 1.0e5)  # (high, low) per open-beam pixel
    air_adu: tuple[float, float] = (56000.0, 52000.0)
    dark_adu: float = 300.0
    read_noise_adu: float = 2.5
    gain_spread: float = 0.05  # detector-to-detector gain, corrected by the air scan
    gain_drift: float = 0.002  # residual gain drift along the scan: horizontal stripes
    pulse_jitter: float = 0.015  # linac dose, line to line
    scatter_fraction: float = 0.0015
    scatter_sigma_px: float = 24.0
    # The detector array's halo: this share of each detector's signal leaks along the array
    # (rows) with an exponential profile this many rows long. Real arrays show 1–3 % over 5–20
    # rows; off by default so the simulated families stay comparable with earlier runs.
    halo_fraction: float = 0.0
    halo_rows: float = 12.0
    blur_sigma_px: tuple[float, float] = (0.6, 0.4)  # (rows, columns)
    afterglow: float = 0.005
    dead_row_rate: float = 0.002
    # Per-row gain change between the air scan that flat-fields the detectors and the scan
    # itself (relative, one draw per detector row): the row's air level is off by this much,
    # a faint stripe along the whole scan. Off by default (earlier families unchanged).
    air_drift: float = 0.0

    @classmethod
    def ideal(cls) -> DetectorModel:
        """Noise-free, artefact-free detectors: for tests of the physics alone."""
        return cls(
            quanta=(np.inf, np.inf),
            read_noise_adu=0.0,
            gain_spread=0.0,
            gain_drift=0.0,
            pulse_jitter=0.0,
            scatter_fraction=0.0,
            blur_sigma_px=(0.0, 0.0),
            afterglow=0.0,
            dead_row_rate=0.0,
        )


@dataclass(frozen=True, eq=False)
class Exposure:
    """One channel as the scanner records it: raw counts, and per-row air and dark levels."""

    channel: Channel
    counts: NDArray[np.uint16]
    air: NDArray[np.float32]
    dark: NDArray[np.float32]


@cache
def _basis_coefficients(material: str, spectra: ScannerSpectra) -> FloatArray:
    """Carbon/iron/lead amounts that reproduce ``material``'s μ(E) where the beams have flux."""
    energy, w_high, w_low = spectra.compressed(_ENERGY_BINS)
    basis = np.stack([mass_attenuation(z, energy) for z in _BASIS])
    mu = mass_attenuation(MATERIALS[material], energy)
    weight = np.sqrt(w_high.mean(axis=0) + w_low.mean(axis=0))
    coef, *_ = np.linalg.lstsq((basis * weight / mu).T, weight, rcond=None)
    return np.asarray(coef, dtype=np.float64)


def _basis_mu(
    truth: Calibration, channel: Channel, angle_deg: float, energy: FloatArray
) -> FloatArray:
    """(energies, 3) semiempirical μ of the basis elements at one elevation."""
    a, b, c = truth.factors(channel, np.array([angle_deg]))[:, 0]
    cols = []
    for z in _BASIS:
        xs = cross_sections(z).at(energy)
        cols.append(
            xs.total + (a - 1) * xs.photoelectric + (b - 1) * xs.compton + (c - 1) * xs.pair
        )
    return np.stack(cols, axis=1)


def transmission(
    maps: dict[str, NDArray[np.float32]],
    row_angle_deg: FloatArray,
    truth: Calibration,
    channel: Channel,
    spectra: ScannerSpectra | None = None,
) -> NDArray[np.float32]:
    """Primary transmission I/I₀ per pixel, before any detector effect."""
    spectra = spectra or default_spectra()
    shape = next(iter(maps.values())).shape
    lam = np.zeros((3, *shape), dtype=np.float32)
    for name, m in maps.items():
        lam += _basis_coefficients(name, spectra)[:, None, None].astype(np.float32) * m
    energy, w_high, w_low = spectra.compressed(_ENERGY_BINS)
    weights = (w_high if channel is Channel.HIGH else w_low).astype(np.float32)
    bins = spectra.angle_bin(row_angle_deg)
    out = np.empty(shape, dtype=np.float32)
    for b in np.unique(bins):
        rows = np.flatnonzero(bins == b)
        mu = _basis_mu(truth, channel, float(spectra.angle_deg[b]), energy).astype(np.float32)
        optical = np.einsum("ej,jrc->erc", mu, lam[:, rows, :])
        out[rows] = np.einsum("e,erc->rc", weights[b], np.exp(-optical))
    return out


def expose(
    maps: dict[str, NDArray[np.float32]],
    row_angle_deg: FloatArray,
    truth: Calibration,
    model: DetectorModel,
    rng: np.random.Generator,
    spectra: ScannerSpectra | None = None,
) -> tuple[Exposure, Exposure]:
    """Both channels' counts for a scene's areal-density maps."""
    shape = next(iter(maps.values())).shape
    rows, cols = shape
    dead = np.asarray(rng.random(rows) < model.dead_row_rate, dtype=bool)
    gain = np.asarray(1.0 + model.gain_spread * rng.standard_normal(rows), dtype=np.float64)
    dark = np.asarray(model.dark_adu * (1.0 + 0.05 * rng.standard_normal(rows)), np.float32)
    # Drawn only when asked for, so that every default scan keeps its random stream.
    now = gain * (1.0 + model.air_drift * rng.standard_normal(rows)) if model.air_drift else gain
    out = []
    for i, channel in enumerate(Channel):
        t: NDArray[np.float64] = transmission(maps, row_angle_deg, truth, channel, spectra).astype(
            np.float64
        )
        if model.scatter_fraction > 0:
            # Scatter grows with what the beam crosses and leaves it spread over tens of pixels.
            source = np.sqrt(t) * (1.0 - t)
            small = ndimage.zoom(source, 0.25, order=1)
            spread = ndimage.gaussian_filter(small, model.scatter_sigma_px / 4)
            t = t + model.scatter_fraction * ndimage.zoom(
                spread, (rows / small.shape[0], cols / small.shape[1]), order=1
            )
        if any(s > 0 for s in model.blur_sigma_px):
            t = ndimage.gaussian_filter(t, model.blur_sigma_px)
        if model.halo_fraction > 0:
            half = int(np.ceil(4 * model.halo_rows))
            k = np.exp(-np.abs(np.arange(-half, half + 1)) / model.halo_rows)
            leaked = ndimage.convolve1d(t, k / k.sum(), axis=0, mode="nearest")
            t = (1.0 - model.halo_fraction) * t + model.halo_fraction * leaked
        if model.afterglow > 0:
            a = model.afterglow
            t = np.asarray((1 - a) * signal.lfilter([1.0], [1.0, -a], t, axis=1), np.float64)
        quanta = model.quanta[i]
        pulse = np.asarray(1.0 + model.pulse_jitter * rng.standard_normal(cols), np.float64)
        drift_steps = rng.standard_normal((rows, cols // 64 + 2))
        drift = np.cumsum(drift_steps, axis=1)
        drift = (drift - drift.mean(axis=1, keepdims=True)) / max(float(drift.std()), 1e-12)
        drift = ndimage.zoom(drift, (1, cols / drift.shape[1]), order=1)[:, :cols]
        actual_gain = now[:, None] * (1.0 + model.gain_drift * drift)
        expected: NDArray[np.float64] = t * pulse[None, :]
        if np.isfinite(quanta):
            expected = rng.poisson(np.maximum(expected, 0) * quanta) / quanta
        adu = model.air_adu[i] * actual_gain * expected + dark[:, None]
        if model.read_noise_adu > 0:
            adu = adu + model.read_noise_adu * rng.standard_normal(shape)
        adu[dead] = dark[dead, None] + model.read_noise_adu * rng.standard_normal(
            (int(dead.sum()), cols)
        )
        counts = np.clip(np.rint(adu), 0, 65535).astype(np.uint16)
        # The air scan that flat-fields the detectors is itself slightly noisy.
        air = model.air_adu[i] * gain * (1 + 0.0003 * rng.standard_normal(rows)) + dark
        out.append(Exposure(channel, counts, air.astype(np.float32), dark.copy()))
    return out[0], out[1]
