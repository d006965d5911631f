"""Empty-container verification: is anything in a container declared empty?

The structure is removed as a separable background (:mod:`.background`), then what it leaves
that changes slowly along the container (edges leaning with tilt and a fan beam's parallax) by
a running median along each row; what is left is objects plus noise. With a fan beam the floor
is seen obliquely in a band below the load space, where an object lying by the near wall shows:
that band is inspected too, with a background of its own, and the columns its cross-members'
webs cross are not (they hide what is behind them); beside the webs, each member's flanges are
taken off as the median appearance of its neighbours, aligned on their webs. The band is a few
dozen rows, which an object lying by the wall fills for the most part: outside the
cross-members' columns its column term is held to the floor's level along the container, and an
excess as wide as no cross-member is (an object) is left to the residual, not taken for
structure. When the frame rests on the container's underside, both walls' floor edges come from
it and the type's floor height, column by column: the load space ends above the higher and the
band reaches below the lower (a roof clipped at the image's top, or read above it, can misplace
both, into the floor or well above it). The corner posts are not inspected;
how far the end walls lean is read from the image too, since a tilt the frame missed (a clipped
roof read flat) leaves them leaning where nothing straightened them. The noise is modelled per row
and per column (a log transmission is noisier behind more steel), and objects are found by
hysteresis on the significance of the smoothed residual (seeds above ``seed_sigma``, grown
down to ``grow_sigma``) and weighed by their net excess mass over a margin around them wide
enough to include any deficit next to them – a dent moves steel without adding any, so it
weighs nothing. An object's material comes from the ratio of its own excess attenuations in
the two channels.

A thin, wide metal plate is reported but not alarmed on: it is what a welded repair patch looks
like, its area counted over the pieces a corrugation's noisier flanks cut it into. Everything
heavier than ``threshold_kg`` (0.7 kg by default) otherwise makes the container "not empty".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from smartcustoms.scans.analyses.background import (
    robust_sigma,
    separable_background,
    separable_noise,
    slow_along_rows,
)
from smartcustoms.scans.analyses.imaging import Imaged
from smartcustoms.scans.physics.materials import MaterialClass, class_of_z

__all__ = [
    "DEFAULT_THRESHOLD_KG",
    "EMPTY_ANALYSIS_VERSION",
    "DetectedObject",
    "EmptyVerdict",
    "verify_empty",
]

# 1.5: cross-members' median appearance taken off in the floor band; a load space placed from a
# misread roof, ending above the floor, moved down to it
EMPTY_ANALYSIS_VERSION = "empty/1.5"
# Objects weighing more than this make a container "not empty". Chosen on a calibration run of
# bench/scans_empty.py (seeds 10000+): the 1 kg targets weigh ≥ 0.78 kg, and honest empties' light
# debris (paper, film, splinters) stays below it; the reported figures come from other seeds.
DEFAULT_THRESHOLD_KG = 0.7
_THIN_PLATE_PEAK = 3.0  # g/cm²: a repair patch is one sheet, ≤ 3 mm of steel
_THIN_PLATE_AREA_M2 = 0.04
_PLATE_GAP_PX = 3  # pieces of one sheet this close are one sheet (a corrugation flank apart)
_POST_M = 0.085  # corner posts reach this far into the load space's length
# What the separable background leaves of the structure is followed along the container over
# this length: several times a kilogram object's, short of a leaning edge's change.
_SLOW_M = 1.5
_FLANGE_M = 0.06  # no cross-member's flange, blurred, is wider along the container
_CROSSED_RUNS = 8  # separate excesses in one row that only a row of cross-members makes
_MEMBER_REACH_M = 0.08  # a cross-member's flange (45 mm or so), blurred, beside its web
_MEMBER_NEAR = 9  # cross-members whose median appearance is taken off each


@dataclass(frozen=True)
class DetectedObject:
    """An object found in the load space. ``bbox`` is (col0, row0, col1, row1), end-exclusive."""

    bbox: tuple[int, int, int, int]
    mass_kg: float
    peak_areal_density: float  # g/cm² above the background
    area_m2: float
    z_eff: float | None
    material_class: MaterialClass | None
    significance: float  # peak residual in noise standard deviations
    kind: str = "object"  # or "thin-plate"


@dataclass(frozen=True)
class EmptyVerdict:
    """The verdict of the empty-container check."""

    empty: bool
    threshold_kg: float
    objects: tuple[DetectedObject, ...]
    inspected_fraction: float  # of the container's inner side-view area
    max_object_kg: float
    noise_kg: float  # one standard deviation of an object's weighed mass, typical object size
    version: str = EMPTY_ANALYSIS_VERSION
    notes: tuple[str, ...] = field(default_factory=tuple)


def _structure_free(
    values: NDArray[np.float32],
    split: int,
    window: int | None,
    members: NDArray[np.bool_] | None = None,
    slow: int = 0,
    min_px: float = 0.0,
    webs: NDArray[np.float64] | None = None,
    reach: int = 0,
) -> NDArray[np.float32]:
    """``values`` less the structure: a separable background fitted apart above and below
    ``split`` (the load space, and the floor band a fan beam shows below it: the floor seen
    obliquely, cross-members and all, is structure of its own), then what is left of the
    structure that changes slowly along the container (leaning edges, drifting rows).
    ``members``: the band's columns that cross-members cross; the band's column term is then
    held down elsewhere (:func:`_band_columns`, over ``slow`` columns). ``webs``: the
    cross-members' webs (band columns, sub-pixel), whose neighbours' median appearance is taken
    off each over ``reach`` columns either side (:func:`_without_members`)."""
    out = np.empty_like(values, dtype=np.float32)
    for part in (slice(0, split), slice(split, values.shape[0])):
        v = values[part]
        if v.shape[0] == 0:
            continue
        f, g = separable_background(v)
        if part.start == split and members is not None and slow > 0:
            f = _band_columns(f, members, slow, min_px)
        out[part] = v - f[None, :] - g[:, None]
    if window is None:
        return out
    out = np.asarray(out - slow_along_rows(out, window), dtype=np.float32)
    if webs is not None and reach > 0 and split < out.shape[0]:
        # After the slow structure: the floor's planks, at depths a tilt sets apart, cross the
        # band as rows that lean along the container, which the neighbours do not share.
        out[split:] = _without_members(out[split:], webs, reach)
    return out


def _significance(
    residual: NDArray[np.float32],
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """The smoothed residual, its significance and the per-row noise."""
    smooth = ndimage.gaussian_filter(residual, 1.2)
    col_noise, row_noise = separable_noise(smooth)
    z = smooth / (col_noise[None, :] * row_noise[:, None])
    return smooth, np.asarray(z, dtype=np.float32), row_noise


def _crossed_rows(z: NDArray[np.float32], seed_sigma: float, split: int) -> NDArray[np.bool_]:
    """Rows of the bottom band that cross-members cross: in the lower part of the load space
    (or below it), rows where the excess comes as many separate narrow runs – an object is one
    run or a few, a row of cross-members a dozen or more – down to the bottom."""
    above = z > seed_sigma
    runs = np.count_nonzero(above[:, 1:] & ~above[:, :-1], axis=1)
    # What the rest of the load space's rows hold (clutter, noise's tail) sets the bar.
    usual = float(np.median(runs[: max(1, int(split * 0.65))]))
    crossed = runs >= max(_CROSSED_RUNS, 2.0 * usual)
    crossed[: int(split * 0.65)] = False
    start = z.shape[0]
    for r in range(z.shape[0] - 1, int(split * 0.65) - 1, -1):
        if crossed[r] and crossed[r:].mean() >= 0.5:
            start = r
    crossed[:start] = False
    return np.asarray(crossed)


def _wide_runs(cols: NDArray[np.bool_], min_px: float) -> NDArray[np.bool_]:
    """The runs of ``cols`` wider than a cross-member seen edge-on: wider than ``min_px`` and,
    where there are enough runs to tell (a cross-member every 0.3 m or so), than most of them
    by far (a cross-member's flange, and its blur, is about as wide as the next one's)."""
    runs, n = ndimage.label(cols)
    if n == 0:
        return np.zeros(cols.shape, dtype=bool)
    widths = np.bincount(runs.ravel(), minlength=n + 1)[1:]
    limit = max(min_px, 1.8 * float(np.median(widths)) if n >= 5 else 0.0)
    return np.asarray(np.isin(runs, np.flatnonzero(widths > limit) + 1))


def _band_columns(
    f: NDArray[np.float32], members: NDArray[np.bool_], slow: int, min_px: float
) -> NDArray[np.float32]:
    """The floor band's column term with what stands above the floor's own level held down,
    except in the columns cross-members cross. The band is a few dozen rows: an object lying
    on the floor by the wall fills most of them, and a median over them (the column term)
    took it for structure – a 2 kg brick weighed 0.2 kg. The floor's level changes little
    along the container between cross-members (a running median over ``slow`` of those
    columns), so a column's excess over it beyond the spread the columns show is an object's."""
    free = np.flatnonzero(~members)
    if free.size < 16:
        return f
    level = np.zeros_like(f)
    level[free] = ndimage.median_filter(f[free], size=min(slow, free.size) | 1, mode="nearest")
    excess = f - level
    cap = 4.0 * max(robust_sigma(excess[free]), 1e-4)
    # Runs of columns standing out: mostly cross-members the mask missed (all about one
    # flange wide, periodic); an object is a run well wider than they are.
    held = _wide_runs(~members & (excess > cap), min_px)
    if not held.any():
        return f
    out = f.copy()
    out[held] = level[held] + cap
    return np.asarray(out, dtype=np.float32)


def _webs(band: NDArray[np.float32], members: NDArray[np.bool_]) -> NDArray[np.float64]:
    """The cross-members' webs in the floor band: per run of member columns, the column where
    the band's median level peaks, to a fraction of a pixel (a parabola through the peak and
    its neighbours). A web is seen at every depth, so in every row of the band."""
    level = np.median(band, axis=0).astype(np.float64)
    runs, _ = ndimage.label(members)
    out = []
    for sl in ndimage.find_objects(runs):
        if sl is None:
            continue
        c = sl[0].start + int(np.argmax(level[sl[0]]))
        if 0 < c < level.size - 1:
            a, b, d = level[c - 1], level[c], level[c + 1]
            den = a - 2.0 * b + d
            c_f = c + (0.5 * (a - d) / den if den < 0 else 0.0)
            out.append(c_f)
    return np.asarray(out, dtype=np.float64)


def _without_members(
    band: NDArray[np.float32], webs: NDArray[np.float64], reach: int
) -> NDArray[np.float32]:
    """The floor band less each cross-member's appearance: the median, over its neighbours
    along the container, of the band around their webs, aligned on them to a fraction of a
    pixel. A member seen as a comb (its flanges at the heights the depth layers project them
    to) reaches a flange's width beside its web, beyond the columns masked as a member; its
    flanges then read as objects (0.7–1 kg). They are alike from member to member, and change
    only slowly along the container (tilt, parallax), where an object lies beside one or two."""
    if webs.size < 5:
        return band
    gaps = np.diff(np.sort(webs))
    half = int(min(np.floor(0.5 * float(np.median(gaps))) - 1, reach))
    if half < 3:
        return band
    rows, cols = band.shape
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    grid_r = np.repeat(np.arange(rows, dtype=np.float64)[:, None], offsets.size, axis=1)
    patches = []
    for w in webs:
        coords = np.stack([grid_r, np.broadcast_to(w + offsets[None, :], grid_r.shape)])
        patches.append(ndimage.map_coordinates(band, coords, order=1, mode="nearest"))
    stack = np.stack(patches)
    out = band.astype(np.float32, copy=True)
    order = np.argsort(webs)
    for i, j in enumerate(order):
        start = min(max(0, i - _MEMBER_NEAR // 2), max(0, order.size - _MEMBER_NEAR))
        near = order[start : start + _MEMBER_NEAR]
        template = np.median(stack[near], axis=0)
        # Back onto the image's columns: each column within the patch, at its offset.
        c_lo = int(np.ceil(webs[j] - half))
        c_hi = int(np.floor(webs[j] + half))
        cs = np.arange(max(0, c_lo), min(cols, c_hi + 1))
        if cs.size == 0:
            continue
        at = cs - webs[j] + half
        steps = np.arange(offsets.size)
        shape = np.stack([np.interp(at, steps, template[r]) for r in range(rows)])
        # Only in rows where it fits: where the edges move along the container faster than the
        # neighbours follow (near the ends, with a steep tilt's parallax), taking off a
        # neighbour's appearance would leave one of its own.
        here = band[:, cs]
        fits = np.sum((here - shape) ** 2, axis=1) < np.sum(here**2, axis=1)
        out[np.ix_(fits, cs)] -= shape[fits]
    return out


def _band_structure(band: NDArray[np.float32], window: int) -> NDArray[np.bool_]:
    """Columns of the floor band that a cross-member crosses: its per-column level stands out
    from its neighbourhood's by far more than the columns vary otherwise. Widened by a
    couple of columns (the detector's blur, the edges' partial pixels)."""
    size = max(9, window // 16) | 1

    def stands_out(rows: NDArray[np.float32], q: float) -> NDArray[np.bool_]:
        level = np.percentile(rows, q, axis=0)
        near = ndimage.median_filter(level, size=size, mode="nearest")
        excess = level - near
        return np.asarray(excess > 4.0 * max(robust_sigma(excess), 1e-4))

    out = stands_out(band, 50)
    # The median over the band's rows sees a cross-member whose web is dense; one seen as a
    # comb (its flanges at the heights the depth layers project them to, thin web between)
    # stands out in the upper quartile instead – in both halves of the band, since it spans the
    # container's width and so every depth the band shows. An object lying on the floor lies
    # at one depth: it fills one part of the band, and its columns stay inspected.
    half = band.shape[0] // 2
    if half >= 4:
        out |= stands_out(band[:half], 75) & stands_out(band[half:], 75)
    return np.asarray(ndimage.binary_dilation(out, iterations=2))


def _floor_band(imaged: Imaged, r1: int) -> int:
    """Rows below the load space's bottom (``r1``, the higher of the near and far walls' floor
    edges) down to the lower one: with a fan beam the floor is seen obliquely there, and an
    object lying on the floor by the near wall (or the far one, with the source below the
    floor) is seen in that band only. Zero with parallel rays."""
    beam = imaged.scan.beam
    if not beam.fan or beam.source_row is None or not beam.source_distance_mm:
        return 0
    spec = imaged.geometry.spec
    d = beam.source_distance_mm / 1000.0
    w = (spec.width if spec else 2.438) / 2.0
    near, far = d / (d - w), d / (d + w)
    src = float(beam.source_row)
    # Straightening a tilted box moves each column up or down: the floor's distance below the
    # source changes along the length by as much, and the band's width with it.
    lean = 0.0
    if imaged.rectified and imaged.frame is not None:
        c0, _, c1, _ = imaged.geometry.interior
        lean = float(np.abs(imaged.frame.shift_rows(imaged.scan.shape[1])[c0:c1]).max(initial=0))
    ratio = near / far if src < r1 else far / near
    width = (abs(r1 - src) + lean) * abs(ratio - 1.0)
    bottom = min(imaged.geometry.outer[3] - 1, imaged.scan.shape[0])
    return int(max(0, min(np.ceil(width), bottom - r1)))


def _walls_floor(imaged: Imaged, r1: int, bottom: int) -> tuple[int, int]:
    """The load space's bottom and the floor band's from both walls' floor edges, when the
    roof is clipped and the frame rests on the container's underside (a fan beam): the load
    space ends above the higher of the two edges and the band reaches below the lower, column
    by column in the straightened image (each wall's edge leans by its own magnification of the
    tilt, which one shift per column does not undo). A roof clipped at the image's top row can
    put the load space's bottom, read from the roof, into the floor itself: its cross-members,
    not separable there, then read as objects. ``(r1, bottom)`` unchanged otherwise."""
    frame = imaged.frame
    # With the roof in the image the load space read from it stands (the type's floor height
    # above the underside is a nominal figure, good to a few rows); clipped, the roof edge
    # found may be a rail or a beam, and the underside is the better anchor.
    if frame is None or frame.underside is None:
        return r1, bottom
    # A roof edge read above the image's top row is no edge the image shows (a fan beam's near
    # roof cut off, the far one taken for a rail): clipped too, whatever the frame says.
    clipped = frame.roof_clipped or float(frame.roof.at(frame.roof.c_mid)) < 0.0
    if not clipped:
        return r1, bottom
    c0, _, c1, _ = imaged.geometry.interior
    scan = imaged.scan
    cols = np.arange(c0, c1, dtype=np.float64)
    edges = frame.floor_edges(cols, scan.beam, imaged.geometry.spec, scan.pitch_y_mm)
    if edges is None:
        return r1, bottom
    shift = frame.shift_rows(scan.shape[1])[c0:c1] if imaged.rectified else 0.0
    near, far = (e - shift for e in edges)
    high = np.minimum(near, far)
    low = np.maximum(near, far)
    # Where the edges lean (tilt, parallax) the rows they cross along the length are left to
    # the slow structure's removal as before: the load space is moved only when the higher
    # edge at mid-length lies above its bottom by more than that lean – the bottom was then
    # misplaced, not leaning. (Moving it by the lean alone would put an object lying on the
    # floor into the band, whose short columns' background takes part of it.)
    mid = float(np.median(high))
    if abs(r1 - mid) <= frame.parallax_px + 2.0:
        return r1, bottom
    # The row holding the higher edge is left out (the detector's blur spreads it a row up).
    top = int(np.floor(float(high.min()))) - 1
    # The container's outline, placed from the same roof, may end above the floor band too.
    under = int(np.ceil(float((frame.underside.at(cols) - shift).max())))
    outer = min(max(imaged.geometry.outer[3], under), scan.shape[0])
    new_bottom = min(outer, max(bottom, int(np.ceil(float(low.max()))) + 1))
    if top <= imaged.geometry.interior[1] + 4:
        return r1, bottom
    return top, new_bottom


def _end_lean(lam: NDArray[np.float32], post: int) -> float:
    """How far the end walls' inner edges move across the load space's rows (columns): the
    lean a tilt gives them that neither a column model nor the straightening (when the frame's
    tilt is short of the container's, as when the roof is clipped) removes. Read from the image:
    per row, the first column, going out towards each end, where the end structure's step is
    half climbed; the medians of the upper and lower halves of the rows say how far it moves
    (an object against an end wall shifts a few rows' edges, not a half's median)."""
    rows, cols = lam.shape
    reach = min(4 * post, cols // 4)
    half = rows // 2
    if reach < 4 or half < 4:
        return 0.0
    inner = np.median(lam[:, reach : cols - reach], axis=1)
    lean = 0.0
    for end in (lam[:, :reach][:, ::-1], lam[:, cols - reach :]):
        step = end - inner[:, None]
        level = 0.5 * float(np.median(step[:, -post:]))
        if level <= 0.0:
            continue
        # The first column from the inside where the step reaches half of the structure's.
        edge = np.argmax(step > level, axis=1).astype(np.float64)
        upper, lower = float(np.median(edge[:half])), float(np.median(edge[half:]))
        lean = max(lean, abs(lower - upper) * rows / max(1, rows - half))
    return lean


def _object_z(
    imaged: Imaged,
    region: NDArray[np.bool_],
    residual_high: NDArray[np.float32] | None,
    residual_low: NDArray[np.float32] | None,
    rows: slice,
) -> float | None:
    """Z_eff of the object's own attenuation: the structure-free residuals of both channels
    summed over the object, as if it were alone in the beam."""
    if residual_high is None or residual_low is None:
        return None
    d_high = float(residual_high[region].sum())
    d_low = float(residual_low[region].sum())
    n = int(region.sum())
    if n == 0 or d_high <= 0.0 or d_low <= 0.0:
        return None
    angle = float(np.mean(imaged.scan.row_angles_deg()[rows]))
    return float(imaged.decomposer.z_of(d_high / n, d_high / d_low, angle)[0])


def verify_empty(
    imaged: Imaged,
    *,
    threshold_kg: float = DEFAULT_THRESHOLD_KG,
    seed_sigma: float = 6.0,
    grow_sigma: float = 2.5,
) -> EmptyVerdict:
    """Look for objects in the load space of a container that should be empty."""
    geom = imaged.geometry
    c0, r0, c1, r1 = geom.interior
    trim_top, trim_bottom = geom.empty_trim
    if r1 - r0 - trim_top - trim_bottom < 4 or c1 - c0 < 4:
        # No load space to look in: the container cannot be declared empty on this image.
        return EmptyVerdict(
            empty=False,
            threshold_kg=threshold_kg,
            objects=(),
            inspected_fraction=0.0,
            max_object_kg=0.0,
            noise_kg=0.0,
            notes=("no load space found in the image to inspect",),
        )
    band = _floor_band(imaged, r1)
    r1, bottom = _walls_floor(imaged, r1, r1 + band)
    band = bottom - r1
    split = r1 - r0
    window = max(16, round(_SLOW_M * 1000 / imaged.scan.pitch_x_mm))
    lam = imaged.decomposition.areal_density[r0:bottom, c0:c1]
    # The floor band's cross-members: hidden below, and the only columns whose excess over
    # the floor's level the band's column term takes as structure.
    members = _band_structure(lam[split:], window) if lam.shape[0] > split else None
    flange = _FLANGE_M * 1000 / imaged.scan.pitch_x_mm
    webs = None if members is None else _webs(lam[split:], members)
    reach = int(np.ceil(_MEMBER_REACH_M * 1000 / imaged.scan.pitch_x_mm))
    residual = _structure_free(lam, split, window, members, window, flange, webs, reach)
    low = imaged.attenuation.low
    # The material reads the ratio of the channels' excesses over the whole object: a running
    # median as long as a wide repair patch would take a different share of each channel.
    res_high = _structure_free(
        imaged.attenuation.high[r0:bottom, c0:c1], split, None, members, window, flange
    )
    res_low = (
        None
        if low is None
        else _structure_free(low[r0:bottom, c0:c1], split, None, members, window, flange)
    )
    for cc0, cr0, cc1, cr1 in geom.corners:
        residual[max(cr0 - r0, 0) : max(cr1 - r0, 0), max(cc0 - c0, 0) : max(cc1 - c0, 0)] = 0.0
    post_px = int(np.ceil(_POST_M * 1000 / imaged.scan.pitch_x_mm))
    # A tilt the frame missed leaves the end walls leaning in the image: their steep edges
    # then cross the columns near each end, a residual no column model removes. Frame/1.2
    # still misses some (dev seed 9: 0.81° read 0.00°, 0.91° read 0.12°): without this, that
    # seed's honest empties weighed ghosts of 4.1 kg and 68/80 detections fell to 2/80.
    lean = _end_lean(lam[:split], post_px)
    if imaged.rectified and imaged.frame is not None:
        framed = abs(np.sin(np.radians(imaged.frame.tilt_deg))) * (r1 - r0)
        lean = max(lean, framed * imaged.scan.pitch_y_mm / imaged.scan.pitch_x_mm)
    if (imaged.rectified and imaged.frame is not None) or lean >= 1.0:
        # Straightened end walls: the corner posts' steep edges, moved sideways by a fraction of
        # a pixel that differs row by row, leave a residual no column model removes; so do end
        # walls left leaning. The posts hide what is behind them anyway: they are not
        # inspected.
        post = int(np.ceil(post_px + lean / 2)) + 3
        residual[:, :post] = 0.0
        residual[:, max(0, residual.shape[1] - post) :] = 0.0
    elif band > 0:
        # The floor band's ends: the end frames' sills and bottom corner castings run across
        # the whole width there, so the band shows them at every depth, a structure no column
        # model of the band removes (it is neither a cross-member's nor the floor's). They hide
        # what is behind them, as the posts above do.
        post = post_px + 3
        residual[split:, :post] = 0.0
        residual[split:, max(0, residual.shape[1] - post) :] = 0.0
    smooth, z, row_noise = _significance(residual)
    # Cross-members under the floor, seen edge-on in the floor's band (with a fan beam, or a
    # floor found too low): what is behind them is hidden, and where they cross the floor's
    # planks the structure is not separable. The band is where they show: rows at the bottom
    # that many separate narrow excesses cross, spaced along the whole length.
    crossed = _crossed_rows(z, seed_sigma, split)
    hidden = np.zeros((z.shape[0], z.shape[1]), dtype=bool)
    if members is not None:
        hidden[split:] = members[None, :]
    if crossed.any():
        # Columns significant in most crossed rows: a cross-member spans them, an object
        # lying on the floor only some.
        share = (z[crossed] > grow_sigma).mean(axis=0)
        spans = share > 0.5
        if members is not None:
            # In the floor band an object lying by the wall fills most of the rows too: it
            # is told from a cross-member by its width.
            spans &= ~_wide_runs(spans, flange)
        cols = ndimage.binary_dilation(spans, iterations=2)
        hidden[int(np.argmax(crossed)) :] |= cols[None, :]
    if hidden.any():
        residual[hidden] = 0.0
        smooth, z, row_noise = _significance(residual)
    # Rows where straightening blurred the floor's or roof's edge: no object starts or grows
    # there, but an object next to them is still weighed over them (it may lie on the floor).
    # With a fan beam the floor band below is inspected: the floor's blurred edge is then one
    # of the structures its own background removes.
    z[:trim_top] = 0.0
    if band == 0:
        z[split - trim_bottom : split] = 0.0
    seeds = z > seed_sigma
    grown = z > grow_sigma
    labels, _ = ndimage.label(grown)
    # A repair patch is one sheet, but its excess is cut into pieces where a wall's
    # corrugation, seen edge-on, is noisier (its significance dips between the flanks): the
    # plate's area is that of the pieces a few pixels (a flank's width) apart, together.
    plates, _ = ndimage.label(ndimage.binary_dilation(grown, iterations=_PLATE_GAP_PX))
    plate_px = np.bincount(plates[grown], minlength=int(plates.max(initial=0)) + 1)
    keep = np.unique(labels[seeds])
    keep = keep[keep > 0]
    area_px = imaged.pixel_area_cm2
    px_m2 = area_px / 1e4
    objects: list[DetectedObject] = []
    slices = ndimage.find_objects(labels)
    for lab in keep:
        sl = slices[lab - 1]
        if sl is None:
            continue
        h = sl[0].stop - sl[0].start
        w = sl[1].stop - sl[1].start
        # Weigh over the object plus a margin of half its size (at least 4 px): wide enough to
        # include a dent's surrounding deficit, narrow enough to keep the noise small.
        m = max(4, (max(h, w) + 1) // 2)
        ra, rb = max(0, sl[0].start - m), min(lam.shape[0], sl[0].stop + m)
        ca, cb = max(0, sl[1].start - m), min(lam.shape[1], sl[1].stop + m)
        region = labels[sl] == lab
        rows = slice(sl[0].start + r0, sl[0].stop + r0)
        z_eff = _object_z(
            imaged, region, res_high[sl], None if res_low is None else res_low[sl], rows
        )
        mass = float(residual[ra:rb, ca:cb].sum(dtype=np.float64) * area_px / 1000.0)
        cls = None if z_eff is None else list(MaterialClass)[int(class_of_z(z_eff))]
        peak = float(smooth[sl][labels[sl] == lab].max())
        area = float(region.sum() * px_m2)
        plate = plates[sl][region]
        sheet = float(plate_px[int(plate[0])] * px_m2) if plate.size else area
        kind = (
            "thin-plate"
            if cls is MaterialClass.METAL
            and peak < _THIN_PLATE_PEAK
            and max(area, sheet) > _THIN_PLATE_AREA_M2
            else "object"
        )
        objects.append(
            DetectedObject(
                bbox=(
                    int(sl[1].start + c0),
                    int(sl[0].start + r0),
                    int(sl[1].stop + c0),
                    int(sl[0].stop + r0),
                ),
                mass_kg=mass,
                peak_areal_density=peak,
                area_m2=area,
                z_eff=z_eff,
                material_class=cls,
                significance=float(z[sl][labels[sl] == lab].max()),
                kind=kind,
            )
        )
    objects.sort(key=lambda o: -o.mass_kg)
    alarming = [o for o in objects if o.kind == "object"]
    max_kg = max((o.mass_kg for o in alarming), default=0.0)
    spec = geom.spec
    inner = (spec.inner_length * spec.inner_height) if spec else geom.length_m * geom.height_m
    inspected = min(1.0, geom.interior_area_px * px_m2 / inner) if inner > 0 else 0.0
    # Noise of a typical weighing window (20 × 20 cm object plus margin).
    side = int(0.4 / (imaged.scan.pitch_x_mm / 1000))
    noise_kg = float(np.median(row_noise)) * side * side * area_px / 1000.0 / 1.2
    notes = tuple(
        f"thin metal plate of {o.area_m2:.2f} m² ignored (repair patch?)"
        for o in objects
        if o.kind == "thin-plate"
    )
    return EmptyVerdict(
        empty=max_kg < threshold_kg,
        threshold_kg=threshold_kg,
        objects=tuple(objects),
        inspected_fraction=inspected,
        max_object_kg=max_kg,
        noise_kg=noise_kg,
        notes=notes,
    )
