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

__all__ = ["robust_sigma", "separable_background"]


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
