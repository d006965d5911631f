"""From counts to clean attenuation images: the corrections every analysis needs first.

1. α = −ln((I − dark)/(air − dark)) with the air and dark levels of each detector row.
2. Dead detector rows (no signal anywhere) are replaced by the mean of their neighbours.
3. Line-to-line dose changes of the linac are removed with the air above the container: in each
   column, the median α of the rows that see only air must be zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.spectra import Channel

__all__ = ["Attenuation", "attenuation"]

_AIR_ALPHA = 0.03  # rows whose 90th percentile α stays below this see only air
_MIN_AIR_ROWS = 5


@dataclass(frozen=True, eq=False)
class Attenuation:
    """Corrected α images (rows, cols) and what was corrected."""

    high: NDArray[np.float32]
    low: NDArray[np.float32] | None
    dead_rows: tuple[int, ...]
    air_rows: tuple[int, int]  # [start, stop) of the air band used for line normalisation
    max_alpha: float  # the largest α the scan can express (signal at the dark floor)


def _repair_dead_rows(alpha: NDArray[np.float32], dead: NDArray[np.bool_]) -> None:
    good = np.flatnonzero(~dead)
    if good.size == 0:
        return
    for r in np.flatnonzero(dead):
        # Interpolate from the nearest good rows above and below.
        above = good[good < r]
        below = good[good > r]
        if above.size and below.size:
            alpha[r] = 0.5 * (alpha[above[-1]] + alpha[below[0]])
        else:
            alpha[r] = alpha[above[-1] if above.size else below[0]]


def _find_dead(alpha: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Rows with no signal where the beam reaches the detectors unobstructed.

    Judged on the columns before and after the container, which see only air: there a working
    row reads α ≈ 0 and a dead one reads far denser than both neighbours. Without such columns
    no row is declared dead (a dense roof or floor band would look the same)."""
    air_cols = np.median(alpha, axis=0) < _AIR_ALPHA
    if air_cols.sum() < 8:
        return np.zeros(alpha.shape[0], dtype=bool)
    med = np.median(alpha[:, air_cols], axis=1)
    padded = np.concatenate([[med[0]], med, [med[-1]]])
    neighbours = np.maximum(padded[:-2], padded[2:])
    return np.asarray((med > 2.0) & (neighbours < 0.5), dtype=np.bool_)


def _air_band(alpha: NDArray[np.float32]) -> tuple[int, int]:
    """The run of top rows that see only air (stops at the first row that sees anything)."""
    p90 = np.percentile(alpha, 90, axis=1)
    stop = 0
    while stop < alpha.shape[0] and p90[stop] < _AIR_ALPHA:
        stop += 1
    # Keep clear of the roof's blurred edge.
    return (0, max(0, stop - 2))


def attenuation(scan: Scan) -> Attenuation:
    """Corrected α images of both channels of ``scan`` (``low`` is None if single-energy)."""
    images: list[NDArray[np.float32]] = []
    dead_any = np.zeros(scan.shape[0], dtype=bool)
    max_alpha = np.inf
    for channel in scan.channels:
        alpha = channel.attenuation()
        dead_any |= _find_dead(alpha)
        images.append(alpha)
        floor = float(np.min(channel.air - channel.dark))
        max_alpha = min(max_alpha, float(np.log(max(floor, 1.0) / 0.5)))
    for alpha in images:
        _repair_dead_rows(alpha, dead_any)
    start, stop = _air_band(images[0])
    if stop - start >= _MIN_AIR_ROWS:
        for alpha in images:
            offset = np.median(alpha[start:stop], axis=0)
            alpha -= offset[None, :]
    names = [c.name for c in scan.channels]
    high = images[names.index(Channel.HIGH)] if Channel.HIGH in names else images[0]
    low = images[names.index(Channel.LOW)] if Channel.LOW in names and len(images) == 2 else None
    return Attenuation(
        high, low, tuple(int(r) for r in np.flatnonzero(dead_any)), (start, stop), max_alpha
    )
