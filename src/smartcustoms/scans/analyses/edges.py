"""Edges that break the carton grid: the sides of a block of another stack inside the goods.

Cartons stacked in columns show, seen through the container, a grid: the boundaries between
columns of cartons run through the whole stack's height at the same places (with the gaps between
them), and the boundaries between tiers through the whole load's length at the same heights
(every column starts on the floor with cartons of one size). Inside one cell of that grid a
carton column is one smeared density – the scanner does not resolve cardboard partitions. A block
of other goods put in the place of some cartons (cigarettes among garments) seldom has its sides
on that grid: its side edges are steps in attenuation that run over the block's height only,
between two column boundaries, and its top and bottom edges steps that run over its length only,
between two tier boundaries. Such a block can be as dense as the cartons around it give or take
their own spread (it is not found tile by tile), while its edges, averaged along their length,
stand out far above the noise.

The steps are read in the high-energy attenuation (the decomposition's areal density adds its
own noise where Z_eff is noisy), across a few centimetres on both sides of each pixel boundary,
in bands of 5 cm along the edge. Columns (rows) where most of the load steps are the grid and are
left out, with a margin; so are steps with air on one side (the stack's top and ends), the floor
and the container's ends. Tier lines repeat at the cartons' height: a line found is carried on
one tier up and down, so that the line between two upper tiers, which few stacks reach and some
show no step at (two cartons of one density), is the grid too. Column lines follow one another
at the cartons' length: a line with no other at that spacing, between two that have, is the side
of a block that runs over most of the load's height, not the grid. Each remaining column (row)
scores its best run of bands – the sum of its steps over the square root of their number, in
units of the load's own step spread (a robust standard deviation, so a scan's noise and its goods
set the scale) – and the strongest run is the cue. A step whose high-to-low attenuation ratio is
well above the load's own – steel, a repair patch on a wall – is not the goods' material and is
passed over (metal is looked for on its own).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from smartcustoms.scans.analyses.imaging import Imaged

__all__ = ["EdgeCue", "off_grid_edges"]

_BAND_M = 0.05  # bands along an edge
_MIN_BANDS = 2  # an edge runs 10 cm at least
_SKIP_M = 0.015  # the edge's own blur, skipped on both sides
_WINDOW_M = 0.04  # the mean taken on each side
_LOADED = 15.0  # g/cm²: below this a side is air (walls only)
_SIDE_SHARE = 0.5  # both sides of a step must hold this share of the load's median
_GRID_STEP = 0.02  # a band steps when by this share of the load's median attenuation
_GRID_SHARE = 0.5  # a column (row) where this share of the load's bands step is the grid
_GRID_MIN_BANDS = 4
# Left out around a grid line beyond the steps' own reach. At 0.04 the tops of blocks ≈10 cm
# from a tier line were lost; at 0.03, with tier lines carried on at their spacing
# (``_TIER_REACH``), honest loads of development seeds scored no higher. At 0.02 some honest
# stacks' sides (independent scenes) and tops (the training simulator's) read as edges.
_GRID_MARGIN_M = 0.03
_END_M = 0.3  # the container's ends (corner posts) and, for tier edges, its floor and roof
_FLOOR_M = 0.2  # floor cross-members reach this far into the load space
_CANDIDATES = 10
_TIER_MIN_M = 0.2  # tier lines closer than this are one line (a carton is taller)
_TIER_REACH = 1  # a tier line is carried on this many tiers beyond those found
_PERIOD_TOLERANCE = 0.15  # of a spacing
# Column lines: a line with no other at the columns' spacing (within this share of it) but one
# nearer than that is a block's side, not a carton column's (see ``_off_spacing``).
_SPACING_TOLERANCE = 0.10
_SPACING_MAX_M = 1.5  # cartons longer than this are not looked for
_SPACING_SHARE = 0.7  # the spacing is the shortest that nearly as many lines share as any
_SPACING_MIN_LINES = 3
# A step's high-to-low attenuation ratio above the load's own by this much is not organic.
_RATIO_MARGIN = 0.025
_MIN_STEP = 1e-3  # α: below this in either channel a step's ratio means nothing


@dataclass(frozen=True)
class EdgeCue:
    """The strongest off-grid edge of a load."""

    score: float  # the run's steps over the load's step spread, × 1/√(bands)
    bbox: tuple[int, int, int, int]  # (col0, row0, col1, row1) in the analyses' frame
    vertical: bool  # a side edge (True) or a top/bottom edge
    step_alpha: float  # the high-energy attenuation's step across it (signed)
    ratio_excess: float  # the step's high/low ratio less the load's own


def _band_steps(
    arr: NDArray[np.float64], band: int, skip: int, window: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Per band of ``band`` rows: the step across each column boundary (right less left mean),
    the left and right means themselves, and which columns have both windows inside."""
    nb = arr.shape[0] // band
    bands = arr[: nb * band].reshape(nb, band, -1).mean(axis=1)
    n = bands.shape[1]
    cs = np.concatenate([np.zeros((nb, 1)), np.cumsum(bands, axis=1)], axis=1)
    x = np.arange(n)
    ok = (x - skip - window >= 0) & (x + skip + window <= n)
    xv = x[ok]
    left = np.zeros_like(bands)
    right = np.zeros_like(bands)
    right[:, ok] = (cs[:, xv + skip + window] - cs[:, xv + skip]) / window
    left[:, ok] = (cs[:, xv - skip] - cs[:, xv - skip - window]) / window
    return right - left, left, right, ok


def _best_runs(z: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Per column, the largest |sum| / √length over runs of ``_MIN_BANDS`` or more bands, and
    its run."""
    nb, n = z.shape
    best = np.zeros(n)
    where = np.zeros((n, 2), dtype=np.int64)
    # The search is quadratic in the bands: it is left to the columns that hold a step, and to
    # the bands from the first to the last step, widened by a run's shortest length less one
    # (a best run is never longer than it must be beyond them: zeros only lengthen it).
    cols = np.flatnonzero((z != 0).any(axis=0))
    if cols.size == 0:
        return best, where
    rows = np.flatnonzero((z != 0).any(axis=1))
    first = max(0, int(rows[0]) - (_MIN_BANDS - 1))
    last = min(nb, int(rows[-1]) + _MIN_BANDS)
    sub = z[first:last, cols]
    cs = np.concatenate([np.zeros((1, cols.size)), np.cumsum(sub, axis=0)], axis=0)
    sub_best = np.zeros(cols.size)
    sub_where = np.zeros((cols.size, 2), dtype=np.int64)
    at = np.arange(cols.size)
    for length in range(_MIN_BANDS, last - first + 1):
        val = np.abs(cs[length:] - cs[:-length]) / np.sqrt(length)
        i = val.argmax(axis=0)
        v = val[i, at]
        better = v > sub_best
        sub_best[better] = v[better]
        sub_where[better, 0] = i[better]
        sub_where[better, 1] = i[better] + length
    best[cols] = sub_best
    where[cols] = np.where(sub_best[:, None] > 0, sub_where + first, 0)
    return best, where


def _periodic(grid: NDArray[np.bool_], min_period: int) -> NDArray[np.bool_]:
    """The grid's lines carried on at their own spacing, ``_TIER_REACH`` spacings beyond the
    lines found.

    Tiers of cartons of one size repeat at one height; a tier line that few columns reach (the
    stack's upper tiers) is not a grid line by its share of the load, and a carton's top there,
    the same as every other carton's, would read as an edge off the grid."""
    labels, k = ndimage.label(grid)
    if k < 3:
        return grid
    spans = ndimage.find_objects(labels)
    centres = np.array([(sl[0].start + sl[0].stop - 1) / 2.0 for sl in spans if sl is not None])
    widths = [sl[0].stop - sl[0].start for sl in spans if sl is not None]
    gaps = np.diff(centres)
    gaps = gaps[gaps >= min_period]
    if gaps.size < 2:
        return grid
    period = float(np.median(gaps))
    # One spacing: most gaps a whole number of it (a tier line missing between two is allowed).
    turns = gaps / period
    if np.mean(np.abs(turns - np.round(turns)) < _PERIOD_TOLERANCE) < 0.75:
        return grid
    half = max(1, int(np.median(widths)) // 2)
    out = grid.copy()
    n = grid.size
    for c in centres:
        for step in range(1, _TIER_REACH + 1):
            for at in (c - step * period, c + step * period):
                i = round(at)
                if 0 <= i < n:
                    out[max(0, i - half) : min(n, i + half + 1)] = True
    return out


def _off_spacing(
    grid: NDArray[np.bool_], min_period: int, max_period: int, reach: int
) -> NDArray[np.bool_]:
    """The grid less the lines that break the carton columns' spacing.

    A block's side that runs over most of the load's height reads as a grid line by its share
    of the load. Carton columns of one size follow one another at one spacing (give or take
    the gaps between them), so every column line has another at that spacing; a block's side
    lies between two of them, nearer to each than the spacing, and has none. Parts of a line
    within twice ``reach`` of each other (the two sides of a wide gap) are one line."""
    labels, k = ndimage.label(ndimage.binary_dilation(grid, iterations=reach))
    labels[~grid] = 0
    if k < _SPACING_MIN_LINES:
        return grid
    spans = ndimage.find_objects(labels)
    centres = np.array([(sl[0].start + sl[0].stop - 1) / 2.0 for sl in spans if sl is not None])
    dist = np.abs(centres[:, None] - centres[None, :])
    pairs = dist[np.triu_indices(k, 1)]
    pairs = pairs[(pairs >= min_period) & (pairs <= max_period)]
    if pairs.size == 0:
        return grid

    def partnered(spacing: float) -> NDArray[np.bool_]:
        return np.asarray((np.abs(dist - spacing) <= _SPACING_TOLERANCE * spacing).any(axis=1))

    support = np.array([partnered(p).sum() for p in pairs])
    if support.max() < _SPACING_MIN_LINES:
        return grid
    # Multiples of the spacing are shared by as many lines (and by more by chance).
    near_best = pairs[support >= _SPACING_SHARE * support.max()]
    spacing = float(np.median(near_best[near_best <= near_best.min() * (1 + _SPACING_TOLERANCE)]))
    # Between two lines, nearer to each than the spacing (the load's first and last lines, a
    # column a little shorter than the rest, are not).
    gaps = np.diff(centres)
    near = gaps < (1 - _SPACING_TOLERANCE) * spacing
    crowded = np.zeros(k, dtype=bool)
    crowded[1:-1] = near[:-1] & near[1:]
    out = grid.copy()
    for i in np.flatnonzero(crowded & ~partnered(spacing)):
        out[labels == i + 1] = False
    return out


def _edges(
    high: NDArray[np.float64],
    low: NDArray[np.float64],
    lam: NDArray[np.float64],
    pitch_along_m: float,
    pitch_across_m: float,
    ends_m: tuple[float, float, float, float],
    load_ratio: float,
    *,
    periodic: bool = False,
) -> tuple[float, int, tuple[int, int], float, float] | None:
    """Steps across columns (edges running along rows) of arrays (rows, columns).

    ``ends_m``: what to leave out at (first columns, last columns, first bands, last bands);
    ``periodic``: the grid's lines repeat at one spacing (tiers of cartons of one size).
    Returns (score, column, (first row, end row), step, ratio excess) of the best organic run."""
    band = max(2, round(_BAND_M / pitch_along_m))
    skip = max(1, round(_SKIP_M / pitch_across_m))
    window = max(2, round(_WINDOW_M / pitch_across_m))
    s_high, h_left, h_right, ok = _band_steps(high, band, skip, window)
    s_low, _, _, _ = _band_steps(low, band, skip, window)
    _, lam_left, lam_right, _ = _band_steps(lam, band, skip, window)
    nb, n = s_high.shape
    if nb < 3 or n < 2 * (skip + window) + 3:
        return None
    loaded = lam[lam > _LOADED]
    if loaded.size < 100:
        return None
    # Goods on both sides: a window that reaches into air (a lower stack's top) is not.
    floor = max(_LOADED, _SIDE_SHARE * float(np.median(loaded)))
    reach = skip + window
    lam_bands = lam[: nb * band].reshape(nb, band, -1).mean(axis=1)
    # (and in the bands either side: the band that holds a stack's top is half air)
    sides = ndimage.minimum_filter(lam_bands > floor, size=(3, 2 * reach + 1)) & ok[None, :]
    if sides.sum() < 20:
        return None
    scale = float(np.median(high[: nb * band][np.repeat(sides, band, axis=0)]))
    # The gaps between carton columns: narrower than the windows, lower than both sides.
    h_bands = high[: nb * band].reshape(nb, band, -1).mean(axis=1)
    centre = ndimage.uniform_filter1d(h_bands, 2 * skip + 1, axis=1, mode="nearest")
    dip = centre < (h_left + h_right) / 2.0 - _GRID_STEP * max(scale, 1e-3)
    steps = (np.abs(s_high) > _GRID_STEP * max(scale, 1e-3)) | dip
    # The grid is read where both windows are mostly goods (a gap between them is allowed).
    around = (lam_left > floor) & (lam_right > floor) & ok[None, :]
    counted = around.sum(axis=0)
    share = (steps & around).sum(axis=0) / np.maximum(counted, 1)
    grid = (share > _GRID_SHARE) & (counted >= _GRID_MIN_BANDS)
    if periodic:
        grid = _periodic(grid, round(_TIER_MIN_M / pitch_across_m))
    else:
        grid = _off_spacing(
            grid,
            round(_TIER_MIN_M / pitch_across_m),
            round(_SPACING_MAX_M / pitch_across_m),
            skip,
        )
    margin = max(1, round(_GRID_MARGIN_M / pitch_across_m)) + skip + window
    usable = ok & ~ndimage.binary_dilation(grid, iterations=margin)
    first, last = (round(m / pitch_across_m) for m in ends_m[:2])
    usable[:first] = False
    usable[n - last :] = False
    valid = sides & usable[None, :]
    top, bottom = (int(np.ceil(m / pitch_along_m / band)) for m in ends_m[2:])
    valid[:top] = False
    valid[nb - bottom :] = False
    if valid.sum() < 20:
        return None
    # Structure that runs through every band (a wall's corrugation, a rail) is not the load's.
    s_high = s_high - np.median(s_high, axis=0, keepdims=True)
    s_low = s_low - np.median(s_low, axis=0, keepdims=True)
    sigma = max(1.4826 * float(np.median(np.abs(s_high[valid]))), 1e-6)
    best, where = _best_runs(np.where(valid, s_high / sigma, 0.0))
    peaks = (best == ndimage.maximum_filter(best, size=2 * (skip + window) + 1)) & (best > 0)
    cols = np.flatnonzero(peaks)
    for j in cols[np.argsort(-best[cols])][:_CANDIDATES]:
        i0, i1 = where[j]
        d_high = float(s_high[i0:i1, j].mean())
        d_low = float(s_low[i0:i1, j].mean())
        if abs(d_high) < _MIN_STEP or abs(d_low) < _MIN_STEP or d_high * d_low <= 0:
            continue
        excess = d_high / d_low - load_ratio
        if abs(excess) > _RATIO_MARGIN:
            # Not the goods' material: steel (a patch on a wall, a metal part – found on its
            # own), or a step too small for its ratio to be read.
            continue
        return float(best[j]), int(j), (int(i0 * band), int(i1 * band)), d_high, excess
    return None


def off_grid_edges(imaged: Imaged) -> EdgeCue | None:
    """The strongest edge of the load that does not lie on its own carton grid (dual-energy
    scans); None when the load is too small to tell or no organic step stands out at all."""
    channels = imaged.load_channels()
    if channels is None:
        return None
    high, low = channels
    c0, r0, c1, r1 = imaged.geometry.interior
    lam = imaged.decomposition.areal_density[r0:r1, c0:c1].astype(np.float64)
    loaded = lam > _LOADED
    if loaded.sum() < 100:
        return None
    load_ratio = float(np.median(high[loaded] / np.maximum(low[loaded], 1e-3)))
    px = imaged.scan.pitch_x_mm / 1000.0
    py = imaged.scan.pitch_y_mm / 1000.0
    cues = []
    side = _edges(high, low, lam, py, px, (_END_M, _END_M, 0.0, _FLOOR_M), load_ratio)
    if side is not None:
        score, j, (a, b), step, excess = side
        cues.append(EdgeCue(score, (c0 + j, r0 + a, c0 + j + 1, r0 + b), True, step, excess))
    tier = _edges(
        high.T, low.T, lam.T, px, py, (0.0, _FLOOR_M, _END_M, _END_M), load_ratio, periodic=True
    )
    if tier is not None:
        score, i, (a, b), step, excess = tier
        cues.append(EdgeCue(score, (c0 + a, r0 + i, c0 + b, r0 + i + 1), False, step, excess))
    return max(cues, key=lambda c: c.score, default=None)
