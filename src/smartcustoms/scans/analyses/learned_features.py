"""Per-tile features for the learned concealment detector (:mod:`.learned`).

The load is cut into the same tiles as the classical analysis (:mod:`.tiles`, about 13 × 14 cm).
Each tile gets numbers in four groups:

* *material and density against the load*: areal density, Z_eff, both channels' attenuation and
  their ratio, each against the median of the same tile row (same beam angle) and of the same
  tile column (the same stack of goods), and the classical analysis's robust z-scores; areal
  density and Z_eff against the neighbouring stacks at the same height (the median of the tiles
  one to four columns either side) and against their own stack, as robust z-scores – what a
  scanner measures whatever its resolution;
* *texture*: the spread of areal density inside the tile;
* *lines*: thin bright and dark lines – carton walls, partitions, gaps between bales – found as
  ridges of the high-energy attenuation across and along the container, counted and measured in
  the tile and in the three tiles around it in each direction, with the spacing between
  neighbouring lines in millimetres (packaging has its own regular pitch). Lines that run
  through nearly the whole load (gaps between stacks, detector columns, linac pulses) are taken
  off first: what is packed inside the load is local;
* *place*: height in the load, tiles below the top of the load column, share of usable pixels.

Neighbourhood means (3 × 3 tiles) of the main ones follow. Everything is in physical units
(g/cm², mm, relative attenuation), so it does not depend on the pixel pitch – within reason: the
detector was trained at 4.8–6.2 mm and is not run on scans much coarser than that.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from smartcustoms.scans.analyses.imaging import Imaged
from smartcustoms.scans.analyses.tiles import TileMap, tile_map

__all__ = ["FEATURE_NAMES", "TileFeatures", "tile_features", "tile_features_from_arrays"]

_LOADED = 15.0  # g/cm²: pixels below this are mostly air
_RIDGE_MM = 16.0  # a line is narrower than this (compared with the pixels this far either side)
_LINE_LEVELS = (0.01, 0.03, 0.08)  # relative ridge heights counted as lines
_CLIP = 6.0
_AIR_ALPHA = 0.08  # high-energy attenuation below this is open air
_MIN_SCALE = 0.3  # ridges are relative to the attenuation, but not to less than this

_BASE = [
    "lam",
    "z",
    "alpha_high",
    "ratio",
    "d_lam_row",
    "d_lam_col",
    "rel_lam_row",
    "d_z_row",
    "d_z_col",
    "d_ratio_row",
    "d_ratio_col",
    "z_z",
    "z_lam",
    "lam_cv",
    "fill",
    "height",
    "below_top",
    "load_rows",
    "d_lam_nbs",
    "d_z_nbs",
    "zs_lam_nbs",
    "zs_z_nbs",
    "zs_lam_col",
    "zs_z_col",
]
_LINES = []
for _axis in ("v", "h"):
    for _sign in ("bright", "dark"):
        _LINES += [f"{_axis}_{_sign}_max1", f"{_axis}_{_sign}_sum1"]
        _LINES += [f"{_axis}_{_sign}_n{i}_w3" for i in range(len(_LINE_LEVELS))]
        _LINES += [f"{_axis}_{_sign}_sum3", f"{_axis}_{_sign}_med_h3"]
    _LINES += [f"{_axis}_spacing_med", f"{_axis}_spacing_mad"]
_NEIGHBOURS = ["z_z", "z_lam", "d_z_row", "d_ratio_row", "v_bright_sum3", "v_bright_n0_w3"]
FEATURE_NAMES: tuple[str, ...] = tuple(
    _BASE + _LINES + [f"nb_{n}" for n in _NEIGHBOURS] + [f"nbsd_{n}" for n in _NEIGHBOURS[:2]]
)


@dataclass(frozen=True, eq=False)
class TileFeatures:
    """Features of every tile, (tile rows, tile columns, features), and where the tiles are."""

    tiles: TileMap
    values: NDArray[np.float32]
    usable: NDArray[np.bool_]  # tiles the detector scores

    def rows(self) -> NDArray[np.float32]:
        """The usable tiles' features, one row per tile (row-major order)."""
        return self.values[self.usable]


def _row_median(v: NDArray[np.float64], ok: NDArray[np.bool_], axis: int) -> NDArray[np.float64]:
    masked = np.where(ok, v, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: filled below
        med = np.nanmedian(masked, axis=axis, keepdims=True)
    overall = float(np.median(v[ok])) if ok.any() else 0.0
    return np.where(np.isnan(med), overall, med)


def _beside(v: NDArray[np.float64], ok: NDArray[np.bool_], reach: int = 4) -> NDArray[np.float64]:
    """Median of the same tile row's tiles 1 to ``reach`` columns either side: the neighbouring
    stacks at the same height (the tile itself and its own stack left out); where there are
    none, the row's median."""
    nr, nc = v.shape
    masked = np.where(ok, v, np.nan)
    shifted = np.full((2 * reach, nr, nc), np.nan)
    for i, d in enumerate([*range(-reach, 0), *range(1, reach + 1)]):
        if d < 0:
            shifted[i, :, -d:] = masked[:, :d]
        else:
            shifted[i, :, :-d] = masked[:, d:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no neighbour: filled below
        med = np.nanmedian(shifted, axis=0)
    return np.where(np.isnan(med), _row_median(v, ok, 1), med)


def _robust_z(dev: NDArray[np.float64], ok: NDArray[np.bool_]) -> NDArray[np.float64]:
    sigma = max(1.4826 * float(np.median(np.abs(dev[ok]))), 1e-6) if ok.any() else 1.0
    return np.clip(dev / sigma, -_CLIP, _CLIP)


def _conditional(
    values: NDArray[np.float64], ok: NDArray[np.bool_], given: NDArray[np.float64], bins: int = 8
) -> NDArray[np.float64]:
    """``values`` less their median among tiles of similar ``given`` (as the classical analysis)."""
    x, y = given[ok], values[ok]
    edges = np.quantile(x, np.linspace(0.0, 1.0, bins + 1))
    which = np.clip(np.searchsorted(edges, given, side="right") - 1, 0, bins - 1)
    centre = np.full(bins, float(np.median(y)))
    for k in range(bins):
        sel = which[ok] == k
        if sel.sum() >= 5:
            centre[k] = float(np.median(y[sel]))
    return np.asarray(values - centre[which], dtype=np.float64)


def _common(profile: NDArray[np.float64], ok: NDArray[np.bool_]) -> NDArray[np.float64]:
    """The part of each line that runs through (nearly) the whole load – a gap between stacks, a
    stack of carton walls, a detector column or a linac pulse that is off: the ridge that at
    least three bands in four share (``profile``: bands × pixels; ``ok``: bands with load)."""
    enough = ok.sum(axis=0) >= 4
    masked = np.where(ok, profile, np.nan)[:, enough]
    out = np.zeros(profile.shape[1])
    if masked.size:
        lo, hi = np.nanpercentile(masked, [25, 75], axis=0)
        out[enough] = np.where(lo > 0, lo, np.where(hi < 0, hi, 0.0))
    return out[None, :]


def _line_features(
    profile: NDArray[np.float64], step: int, n_tiles: int, pitch_mm: float
) -> list[NDArray[np.float64]]:
    """Line features from ridge profiles: ``profile`` is (bands, pixels along), one band per tile
    row (vertical lines) or tile column (horizontal lines); ``step`` pixels per tile along."""
    bands = profile.shape[0]
    out: list[NDArray[np.float64]] = []
    for sign in (1.0, -1.0):
        p = np.maximum(sign * profile, 0.0)
        # Local maxima: a line is one peak however blurred.
        left = np.concatenate([np.zeros((bands, 1)), p[:, :-1]], axis=1)
        right = np.concatenate([p[:, 1:], np.zeros((bands, 1))], axis=1)
        peak = (p > left) & (p >= right) & (p > _LINE_LEVELS[0])
        heights = np.where(peak, p, 0.0)
        per = heights[:, : n_tiles * step].reshape(bands, n_tiles, step)
        out.append(per.max(axis=2))
        out.append(per.sum(axis=2))
        window = 3
        for level in _LINE_LEVELS:
            counts = (per > level).sum(axis=2).astype(np.float64)
            out.append(ndimage.uniform_filter1d(counts, window, axis=1, mode="constant") * window)
        sums = ndimage.uniform_filter1d(per.sum(axis=2), window, axis=1, mode="constant") * window
        out.append(sums)
        n0 = ndimage.uniform_filter1d(
            (per > _LINE_LEVELS[0]).sum(axis=2).astype(np.float64), window, axis=1, mode="constant"
        )
        out.append(sums / np.maximum(n0 * window, 1.0))
    # Spacing between neighbouring bright lines, in mm, over the tile and one tile either side.
    p = np.maximum(profile, 0.0)
    left = np.concatenate([np.zeros((bands, 1)), p[:, :-1]], axis=1)
    right = np.concatenate([p[:, 1:], np.zeros((bands, 1))], axis=1)
    peak = (p > left) & (p >= right) & (p > _LINE_LEVELS[0])
    med = np.full((bands, n_tiles), 0.0)
    mad = np.full((bands, n_tiles), 0.0)
    for b in range(bands):
        pos = np.flatnonzero(peak[b])
        if pos.size < 3:
            continue
        gaps = np.diff(pos).astype(np.float64) * pitch_mm
        mids = (pos[:-1] + pos[1:]) / 2.0
        tile_of = (mids // step).astype(int)
        for t in range(n_tiles):
            sel = np.abs(tile_of - t) <= 1
            if sel.sum() >= 2:
                g = gaps[sel]
                m = float(np.median(g))
                med[b, t] = m
                mad[b, t] = float(np.median(np.abs(g - m))) / max(m, 1.0)
    out += [med, mad]
    return out


def tile_features_from_arrays(
    tm: TileMap,
    high: NDArray[np.floating],
    lam: NDArray[np.floating],
    pitch_mm: tuple[float, float],
    column_offset: NDArray[np.floating] | None = None,
) -> TileFeatures:
    """Features from the tile map and the load space's high-energy attenuation and areal
    density (both cut to ``tm``'s origin: the load space's top-left corner). ``column_offset``:
    each column's attenuation in open air (the linac's pulse-to-pulse jitter), taken off before
    looking for lines."""
    tx, ty = tm.size_px
    nr, nc = tm.valid.shape
    h, w = nr * ty, nc * tx
    high = np.asarray(high[:h, :w], dtype=np.float64)
    if column_offset is not None:
        high = high - np.asarray(column_offset[:w], dtype=np.float64)[None, :]
    lam = np.asarray(lam[:h, :w], dtype=np.float64)
    loaded = lam > _LOADED
    ok = tm.valid

    # ---- material and density against the row and the column
    t_lam, t_z = tm.areal_density, tm.z_eff
    ratio = tm.alpha_high / np.maximum(tm.alpha_low, 1e-3)
    row_lam, col_lam = _row_median(t_lam, ok, 1), _row_median(t_lam, ok, 0)
    row_z, col_z = _row_median(t_z, ok, 1), _row_median(t_z, ok, 0)
    row_r, col_r = _row_median(ratio, ok, 1), _row_median(ratio, ok, 0)
    zc = _conditional(t_z, ok, t_lam) if ok.sum() >= 20 else t_z - row_z
    z_z = _robust_z(zc - _row_median(zc, ok, 1), ok)
    z_lam = _robust_z(t_lam - row_lam, ok)

    def tile_stat(
        a: NDArray[np.floating[Any]], m: NDArray[np.bool_]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        blocks = (a * m).reshape(nr, ty, nc, tx)
        n = m.reshape(nr, ty, nc, tx).sum(axis=(1, 3))
        s = blocks.sum(axis=(1, 3))
        s2 = (blocks * a.reshape(nr, ty, nc, tx)).sum(axis=(1, 3))
        mean = s / np.maximum(n, 1)
        var = np.maximum(s2 / np.maximum(n, 1) - mean**2, 0.0)
        return mean, np.sqrt(var)

    lam_mean, lam_sd = tile_stat(lam, loaded)
    fill = loaded.reshape(nr, ty, nc, tx).mean(axis=(1, 3))
    has = fill > 0.5
    top = np.where(has.any(axis=0), np.argmax(has, axis=0), nr)
    rows_idx = np.arange(nr)[:, None]
    below_top = (rows_idx - top[None, :]).astype(np.float64)
    load_rows = np.broadcast_to((nr - top)[None, :].astype(np.float64), (nr, nc))
    height = np.broadcast_to(1.0 - (rows_idx + 0.5) / nr, (nr, nc))

    base = [
        t_lam,
        t_z,
        tm.alpha_high,
        ratio,
        t_lam - row_lam,
        t_lam - col_lam,
        t_lam / np.maximum(row_lam, 1.0),
        t_z - row_z,
        t_z - col_z,
        ratio - row_r,
        ratio - col_r,
        z_z,
        z_lam,
        lam_sd / np.maximum(lam_mean, 1.0),
        fill,
        height,
        below_top,
        load_rows,
        t_lam - _beside(t_lam, ok),
        t_z - _beside(t_z, ok),
        _robust_z(t_lam - _beside(t_lam, ok), ok),
        _robust_z(t_z - _beside(t_z, ok), ok),
        _robust_z(t_lam - col_lam, ok),
        _robust_z(t_z - col_z, ok),
    ]

    # ---- lines: ridges of the attenuation, relative to the attenuation itself
    off_x = max(1, round(_RIDGE_MM / pitch_mm[0]))
    off_y = max(1, round(_RIDGE_MM / pitch_mm[1]))
    smooth = ndimage.uniform_filter1d(high, 3, axis=0)  # along the line: less noise
    pad = np.pad(smooth, ((0, 0), (off_x, off_x)), mode="edge")
    ridge_v = smooth - 0.5 * (pad[:, : -2 * off_x] + pad[:, 2 * off_x :])
    smooth_h = ndimage.uniform_filter1d(high, 3, axis=1)
    pad = np.pad(smooth_h, ((off_y, off_y), (0, 0)), mode="edge")
    ridge_h = smooth_h - 0.5 * (pad[: -2 * off_y] + pad[2 * off_y :])
    scale = np.maximum(ndimage.uniform_filter(high, (ty, tx)), _MIN_SCALE)
    near_air = ndimage.binary_dilation(~loaded, iterations=max(off_x, off_y) + 1)
    use = loaded & ~near_air
    rv = np.where(use, ridge_v / scale, 0.0)
    rh = np.where(use, ridge_h / scale, 0.0)
    # Vertical lines: the mean over each tile row's pixel rows, profile along x.
    prof_v = rv.reshape(nr, ty, w).mean(axis=1)
    prof_v -= _common(prof_v, use.reshape(nr, ty, w).mean(axis=1) > 0.5)
    # Horizontal lines: the mean over each tile column's pixel columns, profile along y.
    prof_h = rh.reshape(h, nc, tx).mean(axis=2).T
    prof_h -= _common(prof_h, use.reshape(h, nc, tx).mean(axis=2).T > 0.5)
    lines_v = _line_features(prof_v, tx, nc, pitch_mm[0])
    lines_h = [a.T for a in _line_features(prof_h, ty, nr, pitch_mm[1])]

    columns = base + lines_v + lines_h
    named = dict(zip(_BASE + _LINES, columns, strict=True))
    nb, nbsd = [], []
    for n in _NEIGHBOURS:
        a = np.where(ok, named[n], 0.0)
        cnt = ndimage.uniform_filter(ok.astype(np.float64), 3, mode="constant")
        mean = ndimage.uniform_filter(a, 3, mode="constant") / np.maximum(cnt, 1e-9)
        nb.append(mean)
        if n in _NEIGHBOURS[:2]:
            sq = ndimage.uniform_filter(a * a, 3, mode="constant") / np.maximum(cnt, 1e-9)
            nbsd.append(np.sqrt(np.maximum(sq - mean**2, 0.0)))
    columns += nb + nbsd
    values = np.stack([np.asarray(c, dtype=np.float32) for c in columns], axis=-1)
    assert values.shape[-1] == len(FEATURE_NAMES)
    return TileFeatures(tm, np.nan_to_num(values), ok)


def column_offsets(high: NDArray[np.floating]) -> NDArray[np.float64]:
    """Each column's attenuation where the beam meets only air (above and below the container):
    what the linac's pulse-to-pulse jitter adds to the whole column. 0 where a column has too
    little open air to tell."""
    air = high < _AIR_ALPHA
    n = air.sum(axis=0)
    masked = np.where(air, high, np.nan)
    out = np.zeros(high.shape[1])
    some = n >= 5
    if some.any():
        out[some] = np.nanmedian(masked[:, some], axis=0)
    return out


def tile_features(imaged: Imaged) -> TileFeatures:
    """Features of every tile of ``imaged``'s load space (dual-energy scans only)."""
    tm = tile_map(imaged)
    c0, r0, c1, r1 = imaged.geometry.interior
    return tile_features_from_arrays(
        tm,
        imaged.attenuation.high[r0:r1, c0:c1],
        imaged.decomposition.areal_density[r0:r1, c0:c1],
        (imaged.scan.pitch_x_mm, imaged.scan.pitch_y_mm),
        column_offsets(imaged.attenuation.high)[c0:c1],
    )
