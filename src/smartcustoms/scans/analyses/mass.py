"""Imaged mass against declared mass.

The load's mass is the areal density integrated over the load space, less what the side walls
contribute there. The rest of the container – floor, roof, rails and end frames – lies along
the beam, is too dense to measure and is therefore not measured at all. The declared gross mass
is the goods' own, with their packaging and without the container (the WCO meaning: the
container's tare is equipment data, never part of a declaration's gross mass), so it is compared
with the imaged load directly and the tare never enters the comparison. A tare, when given (or
the type's typical one), only adds the container's gross for a weighbridge to check.

The side walls' areal density is measured where the load space is empty (above the load,
between packages); a load that fills everything falls back on the type's typical value.

With a fan beam the near and far walls' floor (and roof) edges land rows apart, and the load
space the geometry gives stops above the higher floor edge: a ray in the band between them
crosses the load space over part of the width and the floor over the rest. A load standing on
the floor lands in that band in part (on average half the band's rows' worth of it) and a low
one – castings, plates, a layer of tiles – nearly all of it. The band's load is added: measured
against the bare band (columns where nothing stands on the floor), or, where the load covers the
floor all along, carried into the band over the share of the width the ray crosses inside.

The floor band's rows are placed from the container's underside when the image shows it (the
lowest attenuating rows, air below): the floor's top lies the type's floor height above it,
so the edges are read 0.16 m away instead of through the container's whole height from the
roof, where a few rows' error in the roof edge or a percent in the beam's magnification moves
them 5–10 rows (the rows beside the band then hold the far wall's floor edge and read as load,
and the band is weighed over rows where the floor already hides the load). The share of the
width a band row's ray crosses above the floor follows from the source's geometry (see
``_above_floor``), not a straight taper over the rows.

Where the roof is clipped at the image's top or misread (a source close to the container and
high, tilt), the floor's edges placed from it are rows off. So the band is checked against the
image: rows just above it that read loaded in every column (while the rows above them do not)
are the far wall's floor edge and go into the band, and the band is carried down for as long as
the loaded columns still stand above the bare ones – the load's foot, seen through the near
side of the width (see ``_tail``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.analyses.composition import Composition, areal_density_as
from smartcustoms.scans.analyses.imaging import Imaged

__all__ = ["MASS_ANALYSIS_VERSION", "MassEstimate", "estimate_mass"]

# 1.1: goods' gross directly; 1.2: cross-talk; 1.3: dark area; 1.4: fan beam's parallax bands;
# 1.5: the floor band placed from the underside, the share above the floor from the source;
# 1.6: the floor band carried down while the load shows there, its start raised over the far
# wall's floor edge (a roof clipped or misread places the band rows off); bare columns from 1 %;
# 1.7: goods of a known composition weighed along its curve from the high-energy attenuation
MASS_ANALYSIS_VERSION = "mass/1.7"
_DEFAULT_WALL = 2.9  # g/cm², both walls of a dry container
_RELATIVE_SIGMA = 0.025  # method spread on the simulated set (bench/scans_mass.py)
_FLOOR_KG = 40.0  # residual floor/roof edges and wall-level error, per scan
_IMPENETRABLE_MARGIN = 0.7  # α within this of the scan's ceiling carries no mass information
_NEAR_OPAQUE = 7.5  # α above which blur and scatter already bias the areal density low
_POST_M = 0.085  # corner posts reach this far into the load space's length
_POST_MAX = 14.0  # g/cm²: both posts of one end seen together, with margin
# Blur, scatter and the detector array's cross-talk spread a share of the signal of brighter
# surroundings into dark pixels: linac arrays show 0.1–3 % (the training simulator 0.15 % unless
# asked for more). A pixel reading under 3 × 1 % of the mean transmission at its height across
# the load is then a third or more borrowed signal: it is unreadable, and what it reads – its
# areal density – says nothing of how much it hides. So the criterion is the share of the
# loaded AREA that dark, never the share of the imaged mass those pixels hold (under leakage
# their mass is exactly what is lost, so a mass share shrinks as the bias grows).
_CROSSTALK_SHARE = 0.01
_CROSSTALK_MARGIN = 3.0
_LOWER_BOUND_SHARE = 0.002  # of the load space near-opaque
# The mass check promises ±5 %. 3 % of the row's mean is also the top of that cross-talk
# range: behind a 3 % array a dark pixel's whole reading may be borrowed, so its true
# attenuation lies anywhere from what it reads up to the scan's ceiling – it may hide
# (ceiling − α) of attenuation, several times the load's mean ᾱ. At linac energies the mass
# attenuation coefficient hardly depends on Z (Compton), so hidden attenuation over the load's
# total attenuation is hidden mass over imaged mass: with s the dark share of the loaded area
# and k = mean(ceiling − α over the dark pixels) / ᾱ, the image may be s·k light. The estimate
# is a lower bound once s·k ≥ 5 %, i.e. once s ≥ 0.05 / k (ceiling 11.4, dark pixels near
# α 5, ᾱ 1.3–2.7 for most loads: k ≈ 2.5–5, a cut of 1–2 % of the loaded area).
_MASS_TOLERANCE = 0.05
_LOADED_WALLS = 2.2  # a pixel above this many times the wall's areal density holds load
# Fan-beam parallax bands (see ``_fan_bands``): the load space's rows read beside a band, the
# columns that must show the bare band for its container-only level to be measured, and how
# far the blurred edges of roof and floor reach.
_BESIDE_ROWS = 6
_MIN_CLEAR_COLS = 8
# A percent of the columns: the gaps between stacks of cartons along a load that fills the
# length are bare columns too (a mean over 10–25 of them is steady), and the band's
# extrapolation they replace misses the load's foot wherever the band is placed rows off.
_MIN_CLEAR_SHARE = 0.01
# A column shows the bare floor band only where nothing stands on the floor: its lowest half
# metre of load space is clear. A few rows just above the floor are not enough – a pallet's fork
# openings (about 0.1 m high, most of its length) and the gaps under round rolls let the beam
# through there, and goods stand above them; such columns would carry load into the reference.
_BARE_M = 0.5
# The floor band's tail (``_tail``): loaded columns this many walls' areal density above the
# bare ones, within this many rows of each other, still hold the load's foot.
_TAIL_WALLS = 0.05
_TAIL_ROWS = 3
# The floor band's start is raised over at most this many rows where this percentile of the
# columns is loaded (every column: the far wall's floor edge, not goods).
_EDGE_RISE = 8
_EDGE_PCT = 5
_EDGE_PX = 2
_TOP_RAIL_M = 0.06  # as geometry: the top side rails reach this far below the roof's outside
# The underside: the first rows below the load space that attenuate (above the noise of air,
# as the frame's threshold) with air below for a few rows (no chassis, rails or wheels
# continuing them), no further down than the type's tolerance below where the roof and the
# beam's geometry put it (ISO heights are known to a few centimetres, so a chassis further
# down is never taken for it; a roof clipped at the image's top only puts it lower).
_SEES_SOMETHING = 0.04
_AIR_ROWS = 3
_UNDERSIDE_TOL_M = 0.1


@dataclass(frozen=True)
class MassEstimate:
    """The mass check's figures (kg) and verdict."""

    imaged_net_kg: float
    wall_areal_density: float
    wall_source: str  # "measured" or "typical"
    impenetrable_fraction: float  # of the load space
    lower_bound: bool  # True when dense regions hide mass: the true mass is larger
    tare_kg: float | None
    tare_source: str | None  # "given" or "typical"
    imaged_gross_kg: float | None
    declared_gross_kg: float | None
    declared_net_kg: float | None  # what is compared: the goods' declared gross mass
    difference_kg: float | None  # imaged load − declared goods
    difference_pct: float | None
    sigma_kg: float
    z_score: float | None
    consistent: bool | None  # None when there is nothing to compare with
    # Share of the loaded area in pixels dark enough that borrowed signal may dominate them,
    # and the share of the imaged mass that a 3 % array's cross-talk may hide there (s·k).
    dark_area_fraction: float = 0.0
    hideable_fraction: float = 0.0
    # The declared goods' composition the areal density was read as (None: the decomposition's).
    composition: str | None = None
    version: str = MASS_ANALYSIS_VERSION


def _dark_area(imaged: Imaged, loaded: NDArray[np.bool_]) -> tuple[float, float]:
    """The dark share ``s`` of the loaded area and the share ``s·k`` of the imaged mass that
    borrowed signal may hide there (see ``_MASS_TOLERANCE``).

    Dark: transmission under ``_CROSSTALK_MARGIN × _CROSSTALK_SHARE`` of the mean at the same
    height across the load – relative to the same scan, so independent of the scanner's air
    level and calibration. Only transmissions enter, never the areal density read in the dark
    pixels (which leakage has already lowered). (A load of organic goods dark everywhere – sacks
    of sugar – has no brighter surroundings at its height to borrow from, and stays clear.)"""
    c0, r0, c1, r1 = imaged.geometry.interior
    n_loaded = int(loaded.sum())
    if c1 <= c0 or r1 <= r0 or n_loaded == 0:
        return 0.0, 0.0
    ceiling = float(imaged.attenuation.max_alpha)
    alpha = np.clip(imaged.attenuation.high[r0:r1, c0:c1].astype(np.float64), 0.0, ceiling)
    transmission = np.exp(-alpha)
    around = transmission.mean(axis=1, keepdims=True)
    dark = loaded & (transmission < _CROSSTALK_MARGIN * _CROSSTALK_SHARE * around)
    n_dark = int(dark.sum())
    if n_dark == 0:
        return 0.0, 0.0
    # All of a dark pixel's reading may be borrowed: it may hide up to the ceiling.
    hideable = ceiling - alpha[dark]
    mean_alpha = float(alpha[loaded].mean())
    if mean_alpha <= 0:
        return n_dark / n_loaded, 0.0
    return n_dark / n_loaded, float(hideable.sum()) / (n_loaded * mean_alpha)


@dataclass(frozen=True)
class _FanBands:
    """A fan beam's parallax bands (analysis frame rows, end-exclusive) and, per floor band row,
    the share of the width its ray crosses above the floor (1 above the higher floor edge, 0
    below the lower one)."""

    roof: tuple[int, int]
    floor: tuple[int, int]
    above_floor: NDArray[np.float64]


def _underside(imaged: Imaged, predicted: float, tol: float) -> float | None:
    """The container's underside (a row boundary): the first row below the load space whose
    median over the load space's columns attenuates, with air below it, no further down than
    ``tol`` below ``predicted`` (where the roof puts it: a roof clipped at the image's top
    puts it too low, never too high). None where nothing like it is there (a chassis
    continues below, the image ends)."""
    c0, _, c1, r1 = imaged.geometry.interior
    alpha = imaged.attenuation.high
    rows = alpha.shape[0]
    if c1 - c0 < 10:
        return None
    prof = np.median(alpha[:, c0:c1], axis=1)
    seen = prof > _SEES_SOMETHING
    lo, hi = (
        max(1, r1),
        min(rows - _AIR_ROWS, int(np.ceil(predicted + tol))),
    )
    for r in range(lo, hi):
        if seen[r] and not seen[r + 1 : r + 1 + _AIR_ROWS].any():
            return r + 0.5  # between the last attenuating row's centre and air's
    return None


def _above_floor(
    rows: NDArray[np.float64], src: float, h_floor: float, d: float, w: float, py: float
) -> NDArray[np.float64]:
    """Share of the inner width ``w`` that the ray of each image row crosses above the floor's
    top (``h_floor`` m above the source; rows indexed at their centres). The ray of the row at
    ``y = (src − row)·py`` (at the object plane, distance ``d``) is at height ``y·(d + x)/d`` at
    depth ``x`` (+ away from the source): above the floor for ``x`` on one side of
    ``x* = d·(h_floor/y − 1)``, away from the source when it is above the floor (a floor
    below the source falls away from it), towards it otherwise."""
    y = (src - rows) * py
    with np.errstate(divide="ignore", invalid="ignore"):
        x = d * (h_floor / y - 1.0)
    # Below the source the ray is above the floor on the source's side of x*, else beyond it.
    share = (x + w / 2) / w if h_floor < 0 else (w / 2 - x) / w
    share = np.where(np.sign(y) == np.sign(h_floor), share, 1.0 if h_floor < 0 else 0.0)
    return np.asarray(np.clip(np.nan_to_num(share, nan=0.0), 0.0, 1.0), dtype=np.float64)


def _fan_bands(imaged: Imaged) -> _FanBands | None:
    """With a fan beam, the rows (analysis frame) of the roof's and the floor's parallax bands
    just outside the load space that the geometry keeps to (``interior``): there the near
    wall's and the far wall's edges part, so a ray crosses the load space over part of the
    width and the floor (or roof) over the rest. A load standing on the floor lands there in
    part – all of it when it is low (castings, plates, a layer of tiles): with the source
    a metre or more above the floor the band is a tenth or more of a metre deep. None without
    a fan beam or a frame (parallel rays: no band).

    The floor band starts at the higher of the floor's two top edges (or the load space's end
    if that is higher) and ends below the lower one; the edges are placed from the underside
    when it is seen, else (and the roof band always) from the roof's edge."""
    beam, frame, spec = imaged.scan.beam, imaged.frame, imaged.geometry.spec
    if (
        frame is None
        or not beam.fan
        or beam.source_row is None
        or not beam.source_distance_mm
        or spec is None
    ):
        return None
    py = imaged.scan.pitch_y_mm / 1000.0
    d = beam.source_distance_mm / 1000.0
    w = spec.width / 2.0
    src, near, far = beam.source_row, d / (d - w), d / (d + w)
    # The same reading of the beam's geometry as the geometry's (geometry.locate_container).
    top_h = (src - int(np.floor(frame.roof.at(frame.roof.c_mid)))) * py
    top_h /= near if top_h > 0 else far
    # The load and the floor's top span the inner width, not the outer one.
    near_in, far_in = d / (d - spec.inner_width / 2.0), d / (d + spec.inner_width / 2.0)
    h_in = top_h - max(spec.height - spec.floor_height - spec.inner_height, _TOP_RAIL_M)
    h_floor = top_h - (spec.height - spec.floor_height)
    # The underside where the roof puts it (the lower of the two walls' edges, as the geometry).
    h_under = h_floor - spec.floor_height
    predicted = max(src - h_under * m / py for m in (near, far))
    under = _underside(imaged, predicted, _UNDERSIDE_TOL_M / py + _EDGE_PX)
    if under is not None:
        # The lowest edge seen is the near wall's below the source, the far wall's above it.
        h_under = (src - under) * py
        h_under /= near if h_under < 0 else far
        h_floor = h_under + spec.floor_height
    roof = sorted(src - h_in * m / py for m in (near_in, far_in))
    floor = sorted(src - h_floor * m / py for m in (near_in, far_in))
    _, r0, _, r1 = imaged.geometry.interior
    rows = imaged.attenuation.high.shape[0]
    # Both bands widened by the edges' blur; the rows beyond them hold no load.
    roof_band = (max(0, int(np.floor(roof[0])) - _EDGE_PX), r0)
    # The floor band from the row holding the higher floor edge (or the load space's end, if
    # higher); never into the load space's top half.
    b0 = max(min(r1, int(np.floor(floor[0]))), (r0 + r1) // 2)
    b1 = max(b0, min(rows, int(np.ceil(floor[1])) + _EDGE_PX))
    share = _above_floor(np.arange(b0, b1, dtype=np.float64), src, h_floor, d, spec.inner_width, py)
    return _FanBands(roof_band, (b0, b1), share)


def _clear_columns(
    lam: NDArray[np.float64], bare: tuple[int, int], loaded: float
) -> NDArray[np.bool_] | None:
    """The columns that show the bare band (nothing loaded over the rows ``bare``), or None
    where too few do to serve as a reference."""
    clear = np.all(lam[bare[0] : bare[1]] < loaded, axis=0)
    return clear if clear.sum() >= max(_MIN_CLEAR_COLS, _MIN_CLEAR_SHARE * clear.size) else None


def _tail(
    lam: NDArray[np.float64],
    band: tuple[int, int],
    bare: tuple[int, int],
    loaded: float,
    wall: float,
) -> int:
    """The floor band's end, carried down past the geometry's while the load still shows there.

    The band's end follows from where the roof puts the floor; with the roof clipped at the
    image's top or misread, the lower floor edge is placed rows too high and the load's foot –
    seen below it through the near side of the width – is not weighed (garments on a fan beam
    with the source 7 m away and 1.7 m up: 10 % of the load). Where columns show the bare band,
    the rows below are weighed against them for as long as the loaded columns stand clearly
    above them (a mean over those columns, ``_TAIL_WALLS`` of the wall's areal density, over
    ``_TAIL_ROWS`` rows); the first ``_TAIL_ROWS`` rows that do not end it, so a chassis or
    wheels further down, past the floor and the air under it (the same in every column), never
    join it. Without bare columns the band keeps its end."""
    b0, b1 = band
    rows = lam.shape[0]
    clear = _clear_columns(lam, bare, loaded)
    if b1 <= b0 or clear is None or clear.all():
        return b1
    excess = lam[b1:, ~clear].mean(axis=1) - lam[b1:, clear].mean(axis=1)
    above = excess > _TAIL_WALLS * wall
    end = b1
    while end < rows and above[end - b1 : end - b1 + _TAIL_ROWS].any():
        end += 1
    # Past the last row that still stood clear of the reference, nothing is carried.
    while end > b1 and not above[end - 1 - b1]:
        end -= 1
    return end


def _band_excess(
    lam: NDArray[np.float64],
    band: tuple[int, int],
    beside: tuple[int, int],
    loaded: float,
    wall: float,
    above_floor: NDArray[np.float64] | None,
    bare: tuple[int, int] | None = None,
) -> float:
    """The load's areal density summed over a parallax band (g/cm² × pixels).

    ``lam``: the load space's columns over all rows; ``beside``: the load space's rows next to
    the band; ``above_floor``: for the floor band, the share of the width each band row's ray
    crosses above the floor (None for the roof band); ``bare``: the rows that must hold no load
    for a column to show the bare band (``beside`` when not given).
    What the container alone puts in each band row is read in the columns where those rows
    hold no load (a mean: the cross members are part of it); the load is the
    rest. Where the load covers the floor (or reaches the roof) all along, no column shows the
    bare band: the load is then taken to continue into it, over the share of the width that
    the ray crosses inside the load space – from all of it above the higher floor edge to none
    below the lower one."""
    b0, b1 = band
    if b1 <= b0:
        return 0.0
    edge = lam[beside[0] : beside[1]]
    b = beside if bare is None else bare
    clear = _clear_columns(lam, b, loaded)
    rows = lam[b0:b1]
    if clear is not None:
        reference = rows[:, clear].mean(axis=1, keepdims=True)
        # No band holds less than nothing: a negative sum is the reference's own error (a few
        # bare columns where cross-members line up), not load.
        return max(0.0, float((rows[:, ~clear] - reference).sum()))
    if above_floor is None:
        # Under the roof the rows beside the band hold the roof's corrugation and top rails,
        # which read as load there: nothing is carried into the roof band unmeasured.
        return 0.0
    # Extrapolation: the load's excess beside the band, over the share of the width each band
    # row's ray crosses above the floor.
    beside_load = np.clip(np.median(edge, axis=0) - wall, 0.0, None)
    return float(above_floor.sum() * beside_load.sum())


def _areal_density(
    imaged: Imaged, composition: Composition | None, c0: int, c1: int
) -> NDArray[np.float32]:
    """The areal density over the load space's columns (all rows): the decomposition's, or
    – goods of a known composition – that composition's giving the high-energy attenuation.
    The walls are read along the same curve, so that the walls measured where the load space
    is empty are what the walls add inside a loaded ray."""
    if composition is None:
        return imaged.decomposition.areal_density[:, c0:c1]
    return areal_density_as(
        imaged.attenuation.high[:, c0:c1],
        imaged.scan.row_angles_deg(),
        composition.material,
        imaged.decomposer.calibration,
        imaged.decomposer.spectra,
    )


def estimate_mass(
    imaged: Imaged,
    *,
    declared_gross_kg: float | None = None,
    tare_kg: float | None = None,
    z_alarm: float = 3.0,
    composition: Composition | None = None,
) -> MassEstimate:
    """Imaged load mass and its comparison with ``declared_gross_kg``, the goods' gross mass
    (packaging included, container excluded). ``composition``: what the declared goods are
    made of, where known (:func:`.composition.composition_of`)."""
    geom = imaged.geometry
    c0, r0, c1, r1 = geom.interior
    columns = _areal_density(imaged, composition, c0, c1)
    alpha = imaged.attenuation.high[r0:r1, c0:c1]
    spec = geom.spec
    beam = imaged.scan.beam
    if beam.fan and beam.source_distance_mm:
        # Rays from a point source cross the load obliquely (1/cos φ longer than it is wide)
        # and spread what lies near the source over more rows (on average over the width,
        # by (D/W)·ln((D + W/2)/(D − W/2))): undo both so the sum is the load's mass.
        d = beam.source_distance_mm / 1000.0
        w = spec.inner_width if spec else 2.35
        spread = d / w * float(np.log((d + w / 2) / (d - w / 2)))
        cos = np.cos(np.radians(imaged.scan.row_angles_deg()))
        columns = (columns * (cos / spread)[:, None]).astype(np.float32)
    lam = columns[r0:r1]
    typical_wall = spec.wall_areal_density if spec else _DEFAULT_WALL
    # Pixels seeing only the walls: low areal density, clearly above air.
    empty = (lam < 2.2 * typical_wall) & (lam > 0.3 * typical_wall)
    if empty.mean() > 0.02:
        # A mean, not a median: corrugation flanks make the walls' distribution skewed.
        lo, hi = np.percentile(lam[empty], [2, 98])
        wall = float(np.mean(lam[empty][(lam[empty] >= lo) & (lam[empty] <= hi)]))
        wall_source = "measured"
    else:
        wall, wall_source = typical_wall, "typical"
    excess = lam.astype(np.float64) - wall
    # Corner posts stand inside the load space's length at both ends. Where the rows are not all
    # loaded, the lowest excess of a post column is the post; never take more than a post holds.
    post_cols = round(_POST_M * 1000 / imaged.scan.pitch_x_mm)
    for cols in (slice(0, post_cols), slice(excess.shape[1] - post_cols, excess.shape[1])):
        post = np.clip(np.percentile(excess[:, cols], 10, axis=0), 0.0, _POST_MAX)
        excess[:, cols] -= post[None, :]
    area = imaged.pixel_area_cm2
    bands = _fan_bands(imaged)
    if bands is not None and excess.shape[1] > 2 * post_cols:
        inner = columns[:, post_cols : excess.shape[1] - post_cols].astype(np.float64)
        loaded = _LOADED_WALLS * wall
        # The load space's rows from the floor band's first row down are weighed in the band:
        # there the far wall's floor edge is already in the ray.
        b0, share = bands.floor[0], bands.above_floor
        # Rows just above the band where no column reads clear hold the far wall's floor edge
        # (the band placed a few rows low): they are weighed in the band, not as load.
        rise = 0
        while (
            rise < _EDGE_RISE
            and b0 - rise - 1 > (r0 + r1) // 2
            and np.percentile(inner[b0 - rise - 1], _EDGE_PCT) >= loaded
        ):
            rise += 1
        bare_rows = round(_BARE_M * 1000 / imaged.scan.pitch_y_mm)

        def bare_of(start: int) -> tuple[int, int]:
            near = min(_EDGE_PX, min(_EDGE_PX + _BESIDE_ROWS, (start - r0) // 2) - 1)
            return max(r0, start - near - bare_rows), start - near

        # Only an edge if above it the empty part of the floor shows (enough bare columns): a
        # layer of goods along the whole length with a gap above it is not one.
        if rise == _EDGE_RISE or _clear_columns(inner, bare_of(b0 - rise), loaded) is None:
            rise = 0
        b0, share = b0 - rise, np.concatenate([np.ones(rise), share])
        summed = float(excess[: b0 - r0].sum())
        # The rows beside a band, clear of the blur of the floor's (roof's) edge.
        far = min(_EDGE_PX + _BESIDE_ROWS, (b0 - r0) // 2)
        near_ = min(_EDGE_PX, far - 1)
        bare = bare_of(b0)
        band = (b0, bands.floor[1])
        end = _tail(inner, band, bare, loaded, wall)
        if end > band[1]:
            band, share = (band[0], end), np.concatenate([share, np.zeros(end - band[1])])
        summed += _band_excess(inner, band, (b0 - far, b0 - near_), loaded, wall, share, bare)
        far = min(_EDGE_PX + _BESIDE_ROWS, (r1 - r0) // 2)
        near_ = min(_EDGE_PX, far - 1)
        summed += _band_excess(inner, bands.roof, (r0 + near_, r0 + far), loaded, wall, None)
    else:
        summed = float(excess.sum())
    net = summed * area / 1000.0
    ceiling = imaged.attenuation.max_alpha - _IMPENETRABLE_MARGIN
    impenetrable = float((alpha >= ceiling).mean()) if lam.size else 0.0
    # Sub-pixel dense features (plates edge-on, castings) lose mass to blur and scatter before
    # they reach the ceiling: a share of near-opaque pixels marks the estimate as a lower bound.
    near_opaque = float((alpha >= _NEAR_OPAQUE).mean()) if lam.size else 0.0
    dark_share, hideable = _dark_area(imaged, lam >= _LOADED_WALLS * wall)
    lower_bound = (
        impenetrable > _LOWER_BOUND_SHARE
        or near_opaque > _LOWER_BOUND_SHARE
        or hideable >= _MASS_TOLERANCE
    )

    if tare_kg is not None:
        tare, tare_source = float(tare_kg), "given"
    elif spec is not None:
        tare, tare_source = spec.tare_kg, "typical"
    else:
        tare, tare_source = None, None
    sigma = float(np.hypot(_RELATIVE_SIGMA * max(net, 0.0), _FLOOR_KG))
    gross = None if tare is None else net + tare
    declared_net = diff = pct = z = None
    consistent = None
    if declared_gross_kg is not None:
        declared_net = float(declared_gross_kg)
        diff = net - declared_net
        pct = 100.0 * diff / declared_net if declared_net > 0 else None
        z = diff / sigma
        # Dense regions hide mass: "heavier than declared" stays meaningful, "lighter" does not.
        consistent = not (z > z_alarm or (z < -z_alarm and not lower_bound))
    return MassEstimate(
        imaged_net_kg=net,
        wall_areal_density=wall,
        wall_source=wall_source,
        impenetrable_fraction=impenetrable,
        lower_bound=lower_bound,
        dark_area_fraction=dark_share,
        hideable_fraction=hideable,
        composition=None if composition is None else composition.name,
        tare_kg=tare,
        tare_source=tare_source,
        imaged_gross_kg=gross,
        declared_gross_kg=declared_gross_kg,
        declared_net_kg=declared_net,
        difference_kg=diff,
        difference_pct=pct,
        sigma_kg=sigma,
        z_score=z,
        consistent=consistent,
    )
