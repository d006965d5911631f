"""The independent family's scanner: its detector, noise and drifts, in counts (ADU).

A linear array of energy-integrating detectors, one per image row; each column is one linac
pulse pair (high, low). In order: line-spread blur across rows (crosstalk, σ 0.5–0.9 rows) and a
halo (scatter in the detector and its collimator: 1–3 % of the signal spread with an exponential
tail of 6–20 rows); blur along the scan (beam width and motion, σ 0.3–0.6 columns) and afterglow
(0.3–1 % of each column's signal lingers into the next); Poisson noise on the quanta reaching the
row; per-row gain (±3 %) and dark level; pulse-to-pulse jitter of the source (0.3–0.6 %, mostly
shared by the two energies) and a slow drift of the air level along the scan (up to ±0.6 %) that
the sidecar's air levels do not know about; Gaussian readout noise; a few dead rows that read
their dark level whatever reaches them. The sidecar's air and dark levels are what the scanner
measured before the scan (with their own small error), as a site's scanner would write them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, signal

__all__ = ["Detector", "detect"]


@dataclass(frozen=True)
class Detector:
    quanta: tuple[float, float]  # quanta per pixel at air (high, low)
    air_adu: tuple[float, float]
    dark_adu: float
    read_noise_adu: float
    blur_rows: float
    blur_cols: float
    halo_fraction: float
    halo_rows: float
    afterglow: float
    jitter: float
    drift: float
    dead_rows: int

    @staticmethod
    def draw(rng: np.random.Generator) -> Detector:
        scale = float(rng.uniform(0.6, 1.4))
        return Detector(
            quanta=(1.2e5 * scale, 0.8e5 * scale),
            air_adu=(float(rng.uniform(42000, 60000)), float(rng.uniform(38000, 56000))),
            dark_adu=float(rng.uniform(150, 600)),
            read_noise_adu=float(rng.uniform(3.0, 6.0)),
            blur_rows=float(rng.uniform(0.5, 0.9)),
            blur_cols=float(rng.uniform(0.3, 0.6)),
            halo_fraction=float(rng.uniform(0.01, 0.03)),
            halo_rows=float(rng.uniform(6, 20)),
            afterglow=float(rng.uniform(0.003, 0.01)),
            jitter=float(rng.uniform(0.003, 0.006)),
            drift=float(rng.uniform(0.0, 0.006)),
            dead_rows=int(rng.integers(1, 5)),
        )


def detect(
    transmission: tuple[NDArray[np.float32], NDArray[np.float32]],
    det: Detector,
    rng: np.random.Generator,
) -> tuple[list[NDArray[np.uint16]], list[NDArray[np.float32]], list[NDArray[np.float32]]]:
    """Counts, recorded air levels and dark levels per row, for (high, low)."""
    rows, cols = transmission[0].shape
    dead = rng.choice(rows, size=det.dead_rows, replace=False)
    gain = [1.0 + 0.03 * rng.standard_normal(rows) for _ in range(2)]
    dark = [det.dark_adu + 15.0 * rng.standard_normal(rows) for _ in range(2)]
    shared = rng.standard_normal(cols)
    phase = float(rng.uniform(0, 2 * np.pi))
    slow = det.drift * np.sin(np.linspace(0, float(rng.uniform(1, 4)) * np.pi, cols) + phase)
    half = int(4 * det.halo_rows)
    k = np.exp(-np.abs(np.arange(-half, half + 1)) / det.halo_rows)
    k /= k.sum()
    counts, airs, darks = [], [], []
    for ch in range(2):
        t = ndimage.gaussian_filter1d(transmission[ch], det.blur_rows, axis=0, mode="nearest")
        t = (1 - det.halo_fraction) * t + det.halo_fraction * ndimage.convolve1d(
            t, k, axis=0, mode="nearest"
        )
        t = ndimage.gaussian_filter1d(t, det.blur_cols, axis=1, mode="nearest")
        t = signal.lfilter([1 - det.afterglow], [1, -det.afterglow], t, axis=1)
        n = rng.poisson(np.clip(t, 0, None) * det.quanta[ch]).astype(np.float32) / det.quanta[ch]
        own = rng.standard_normal(cols)
        pulse = 1 + det.jitter * (0.8 * shared + 0.6 * own) + slow
        air = det.air_adu[ch] * gain[ch]
        adu = dark[ch][:, None] + air[:, None] * pulse[None, :] * n
        adu += det.read_noise_adu * rng.standard_normal((rows, cols))
        adu[dead] = dark[ch][dead, None] + det.read_noise_adu * rng.standard_normal(
            (len(dead), cols)
        )
        counts.append(np.clip(np.rint(adu), 0, 65535).astype(np.uint16))
        # what the scanner's air calibration recorded: the row's level, measured to 0.05 %
        airs.append((dark[ch] + air * (1 + 0.0005 * rng.standard_normal(rows))).astype(np.float32))
        darks.append((dark[ch] + 0.3 * rng.standard_normal(rows)).astype(np.float32))
    return counts, airs, darks
