"""Regions inconsistent with the declared goods.

The load is cut into tiles (:mod:`.tiles`). Each tile's Z_eff and areal density are compared with
the other tiles at the same height in the same container – the same goods, the same beam angle,
the same calibration errors – in robust standard deviations. Connected tiles that stand out
together form a region, scored by the sum of their deviations over the square root of their
number (a matched filter for a block of unknown size). A region is then explained by the
material of its *excess* over the tiles around it:

* ``metal``: found separately, pixel by pixel – attenuation above the local goods that
  decomposes as metal (Z ≥ 18), scored by its mass; a block of ``METAL_ALARM_KG`` or more among
  light organic goods alarms. A thin metal object – a bar or barrel a few centimetres thick,
  which the block search drops as a tier edge – is found apart (:mod:`.metal_lines`): it alarms
  from ``METAL_LINE_ALARM_KG`` of decomposed excess, and its mass is the check's ``metal_score``;
* ``thin-plate``: a metal excess of under 3 g/cm² – a repair patch in a wall, not alarmed on;
* ``composition``: the same goods' density but another material – tobacco's mineral ash among
  textiles, for instance;
* ``density``: the goods' material but a denser or lighter block. Among light organic goods a
  block is also found by its edges (:mod:`.edges`): sides or a top that break the cartons' grid,
  as steps in attenuation over the block's height or length only – a block within the cartons'
  own spread of density tile by tile still shows them. Such a region is the edge itself.

Every tile is compared only with the same load – its row, after removing how Z_eff drifts
with areal density (a smooth curve through the load's own medians, carried on a little beyond
its lightest and densest tiles) and any slow drift along the container (±2.6 m) – and in
units of that load's own spread: the scale is the larger of the deviations' robust standard
deviation and their 90th percentile over the Gaussian's (1.645), so a load whose cartons
honestly differ from one another (a heavy-tailed spread) does not make every odd carton a
many-sigma block, and a whole load whose Z_eff is offset (a scanner not yet calibrated)
shifts its own reference with it. No threshold depends on where the Z_eff scale sits.

Goods the HS code says are light and organic are held to all of it. Inorganic goods (stone,
ceramics, glass, base metals) are checked for what they cannot contain: a block whose Z_eff is
*lower* than the load around it (``organic``: drugs in a load of tiles), strengthened by a
lighter block at the same place. Mixed goods (machinery, vehicles) are checked for a block
denser or of higher Z_eff than the load around it, against thresholds raised by half (the goods
are heterogeneous by nature). For both, tiles too dark to read – near the scan's ceiling, or so
dark that the detector's cross-talk may dominate them – are left out and reported as not
checked; a load mostly that dark is "not checked" as a whole. The alarm thresholds – one for
composition and metal regions, one for density regions – are the heading's own, from past
cleared scans (:mod:`.history`), when there are enough of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from smartcustoms.scans.analyses.edges import off_grid_edges
from smartcustoms.scans.analyses.goods import GoodsProfile
from smartcustoms.scans.analyses.history import HeadingProfile, LoadSummary
from smartcustoms.scans.analyses.imaging import Imaged
from smartcustoms.scans.analyses.metal_lines import METAL_LINE_ALARM_KG, MetalLine, metal_line
from smartcustoms.scans.analyses.tiles import TileMap, tile_map
from smartcustoms.scans.physics.materials import MaterialClass, class_of_z

__all__ = [
    "CONCEALMENT_ANALYSIS_VERSION",
    "DEFAULT_THRESHOLDS",
    "METAL_ALARM_KG",
    "ConcealmentResult",
    "Region",
    "find_concealments",
]

CONCEALMENT_ANALYSIS_VERSION = "concealment/1.5"  # 1.1: load-relative scale; mixed goods
# 1.2: Z_eff's drift with areal density removed as a smooth curve (light tiles no longer read
# as another material)
# 1.3: among light organic goods, a block's edges that break the carton grid (:mod:`.edges`)
# make a density region
# 1.4: tier lines carried on at their spacing, and a narrower margin around the carton grid
# 1.5: a block's side over most of the load's height no longer read as a carton column line;
# thin metal objects among light organic goods (:mod:`.metal_lines`, the ``metal_score``)
# Region scores above which a region alarms when the heading has no history: ≈5 % false alarms
# in all on the simulated textile loads of bench/scans_concealment.py.
DEFAULT_THRESHOLDS = (20.0, 24.0)  # (composition, density)
# A tile stands out beyond this many robust standard deviations. (A second, lower level for
# blocks only one case deep along the beam was tried: it raised false alarms as much as
# detections – see the bench.)
_TILE_SIGMAS = (3.5,)
_CLIP = 6.0  # no single tile counts for more than this
_TAIL_SPAN = 0.5  # beyond the end bins the drift is carried on at most this share of the range
_MIN_TILES = 2
_TOP_TILES = 2
_THIN_PLATE = 3.0  # g/cm²
_METAL_Z = 18.0
_METAL_DELTA_Z = 1.5
_METAL_MIN_ALPHA = 0.4  # excess attenuation of ≈12 g/cm² of steel
_POSTS_M = 0.12
_GROUP_PX = 6
_MAX_ASPECT = 5.0
_METAL_MIN_KG = 10.0  # metal blocks lighter than this are not reported
METAL_ALARM_KG = 25.0  # among light organic goods, this much metal in one block alarms
# The spread a tile is measured in: the robust σ, or the load's own 90th percentile of
# |deviation| over the Gaussian's 1.645 when its tails are heavier (cartons of varied goods).
_TAIL_QUANTILE = 0.90
_TREND_COLUMNS = 20  # tiles of 13 cm: the slow drift along the container is taken over ±2.6 m
_TAIL_GAUSS = 1.645
# Mixed goods (machinery) differ from tile to tile by nature: their regions must stand out more.
_MIXED_FACTOR = 1.5
# Tiles too dark to read (share of their pixels): near the ceiling, or in cross-talk's reach.
_DARK_TILE_SHARE = 0.2
_CEILING_MARGIN = 0.7  # α within this of the scan's ceiling carries no information
_NEAR_OPAQUE = 7.5
_CROSSTALK = 0.03  # transmission under this share of its height's mean: spread signal dominates
_MIN_READABLE = 0.5  # under this share of the load readable, it is not checked at all
# An edge off the carton grid (:mod:`.edges`) scores its run's steps in the load's own step
# spreads times this: 40 spreads reach the default density threshold. On the independent
# garment loads of development seeds honest loads' best edges stay under ≈ 35 spreads and a
# block's sides or top reach 50–900.
_EDGE_WEIGHT = DEFAULT_THRESHOLDS[1] / 40.0
_EDGE_MIN = 6.0  # region scores under this are not reported
_EDGE_HALF_M = 0.05  # the region drawn around an edge: this much either side of it


@dataclass(frozen=True)
class Region:
    """A region that does not look like the goods around it."""

    kind: str  # "metal", "composition", "density" or "thin-plate"
    bbox: tuple[int, int, int, int]  # (col0, row0, col1, row1) in the image, end-exclusive
    score: float
    tiles: int
    delta_z: float  # mean Z_eff above the same rows' goods
    delta_areal_density: float  # g/cm² above the goods around it
    excess_z: float | None  # Z_eff of what the region adds, when it adds enough to tell
    excess_class: MaterialClass | None
    excess_kg: float  # Δλ × area: mass added (negative: removed) relative to the goods around
    alarm: bool
    probability: float


@dataclass(frozen=True)
class ConcealmentResult:
    applicable: bool
    reason: str
    regions: tuple[Region, ...]
    thresholds: tuple[float, float]  # (composition, density); metal: METAL_ALARM_KG
    threshold_source: str  # "default" or the heading's history
    load: LoadSummary | None
    load_z_scores: tuple[float, float] | None  # this load against the heading's history
    version: str = CONCEALMENT_ANALYSIS_VERSION
    notes: tuple[str, ...] = field(default_factory=tuple)
    # Why the regions were not compared, as a message code and its parameters (the reader's
    # language), when ``reason`` holds more than a fixed sentence; None: ``reason`` is one.
    reason_message: tuple[str, dict[str, object]] | None = None
    # Among light organic goods: the heaviest thin metal object's mass (:mod:`.metal_lines`, kg,
    # a lower bound; 0.0 when none), against ``metal_threshold``. None: not looked for.
    metal_score: float | None = None
    metal_threshold: float = METAL_LINE_ALARM_KG

    @property
    def alarm(self) -> bool:
        return any(r.alarm for r in self.regions)


def _row_reference(values: NDArray[np.float64], valid: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Median of the valid tiles in each tile row (global median where a row has few)."""
    overall = float(np.median(values[valid])) if valid.any() else 0.0
    ref = np.full(values.shape[0], overall)
    for i in range(values.shape[0]):
        if valid[i].sum() >= 8:
            ref[i] = float(np.median(values[i][valid[i]]))
    return ref


def _conditional(
    values: NDArray[np.float64], valid: NDArray[np.bool_], given: NDArray[np.float64], bins: int = 8
) -> NDArray[np.float64]:
    """``values`` less their median at similar ``given`` (robust binned regression).

    Z_eff read through more goods drifts with areal density (beam hardening the calibration
    does not fully undo); comparing tiles only with tiles of similar density removes that."""
    x, y = given[valid], values[valid]
    edges = np.quantile(x, np.linspace(0.0, 1.0, bins + 1))
    which = np.clip(np.searchsorted(edges, given, side="right") - 1, 0, bins - 1)
    centre = np.full(bins, float(np.median(y)))
    at = np.full(bins, np.nan)
    for k in range(bins):
        sel = which[valid] == k
        if sel.sum() >= 5:
            centre[k] = float(np.median(y[sel]))
            at[k] = float(np.median(x[sel]))
    return np.asarray(values - _trend_at(given, at, centre), dtype=np.float64)


def _trend_at(
    given: NDArray[np.float64], at: NDArray[np.float64], centre: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The binned medians as a smooth curve: linear between the bins' own median ``given``,
    and carried on with their overall slope beyond them (at most ``_TAIL_SPAN`` of the range).

    The drift of Z_eff with areal density is smooth; a step per bin leaves the tiles at a bin's
    far side – a missing carton, a short stack, lighter than nearly all the load – with the
    drift still in them, and those read as "another material"."""
    ok = np.isfinite(at)
    if ok.sum() < 2:
        return np.full(given.shape, float(np.median(centre)))
    xs, ys = at[ok], centre[ok]
    order = np.argsort(xs)
    xs, ys = xs[order], ys[order]
    span = float(xs[-1] - xs[0])
    g = np.clip(given, xs[0] - _TAIL_SPAN * span, xs[-1] + _TAIL_SPAN * span)
    out = np.interp(g, xs, ys)
    # Beyond the ends, the drift's overall slope: two neighbouring bins' medians can be close in
    # areal density and apart in Z_eff by the goods' own spread, and their slope would be noise.
    slope = float(np.polyfit(xs, ys, 1)[0]) if span > 0 else 0.0
    out = np.where(g < xs[0], ys[0] + slope * (g - xs[0]), out)
    out = np.where(g > xs[-1], ys[-1] + slope * (g - xs[-1]), out)
    return np.asarray(out, dtype=np.float64)


def _column_trend(dev: NDArray[np.float64], valid: NDArray[np.bool_]) -> NDArray[np.float64]:
    """A slow drift along the container: per tile column, the median deviation of the valid
    tiles within ``_TREND_COLUMNS`` columns either side.

    The scanner's air level and gain drift while the container passes (columns are time), and
    loads differ from one end to the other; both shift whole stretches of columns together. The
    window is wide (≈2.6 m either side), so a block of a metre or two barely moves it."""
    ncols = dev.shape[1]
    trend = np.zeros(ncols)
    for j in range(ncols):
        lo, hi = max(0, j - _TREND_COLUMNS), min(ncols, j + _TREND_COLUMNS + 1)
        sel = valid[:, lo:hi]
        if sel.sum() >= 8:
            trend[j] = float(np.median(dev[:, lo:hi][sel]))
    return trend


def _zscores(values: NDArray[np.float64], valid: NDArray[np.bool_]) -> NDArray[np.float64]:
    dev = values - _row_reference(values, valid)[:, None]
    dev = dev - _column_trend(dev, valid)[None, :]
    spread = np.abs(dev[valid])
    sigma = max(
        1.4826 * float(np.median(spread)),
        float(np.quantile(spread, _TAIL_QUANTILE)) / _TAIL_GAUSS,
        1e-6,
    )
    return np.where(valid, np.clip(dev / sigma, -_CLIP, _CLIP), 0.0)


def _probability(score: float, threshold: float) -> float:
    return float(1.0 / (1.0 + np.exp(-(score - threshold) / 2.0)))


def _explain(
    imaged: Imaged, tm: TileMap, members: NDArray[np.bool_], anomalous: NDArray[np.bool_]
) -> tuple[float, float | None, float]:
    """Δλ, Z_eff of the excess and the excess mass of a region against the tiles around it."""
    ring = ndimage.binary_dilation(members, iterations=2) & ~members & tm.valid & ~anomalous
    if ring.sum() < 3:
        ring = ndimage.binary_dilation(members, iterations=4) & ~members & tm.valid
    if ring.sum() < 3:
        return 0.0, None, 0.0
    d_lam = float(tm.areal_density[members].mean() - tm.areal_density[ring].mean())
    d_high = float(tm.alpha_high[members].mean() - tm.alpha_high[ring].mean())
    d_low = float(tm.alpha_low[members].mean() - tm.alpha_low[ring].mean())
    excess_z = None
    if d_high > 0.03 and d_low > 0.03:
        rows = np.flatnonzero(members.any(axis=1))
        angle = float(tm.angle_deg[rows].mean())
        excess_z = float(imaged.decomposer.z_of(d_high, d_high / d_low, angle)[0])
    tx, ty = tm.size_px
    kg = d_lam * members.sum() * tx * ty * imaged.pixel_area_cm2 / 1000.0
    return d_lam, excess_z, kg


def _block_median(a: NDArray[np.float32], block: int, window: int) -> NDArray[np.float32]:
    """A smooth background: medians of ``block``-pixel blocks, then of ``window`` blocks around."""
    nr, nc = a.shape[0] // block, a.shape[1] // block
    if nr == 0 or nc == 0:
        return np.full_like(a, np.median(a))
    coarse = np.median(
        a[: nr * block, : nc * block]
        .reshape(nr, block, nc, block)
        .transpose(0, 2, 1, 3)
        .reshape(nr, nc, -1),
        axis=2,
    )
    coarse = ndimage.median_filter(coarse, size=window, mode="nearest")
    full = np.repeat(np.repeat(coarse, block, axis=0), block, axis=1)
    out = np.empty_like(a)
    out[: full.shape[0], : full.shape[1]] = full
    out[full.shape[0] :, :] = out[full.shape[0] - 1 : full.shape[0], :] if full.shape[0] else 0
    out[:, full.shape[1] :] = out[:, full.shape[1] - 1 : full.shape[1]]
    return out


def _metal_regions(imaged: Imaged, limit: float) -> list[Region]:
    """Metal blocks: pixels whose attenuation above the local goods is that of metal.

    The excess over a smooth background (block medians, ≈0.5 m) is decomposed on its own into
    areal density and Z_eff, as if the block were alone in the beam; connected metal excess
    weighing ``_METAL_MIN_KG`` or more is a region. Its score is the excess mass in kilograms."""
    low = imaged.attenuation.low
    assert low is not None
    c0, r0, c1, r1 = imaged.geometry.interior
    high = imaged.attenuation.high[r0:r1, c0:c1]
    low = low[r0:r1, c0:c1]
    block = max(4, round(0.09 * 1000 / imaged.scan.pitch_x_mm))
    d_high = ndimage.gaussian_filter(high - _block_median(high, block, 5), 1.0)
    d_low = ndimage.gaussian_filter(low - _block_median(low, block, 5), 1.0)
    candidate = (d_high > _METAL_MIN_ALPHA) & (d_low > _METAL_MIN_ALPHA)
    if not candidate.any():
        return []
    # Decompose only the candidate pixels: the excess alone, as if nothing else were in the beam.
    rr, cc = np.nonzero(candidate)
    angles = imaged.scan.row_angles_deg()[r0:r1][rr]
    ratio = d_high[rr, cc] / d_low[rr, cc]
    z_px = imaged.decomposer.z_of(d_high[rr, cc], ratio, angles)
    lam = np.zeros(candidate.shape, dtype=np.float32)
    z_map = np.zeros(candidate.shape, dtype=np.float32)
    lam[rr, cc] = imaged.decomposer.areal_density_of(d_high[rr, cc], ratio, angles)
    z_map[rr, cc] = z_px
    metal = candidate & (z_map >= _METAL_Z)
    # The corner posts stand inside both ends of the load space: steel that belongs there.
    posts = round(_POSTS_M * 1000 / imaged.scan.pitch_x_mm)
    metal[:, :posts] = False
    metal[:, metal.shape[1] - posts :] = False
    # Thin lines – boards and gaps seen edge-on, where blur fakes a metal-like ratio – go.
    metal = ndimage.binary_opening(metal, iterations=2)
    # Pieces packed together (a crate of parts) make one region.
    grouped = ndimage.binary_dilation(metal, iterations=_GROUP_PX)
    labels, _ = ndimage.label(grouped, structure=np.ones((3, 3), dtype=bool))
    labels[~metal] = 0
    out = []
    area = imaged.pixel_area_cm2
    for k, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        members = labels[sl] == k
        kg = float(lam[sl][members].sum(dtype=np.float64) * area / 1000.0)
        h, w = members.shape
        # Long thin bands are the edges between tiers of sacks or cartons, not blocks.
        if kg < _METAL_MIN_KG or max(h, w) > _MAX_ASPECT * min(h, w):
            continue
        z = float(np.median(z_map[sl][members]))
        bbox = (sl[1].start + c0, sl[0].start + r0, sl[1].stop + c0, sl[0].stop + r0)
        out.append(
            Region(
                kind="metal",
                bbox=bbox,
                score=kg,
                tiles=0,
                delta_z=0.0,
                delta_areal_density=float(lam[sl][members].mean()),
                excess_z=z,
                excess_class=MaterialClass.METAL,
                excess_kg=kg,
                alarm=kg >= limit,
                probability=_probability(kg / 5.0, limit / 5.0),
            )
        )
    return out


def _dark_tiles(imaged: Imaged, tm: TileMap) -> NDArray[np.bool_]:
    """Tiles with more than ``_DARK_TILE_SHARE`` of their pixels too dark to read: near the
    scan's ceiling or α 7.5, or under ``_CROSSTALK`` of the mean transmission at their height
    across the load (where 1 % of the surroundings' signal spread in by blur, scatter and the
    array's cross-talk is a third of what they read). Relative to the same scan, so it does
    not depend on the scanner's calibration."""
    tx, ty = tm.size_px
    c0, r0 = tm.origin
    nr, nc = tm.valid.shape
    if nr == 0 or nc == 0:
        return np.zeros((nr, nc), dtype=bool)
    _, _, c1, r1 = imaged.geometry.interior
    alpha = imaged.attenuation.high[r0:r1, c0:c1].astype(np.float64)
    transmission = np.exp(-np.clip(alpha, 0.0, 30.0))
    around = transmission.mean(axis=1, keepdims=True)
    ceiling = min(imaged.attenuation.max_alpha - _CEILING_MARGIN, _NEAR_OPAQUE)
    dark = (alpha >= ceiling) | (transmission < _CROSSTALK * around)
    share = dark[: nr * ty, : nc * tx].reshape(nr, ty, nc, tx).mean(axis=(1, 3))
    return np.asarray(share > _DARK_TILE_SHARE)


def _below_load_top(valid: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Drop the top two tiles of each tile column: the load's top tier is uneven (a package
    more or less along the beam), which no other tile row can serve as a reference for."""
    out = valid.copy()
    has = valid.any(axis=0)
    top = np.argmax(valid, axis=0)
    for j in np.flatnonzero(has):
        out[top[j] : top[j] + _TOP_TILES, j] = False
    return out


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def _combine(regions: list[Region], limits: tuple[float, float]) -> list[Region]:
    """A block that stands out in both Z_eff and density is stronger evidence than either:
    a composition region overlapping a density region scores their quadrature sum."""
    out = []
    for r in regions:
        if r.kind in ("composition", "organic"):
            dens = [d.score for d in regions if d.kind == "density" and _overlap(d.bbox, r.bbox)]
            if dens:
                score = float(np.hypot(r.score, max(dens)))
                r = replace(
                    r,
                    score=score,
                    alarm=score >= limits[0],
                    probability=_probability(score, limits[0]),
                )
        out.append(r)
    return out


def _edge_region(imaged: Imaged, limit: float) -> Region | None:
    """The strongest edge off the load's carton grid as a density region (light organic goods:
    cartons stacked on the floor), or None when none stands out.

    A block of other goods in the place of some cartons is often within the cartons' own spread
    of density tile by tile; its sides, which do not fall where the cartons' do, show as steps
    over its height (or length) only. The region is the edge itself, a little widened: the
    block lies on one side of it."""
    cue = off_grid_edges(imaged)
    if cue is None:
        return None
    score = cue.score * _EDGE_WEIGHT
    if score < _EDGE_MIN:
        return None
    c0, r0, c1, r1 = cue.bbox
    if cue.vertical:
        half = round(_EDGE_HALF_M * 1000 / imaged.scan.pitch_x_mm)
        c0, c1 = c0 - half, c1 + half
    else:
        half = round(_EDGE_HALF_M * 1000 / imaged.scan.pitch_y_mm)
        r0, r1 = r0 - half, r1 + half
    ic0, ir0, ic1, ir1 = imaged.geometry.interior
    bbox = (max(c0, ic0), max(r0, ir0), min(c1, ic1), min(r1, ir1))
    # The step in areal density across the edge, from the attenuation's (the goods' own ratio).
    lam = imaged.decomposition.areal_density[ir0:ir1, ic0:ic1]
    high = imaged.attenuation.high[ir0:ir1, ic0:ic1]
    loaded = lam > 15.0
    per_alpha = (
        float(np.median(lam[loaded] / np.maximum(high[loaded], 1e-3))) if loaded.any() else 0.0
    )
    return Region(
        kind="density",
        bbox=bbox,
        score=score,
        tiles=0,
        delta_z=0.0,
        delta_areal_density=abs(cue.step_alpha) * per_alpha,
        excess_z=None,
        excess_class=None,
        excess_kg=0.0,
        alarm=score >= limit,
        probability=_probability(score, limit),
    )


def _line_region(line: MetalLine) -> Region:
    """A thin metal object (:mod:`.metal_lines`) as an alarmed metal region."""
    return Region(
        kind="metal",
        bbox=line.bbox,
        score=line.kg,
        tiles=0,
        delta_z=0.0,
        delta_areal_density=0.0,
        excess_z=line.z_eff,
        excess_class=MaterialClass.METAL,
        excess_kg=line.kg,
        alarm=True,
        probability=_probability(line.kg * 5.0, METAL_LINE_ALARM_KG * 5.0),
    )


def find_concealments(
    imaged: Imaged,
    goods: GoodsProfile | None,
    history: HeadingProfile | None = None,
    *,
    false_alarm_rate: float = 0.05,
    thresholds: tuple[float, float] | None = None,
) -> ConcealmentResult:
    """Regions of the load inconsistent with ``goods`` (and with the heading's history)."""
    if imaged.attenuation.low is None:
        return ConcealmentResult(
            False,
            "single-energy scan: materials cannot be told apart",
            (),
            (0.0, 0.0),
            "none",
            None,
            None,
        )
    # What the goods may be made of sets what is looked for (see the module's docstring).
    mode = "organic"
    if goods is not None and not goods.light_organic:
        mode = "mixed" if MaterialClass.ORGANIC in goods.classes else "inorganic"
    tm = tile_map(imaged)
    valid = _below_load_top(tm.valid)
    notes: list[str] = []
    if mode != "organic":
        # Judged on every loaded tile (the top tier included): a short, dense load (pallets of
        # tiles) is "too dense", not "too little".
        dark = _dark_tiles(imaged, tm) & tm.valid
        share = float(dark.sum()) / max(int(tm.valid.sum()), 1)
        readable = valid & ~dark
        if tm.valid.any() and share > 1.0 - _MIN_READABLE:
            assert goods is not None
            return ConcealmentResult(
                False,
                f"{goods.description}: {share:.0%} of the load is too dense to see through; "
                "not checked",
                (),
                (0.0, 0.0),
                "none",
                None,
                None,
                reason_message=(
                    "scans.concealment.too_dense",
                    {"goods": goods.description, "share": share},
                ),
            )
        if share > 0:
            notes.append(f"{share:.0%} of the load too dense to see through: not checked there")
        valid = readable
    if valid.sum() < 20:
        return ConcealmentResult(
            False, "too little load to compare regions", (), (0.0, 0.0), "none", None, None
        )
    z_z = _zscores(_conditional(tm.z_eff, valid, tm.areal_density), valid)
    z_lam = _zscores(tm.areal_density, valid)
    source = "default"
    limits = DEFAULT_THRESHOLDS if thresholds is None else thresholds
    if thresholds is None and history is not None:
        own = history.thresholds(false_alarm_rate)
        if own is not None:
            limits, source = own, f"heading {history.heading} history ({history.n_scans} scans)"
    if goods is None or mode == "mixed":
        # Nothing declared to compare with, or goods that differ from tile to tile by nature.
        limits = (limits[0] * _MIXED_FACTOR, limits[1] * _MIXED_FACTOR)
    z_odd = np.abs(z_z) if mode == "inorganic" else z_z
    anomalous = (z_odd > _TILE_SIGMAS[-1]) | (np.abs(z_lam) > _TILE_SIGMAS[-1])
    regions: list[Region] = []
    metal_score: float | None = None
    eight = np.ones((3, 3), dtype=bool)
    masks: list[tuple[str, NDArray[np.float64], NDArray[np.bool_]]] = []
    for sigma in _TILE_SIGMAS:
        if mode == "inorganic":
            # Tiles, stone, metal: what they cannot hold is organic – lower Z_eff, and lighter.
            masks += [
                ("organic", z_z, z_z < -sigma),
                ("density", z_lam, z_lam < -sigma),
            ]
        elif mode == "mixed":
            masks += [
                ("composition", z_z, z_z > sigma),
                ("density", z_lam, z_lam > sigma),
            ]
        else:
            masks += [
                ("composition", z_z, z_z > sigma),
                ("density", z_lam, z_lam > sigma),
                ("density", z_lam, z_lam < -sigma),
            ]
    for name, field_z, mask in masks:
        # Board lines and gaps break a block into pieces one tile apart: bridge them.
        labels, _ = ndimage.label(ndimage.binary_dilation(mask, structure=eight), structure=eight)
        labels[~mask] = 0
        for k, sl in enumerate(ndimage.find_objects(labels), start=1):
            if sl is None:
                continue
            members = labels == k
            count = int(members.sum())
            if count < _MIN_TILES:
                continue
            score = float(np.abs(field_z[members]).sum() / np.sqrt(count))
            d_lam, excess_z, kg = _explain(imaged, tm, members, anomalous)
            kind = name
            delta_z = float((tm.z_eff - _row_reference(tm.z_eff, valid)[:, None])[members].mean())
            if excess_z is not None and excess_z >= _METAL_Z and 0 < d_lam < _THIN_PLATE:
                kind = "thin-plate"  # a sheet of metal adds little: a repair patch in a wall
            cls = None if excess_z is None else list(MaterialClass)[int(class_of_z(excess_z))]
            limit = limits[1] if kind == "density" else limits[0]
            # Among inorganic goods a lighter block alone is a gap between pallets: it only
            # strengthens an organic region at the same place.
            alarm = kind != "thin-plate" and score >= limit
            if mode == "inorganic" and kind == "density":
                alarm = False
            regions.append(
                Region(
                    kind=kind,
                    bbox=tm.bbox(sl[0], sl[1]),
                    score=score,
                    tiles=count,
                    delta_z=delta_z,
                    delta_areal_density=d_lam,
                    excess_z=excess_z,
                    excess_class=cls,
                    excess_kg=kg,
                    alarm=alarm,
                    probability=_probability(score, limit) if kind != "thin-plate" else 0.0,
                )
            )
    regions = _combine(regions, limits)
    if goods is not None and goods.carton_grid:
        edge = _edge_region(imaged, limits[1])
        if edge is not None:
            regions.append(edge)
    if mode == "organic":
        # Among mixed or inorganic goods metal is expected: only light organic goods are
        # searched for metal blocks pixel by pixel.
        regions.extend(_metal_regions(imaged, METAL_ALARM_KG))
        line = metal_line(imaged)
        metal_score = 0.0 if line is None else line.kg
        if line is not None and line.kg >= METAL_LINE_ALARM_KG:
            regions.append(_line_region(line))
    regions.sort(key=lambda r: -r.score)
    load = LoadSummary(
        median_z=float(np.median(tm.z_eff[valid])),
        median_areal_density=float(np.median(tm.areal_density[valid])),
        composition_score=max(
            (r.score for r in regions if r.kind in ("composition", "organic")), default=0.0
        ),
        # Among inorganic goods density regions never alarm alone (gaps between pallets).
        density_score=0.0
        if mode == "inorganic"
        else max((r.score for r in regions if r.kind == "density"), default=0.0),
    )
    load_z = history.load_z_scores(load) if history is not None else None
    if load_z is not None and (abs(load_z[0]) > 4 or abs(load_z[1]) > 4):
        notes.append(
            f"the whole load is unusual for heading {history.heading if history else ''}: "
            f"Z_eff {load_z[0]:+.1f}σ, areal density {load_z[1]:+.1f}σ from its past scans"
        )
    if goods is not None and goods.organic_only and load.median_z >= 10:
        notes.append(
            f"declared {goods.description} but the load reads as "
            f"{list(MaterialClass)[int(class_of_z(load.median_z))].value}"
        )
    return ConcealmentResult(
        True,
        "compared with the rest of the load"
        if mode == "organic"
        else f"compared with the rest of the load ({mode} goods)",
        tuple(regions),
        limits,
        source,
        load,
        load_z,
        notes=tuple(notes),
        metal_score=metal_score,
    )
