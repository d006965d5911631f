"""The empty-container background: what the structure alone puts in the load space.

In the load space the structure is separable. The side walls' corrugations, the posts and the
linac's line-to-line dose changes vary only along the container (columns); the rails, the floor
and roof edges and the detectors' gain stripes vary only up and down (rows). So, in areal
density, ``structure(x, y) ≈ f(x) + g(y)``, which robust medians recover even under a few
objects, because an object occupies a small share of any row or column.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["robust_sigma", "separable_background", "separable_noise", "slow_along_rows"]


def separable_background(
    values: NDArray[np.floating], iterations: int = 2
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """``f`` (per column) and ``g`` (per row) with ``values ≈ f[None, :] + g[:, None]``."""
    v = np.asarray(values, dtype=np.float32)
    f = np.zeros(v.shape[1], dtype=np.float32)
    g = np.zeros(v.shape[0], dtype=np.float32)
    for _ in range(iterations):
        f = np.median(v - g[:, None], axis=0).astype(np.float32)
        g = np.median(v - f[None, :], axis=1).astype(np.float32)
    return f, g


def robust_sigma(values: NDArray[np.floating]) -> float:
    """Standard deviation from the median absolute deviation (insensitive to the objects)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def slow_along_rows(values: NDArray[np.floating], window: int) -> NDArray[np.float32]:
    """Per row, a running median along the row over about ``window`` columns.

    What the separable model leaves of the structure changes slowly along the container: an
    edge that leans by a fraction of a pixel over metres (tilt, sag, a fan beam's parallax
    between the near and far walls), a detector row whose gain drifts along the scan. A running
    median over a window several times an object's length follows that and keeps the object.
    Computed as a median of block medians (blocks of ``window``/8 columns), linearly
    interpolated back to every column, which costs a few passes over the image."""
    v = np.asarray(values, dtype=np.float32)
    rows, cols = v.shape
    block = max(1, window // 8)
    n = cols // block
    if n < 3:
        return np.repeat(np.median(v, axis=1, keepdims=True), cols, axis=1).astype(np.float32)
    blocks = np.median(v[:, : n * block].reshape(rows, n, block), axis=2)
    half = 4
    # Beyond the ends, the lean of the last blocks carried on (a leaning edge leans most at the
    # ends; a mirror would bend it back), from medians of three blocks, so that an object in
    # the end block does not stand for the whole padding (repeating the end block would).
    steps = np.arange(1, half + 1, dtype=np.float64)[None, :]
    if n >= 6:
        head, nxt = np.median(blocks[:, :3], axis=1), np.median(blocks[:, 3:6], axis=1)
        tail, prv = np.median(blocks[:, -3:], axis=1), np.median(blocks[:, -6:-3], axis=1)
        before = head[:, None] - (nxt - head)[:, None] / 3.0 * (steps + 1.0)
        after = tail[:, None] + (tail - prv)[:, None] / 3.0 * (steps + 1.0)
    else:
        before = np.repeat(np.median(blocks, axis=1, keepdims=True), half, 1)
        after = before
    padded = np.concatenate([before[:, ::-1], blocks, after], axis=1)
    stacked = np.stack([padded[:, k : k + n] for k in range(2 * half + 1)], axis=0)
    slow = np.median(stacked, axis=0)
    centres = (np.arange(n) + 0.5) * block - 0.5
    cidx = np.arange(cols, dtype=np.float64)
    out = np.empty((rows, cols), dtype=np.float32)
    for r in range(rows):
        out[r] = np.interp(cidx, centres, slow[r])
    return out


def separable_noise(
    values: NDArray[np.floating], iterations: int = 2
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Noise standard deviation as ``a[None, :] * b[:, None]`` (per column, per row).

    The noise of a log transmission grows as the transmitted counts fall: it is larger behind
    a corrugation seen edge-on, a post or a thick floor band (columns) and on detector rows of
    low gain or far off the beam axis (rows). Counts are a product of what each row's detector
    gets and what each column's structure lets through, so the noise is separable as a product.
    Both factors from medians of absolute deviations (insensitive to the objects)."""
    v = np.abs(np.asarray(values, dtype=np.float32))
    a = np.ones(v.shape[1], dtype=np.float32)
    b = np.ones(v.shape[0], dtype=np.float32)
    for _ in range(iterations):
        b = (1.4826 * np.median(v / a[None, :], axis=1)).astype(np.float32)
        b = np.maximum(b, max(float(np.median(b)) * 0.5, 1e-4)).astype(np.float32)
        a = (1.4826 * np.median(v / b[:, None], axis=0)).astype(np.float32)
        a = np.maximum(a, max(float(np.median(a)) * 0.5, 1e-4)).astype(np.float32)
    a /= max(float(np.median(a)), 1e-6)
    return a, b
