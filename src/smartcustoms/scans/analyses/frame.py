"""The container's frame in the image: roof and floor lines, ends, tilt, sag, and a confidence.

Real containers are seldom level in a scanner (a trailer on a slope, a chassis that sags), stand
on a chassis whose rails and wheels are denser than anything in the load, and are seen by a fan
beam, so the near and far walls' roof and floor edges land at different heights. An analysis
that assumes a level box reads a floor edge crossing its bottom rows as a heavy metal object.

So the frame is found per scan:

* the **ends** are the columns where most rows attenuate (as before);
* the **roof** is the top edge of the dense rows in each block of columns, fitted robustly
  (Theil–Sen slope, then a bow by least squares on the inliers): its slope is the tilt;
* the **floor** is the strongest rise of attenuation going down, searched in each block of
  columns within a window below the roof where the type's floor must be (so the chassis, rails
  and wheels further down are never taken for it), fitted the same way: its bow is the sag.
* with a fan beam, when the roof is clipped at the image's top row (or the edges disagree along
  the length), the roof edge found may be a beam or the load's top: the **underside** (the
  lowest attenuating rows, air below) and the type's floor height then say where the floor's
  near and far edges lie, and which reading to keep – or anchor the frame on their own. The
  tilt is then read from the floor edge kept (magnified as its wall's edge is: the underside
  says which wall's it is), since a clipped roof can read nearly level on a box tilted 1°; a
  floor placed from the underside leans as the underside does, trusted only when the
  underside lies whole inside the image.
* with a fan beam and air in the image's top row, the roof edge found is the near wall's
  (above the source it is the outermost edge): the far wall's reading may keep its floor,
  never move the roof above the image (a source close and high put it 20–80 rows up, and the
  tilt read from it too steep).

The image is then **rectified**: each column shifted up or down so that the floor line is
level, each row sideways by the tilt's rotation (linear interpolation, which keeps every
column's and row's sum, and so mass). Every analysis downstream works in that frame. With a
fan beam the load space starts below the far wall's roof and ends above the higher of the two
floor edges, from the beam's geometry and the type's width.

The **confidence** combines the share of column blocks whose edges agree with the fitted lines,
their scatter, the agreement of the roof's and floor's slopes (one rigid box) and of the
roof-to-floor height with the type's; under 0.5, or a tilt beyond 2°, the frame is "unsure".
With a fan beam, when the underside agrees with the floor kept (the type's floor height above
it puts one wall's floor edge there), the frame rests on the underside and the floor, and the
underside's agreement along the length counts in place of a clipped or ragged roof edge's; the
underside is kept in the frame (``underside``), from which :meth:`ContainerFrame.floor_edges`
gives both walls' floor edges.

Dead detector rows (dark the whole scan long, beyond the container's ends too) are bridged
before any edge is read: one just below the floor is the strongest rise going down.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from smartcustoms.scans.container_types import ContainerSpec
from smartcustoms.scans.messages import english
from smartcustoms.scans.model import BeamGeometry

__all__ = ["MAX_TILT_DEG", "ContainerFrame", "EdgeLine", "find_frame", "rectify", "rectify_int"]

_DENSE = 0.5  # α of the roof's and floor structure's rows
_BLOCK = 8  # columns per block when reading edges
_UNSURE_BELOW = 0.5
#: Beyond this a tilt read is not believed (the frame is unsure) nor used to straighten the scan.
MAX_TILT_DEG = 2.0
_SEES_SOMETHING = 0.04  # α above the noise of air: a row that crosses the container's steel
_UNDERSIDE_AGREES = 0.6  # share of column blocks whose underside must agree to anchor on it


@dataclass(frozen=True)
class EdgeLine:
    """``row(c) = a + b·(c − c_mid) + k·(1 − u²)``, u = (c − c_mid)/half: a line and a bow."""

    a: float
    b: float
    k: float
    c_mid: float
    half: float
    inliers: float  # share of column blocks within 2 px of the fit
    scatter_px: float  # robust spread of those blocks' edges about the fit

    def at(self, cols: NDArray[np.floating] | float) -> NDArray[np.float64]:
        c = np.asarray(cols, dtype=np.float64)
        u = np.clip((c - self.c_mid) / self.half, -1.0, 1.0)
        return np.asarray(self.a + self.b * (c - self.c_mid) + self.k * (1.0 - u * u))


@dataclass(frozen=True)
class ContainerFrame:
    """Where the container is in the image (image rows and columns) and how sure that is."""

    cols: tuple[int, int]  # ends: [c0, c1)
    roof: EdgeLine  # the roof's outer (top) edge (the near wall's, with a fan beam)
    floor: EdgeLine  # the floor's top edge (the strongest rise going down)
    tilt_deg: float  # + when the right-hand end is higher
    sag_mm: float  # + when the floor bows down at mid-length
    confidence: float
    unsure: bool
    reasons: tuple[str, ...]
    fan: bool  # roof and floor smeared by a fan beam's parallax
    slope: float = 0.0  # rows per column of the container's centre plane (the tilt)
    parallax_px: float = 0.0  # how far the near and far walls' edges part over the length
    # ``reasons`` as messages (code + params, scans.messages), shown in the reader's language.
    reason_messages: tuple[dict[str, Any], ...] = ()
    # With a fan beam: the container's underside (image rows) when it was found and agrees
    # with the floor kept, and whether the roof was clipped at the image's top row (the roof
    # edge found is then no roof edge, and the underside is the frame's anchor).
    underside: EdgeLine | None = None
    roof_clipped: bool = False
    # A tilt beyond belief on which the roof and floor edges disagree (set by the frame finder
    # where it says so): one of them is no edge of the container (a rail, a load's top), and
    # straightening by it would turn the floor into an object across the load space (200 kg on
    # an empty container). A steep tilt both edges agree on is the container's and is
    # straightened.
    misread: bool = False

    def shift_rows(self, cols: int) -> NDArray[np.float64]:
        """Per column, how far the container's centre plane sits below where it sits at
        mid-length (rows): the tilt's slope and the floor's bow."""
        c = np.arange(cols, dtype=np.float64)
        u = np.clip((c - self.floor.c_mid) / self.floor.half, -1.0, 1.0)
        return np.asarray(
            self.slope * (c - self.floor.c_mid) + self.floor.k * (1.0 - u * u) - self.floor.k
        )

    def floor_edges(
        self,
        cols: NDArray[np.floating],
        beam: BeamGeometry,
        spec: ContainerSpec | None,
        pitch_y_mm: float,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """With a fan beam and the underside found, the floor's top edge of the near and of
        the far wall at each of ``cols`` (image rows, before rectifying): the type's floor
        height above the underside, each wall's height magnified about the source row by its
        own distance from the source. Each wall's edge leans by its own magnification of the
        tilt, so no single shift per column straightens both. None otherwise."""
        if (
            self.underside is None
            or not beam.fan
            or beam.source_row is None
            or not beam.source_distance_mm
        ):
            return None
        d = beam.source_distance_mm / 1000.0
        w = (spec.width if spec else 2.438) / 2.0
        near, far = d / (d - w), d / (d + w)
        py = pitch_y_mm / 1000.0
        src = float(beam.source_row)
        floor_m = spec.floor_height if spec else 0.16
        h_u = (src - self.underside.at(cols)) * py
        # The lowest edge seen is the near wall's below the source, the far wall's above it.
        h_u = np.where(h_u < 0, h_u / near, h_u / far)
        h_f = h_u + floor_m
        return (
            np.asarray(src - h_f * near / py, dtype=np.float64),
            np.asarray(src - h_f * far / py, dtype=np.float64),
        )

    def as_dict(self, width: int) -> dict[str, object]:
        """For the report: the fitted lines sampled along the container, in image pixels."""
        c0, c1 = self.cols
        xs = np.linspace(c0, max(c0, c1 - 1), 9)
        return {
            "tilt_deg": round(self.tilt_deg, 3),
            "sag_mm": round(self.sag_mm, 1),
            "confidence": round(self.confidence, 3),
            "unsure": bool(self.unsure),
            "reasons": list(self.reasons),
            "fan_beam": bool(self.fan),
            "ends_px": [c0, c1],
            "roof_px": [
                [round(float(x), 1), round(float(y), 1)]
                for x, y in zip(xs, self.roof.at(xs), strict=True)
            ],
            "floor_px": [
                [round(float(x), 1), round(float(y), 1)]
                for x, y in zip(xs, self.floor.at(xs), strict=True)
            ],
        }


def _theil_sen(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
    """Median of pairwise slopes, then the median intercept: robust to a third of outliers."""
    n = x.size
    i, j = np.triu_indices(n, 1)
    dx = x[j] - x[i]
    ok = dx != 0
    slope = float(np.median((y[j] - y[i])[ok] / dx[ok])) if ok.any() else 0.0
    return slope, float(np.median(y - slope * x))


def _fit(x: NDArray[np.float64], y: NDArray[np.float64], c_mid: float, half: float) -> EdgeLine:
    """A robust line, then a bow fitted on the points that agree with it."""
    xc = x - c_mid
    b, a = _theil_sen(xc, y)
    res = y - (a + b * xc)
    mad = 1.4826 * float(np.median(np.abs(res - np.median(res)))) if res.size else 0.0
    keep = np.abs(res) <= max(2.0, 3.0 * mad)
    k = 0.0
    if keep.sum() >= 6:
        u = np.clip(xc[keep] / half, -1.0, 1.0)
        design = np.stack([np.ones(u.size), xc[keep], 1.0 - u * u], axis=1)
        coef, *_ = np.linalg.lstsq(design, y[keep], rcond=None)
        a, b, k = (float(v) for v in coef)
        if abs(k) < 1.0:  # a bow under a pixel is the edges' quantisation, not a sag
            b, a = _theil_sen(xc[keep], y[keep])
            k = 0.0
    line = EdgeLine(a, b, k, c_mid, half, 0.0, 0.0)
    res = y - line.at(x)
    inl = np.abs(res) <= 2.0
    scatter = 1.4826 * float(np.median(np.abs(res[inl]))) if inl.any() else np.inf
    return EdgeLine(a, b, k, c_mid, half, float(inl.mean()) if res.size else 0.0, scatter)


def _blocks(
    alpha: NDArray[np.float32], c0: int, c1: int
) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """Median α profile of each block of columns between the ends (end frames left out)."""
    margin = max(_BLOCK, (c1 - c0) // 40)
    starts = np.arange(c0 + margin, c1 - margin - _BLOCK + 1, _BLOCK)
    centres = starts + (_BLOCK - 1) / 2.0
    profiles = np.stack([np.median(alpha[:, s : s + _BLOCK], axis=1) for s in starts], axis=1)
    return centres.astype(np.float64), profiles.astype(np.float32)


def _beyond_ends(alpha: NDArray[np.float32], c0: int, c1: int) -> NDArray[np.float32] | None:
    """Per row, the median α of the columns beyond both ends of the container (air, unless a
    truck or a trailer is there); None when the image has no such columns on either side."""
    margin = _BLOCK
    left, right = alpha[:, : max(0, c0 - margin)], alpha[:, c1 + margin :]
    if left.shape[1] < 4 or right.shape[1] < 4:
        return None
    return np.asarray(
        np.minimum(np.median(left, axis=1), np.median(right, axis=1)), dtype=np.float32
    )


def _without_dead_rows(
    prof: NDArray[np.float32], beyond: NDArray[np.float32] | None
) -> NDArray[np.float32]:
    """The block profiles with dead detector rows bridged from the rows on either side. A dead
    row (or two side by side) reads the dark level the whole scan long, beyond the container's
    ends as well as across it, where it stands far above the rows a few above and below it.
    Nothing the container is made of does both: a roof sheet or a floor seen edge-on can be as
    dark, but only along the container. Taken for the floor's top edge, a dead row just below
    the floor put the load space's bottom into the cross-members, which read as objects."""
    rows = prof.shape[0]
    if rows < 8 or beyond is None:
        return prof
    level = np.median(prof, axis=1)
    gap = 3  # two dead rows side by side, and the detector's blur, lie within it
    up = np.concatenate([np.full(gap, np.inf), level[:-gap]])
    down = np.concatenate([level[gap:], np.full(gap, np.inf)])
    # Far above both sides (3×), and by more than a dense structure's own attenuation.
    dead = level > np.maximum(3.0 * np.maximum(up, down), np.minimum(up, down) + 2 * _DENSE)
    dead &= np.isfinite(up) & np.isfinite(down) & (beyond > 2 * _DENSE)
    if not dead.any():
        return prof
    good = np.flatnonzero(~dead)
    out = prof.copy()
    for r in np.flatnonzero(dead):
        below = good[good > r]
        above = good[good < r]
        if below.size and above.size:
            a, b = int(above[-1]), int(below[0])
            t = (r - a) / (b - a)
            out[r] = (1 - t) * prof[a] + t * prof[b]
    return out


def _agrees_better(a: EdgeLine, b: EdgeLine) -> bool:
    """Whether edge ``a`` agrees along more of the length than ``b`` (less scatter on a tie)."""
    return (a.inliers, -a.scatter_px) > (b.inliers, -b.scatter_px)


def _underside(
    prof: NDArray[np.float32],
    x: NDArray[np.float64],
    c_mid: float,
    half: float,
    *,
    cut_agrees: bool = False,
) -> EdgeLine | None:
    """The container's underside: per block the lowest row that still attenuates, with air
    below it inside the image. None when the blocks do not agree on one line (a chassis, rails
    or wheels below, or the image cut off under the box). ``cut_agrees``: a block whose
    underside is cut off at the image's bottom agrees when the line fitted to the others
    leaves the image there too (a tilted box whose lower end runs off the detector array)."""
    rows = prof.shape[0]
    seen = prof > _SEES_SOMETHING
    last = rows - 1 - seen[::-1].argmax(axis=0)
    ok = seen.any(axis=0) & (last < rows - 3)
    if ok.sum() < 6:
        return None
    line = _fit(x[ok], last[ok].astype(np.float64) + 0.5, c_mid, half)
    agree = line.inliers * ok.mean()
    if cut_agrees:
        cut = seen.any(axis=0) & ~ok & (line.at(x) >= rows - 3 - 2.0)
        agree += float(cut.mean())
    if agree < _UNDERSIDE_AGREES:
        return None
    return line


def find_frame(
    alpha_high: NDArray[np.floating],
    pitch_x_mm: float,
    pitch_y_mm: float,
    spec: ContainerSpec | None,
    cols: tuple[int, int],
    beam: BeamGeometry,
) -> ContainerFrame | None:
    """The container's frame, or None when the image has too few columns to fit one."""
    alpha = np.asarray(alpha_high, dtype=np.float32)
    c0, c1 = cols
    if c1 - c0 < 6 * _BLOCK:
        return None
    x, prof = _blocks(alpha, c0, c1)
    prof = _without_dead_rows(prof, _beyond_ends(alpha, c0, c1))
    rows = alpha.shape[0]
    dense = prof > _DENSE
    has = dense.any(axis=0)
    first = dense.argmax(axis=0)
    roof_rows = np.where(has, first, -1).astype(np.float64)
    # Sub-pixel: where the profile crosses the threshold between the row above and the first.
    idx = np.arange(x.size)
    above = prof[np.maximum(first - 1, 0), idx]
    at = prof[first, idx]
    frac = np.clip((_DENSE - above) / np.maximum(at - above, 1e-6), 0.0, 1.0)
    roof_rows = np.where(has & (first > 0), first - 1 + frac, roof_rows)
    c_mid, half = (c0 + c1 - 1) / 2.0, max((c1 - c0) / 2.0, 1.0)
    ok = roof_rows >= 0

    # The floor: where the type says it is below the roof (given the beam's parallax), so the
    # chassis, rails and wheels further down are never taken for it.
    height_m = spec.height if spec else 2.591
    floor_m = spec.floor_height if spec else 0.16
    py = pitch_y_mm / 1000.0
    depth = height_m - floor_m
    near = far = 1.0
    src = 0.0
    if beam.fan and beam.source_distance_mm and beam.source_row is not None:
        d = beam.source_distance_mm / 1000.0
        w = (spec.width if spec else 2.438) / 2.0
        near, far, src = d / (d - w), d / (d + w), beam.source_row
    tol = (0.1 if spec else 0.35) / py + 3
    fan = (src, near, far, py, floor_m, height_m)
    # A roof clipped at the image's top row: the container's columns attenuate already there.
    clipped = near != 1.0 and float(np.median(prof[0])) > _SEES_SOMETHING
    under = _underside(prof, x, c_mid, half) if clipped else None
    if ok.sum() >= 6:
        roof = _fit(x[ok], roof_rows[ok], c_mid, half)
    elif under is not None:
        # No roof edge in the image at all: the near wall's, from the underside and the type.
        roof = _placed(under, fan)[0]
        roof_rows[:] = 0.0
    else:
        return None
    grad = ndimage.uniform_filter1d(np.diff(prof, axis=0, prepend=prof[:1]), 2, axis=0)

    def floor_for(outer_is_near: bool) -> EdgeLine | None:
        """The floor, taking the roof edge found to be the near wall's (or the far wall's)."""
        floor_rows = np.full(x.size, -1.0)
        for i in range(x.size):
            if roof_rows[i] < 0:
                continue
            top = float(roof.at(x[i]))
            if near != 1.0:
                m = near if (src > top) == outer_is_near else far
                top_h = (src - top) * py / m
                h_f = top_h - depth
                edges = (src - h_f * near / py, src - h_f * far / py)
            else:
                edges = (top + depth / py, top + depth / py)
            r_a = max(0, int(min(edges) - tol))
            r_b = min(rows - 1, int(max(edges) + tol))
            if r_b - r_a < 3:
                continue
            j = r_a + int(np.argmax(grad[r_a:r_b, i]))
            g0, g1, g2 = (float(grad[min(max(k, 0), rows - 1), i]) for k in (j - 1, j, j + 1))
            bend = g0 - 2 * g1 + g2
            floor_rows[i] = j + (0.5 * (g0 - g2) / bend if bend < 0 else 0.0)
        okf = floor_rows >= 0
        return _fit(x[okf], floor_rows[okf], c_mid, half) if okf.sum() >= 6 else None

    # With a fan beam the outer roof edge is the near wall's – unless that edge lies above the
    # image's top row (a short detector array, a high-cube box close to the source) or reads
    # too thin, when the edge found is the far wall's and the floor lies well above where the
    # near wall's roof would put it. Both readings are tried; the floor that more of the
    # container's length agrees on wins.
    outer_is_near = True
    floor = near_floor = floor_for(True)
    other = None
    if near != 1.0:
        other = floor_for(False)
        if other is not None and (
            floor is None or (other.inliers, -other.scatter_px) > (floor.inliers, -floor.scatter_px)
        ):
            floor, outer_is_near = other, False
    # Edges that disagree along the length (a tilted box whose near and far roof edges part,
    # a load's top taken for the roof) make the roof an unsure anchor too: check on the bottom.
    if near != 1.0 and not clipped and (floor is None or min(roof.inliers, floor.inliers) < 0.7):
        under = _underside(prof, x, c_mid, half)
    anchored = _from_underside(under, floor, (near_floor, other), tol, fan)
    floor_read = True  # the floor is an edge found in the image (not placed by the type)
    if anchored is not None:
        roof, floor, outer_is_near, floor_read = anchored
    elif floor is None:
        return None
    # The underside agrees with the floor kept: the type's floor height above it puts the
    # floor's top edge (one wall's or the other's) where the floor was found. Then the frame
    # rests on two edges that agree – the underside and the floor – and the roof edge found
    # (clipped, or a beam) is not what it rests on.
    confirmed = under
    if near != 1.0 and confirmed is None:
        confirmed = _underside(prof, x, c_mid, half, cut_agrees=True)
    if confirmed is not None:
        lo, hi = _placed(confirmed, fan)[1]
        if not lo - tol <= float(floor.at(c_mid)) <= hi + tol:
            confirmed = None
    if anchored is None and not outer_is_near and src > float(roof.at(c_mid)):
        # Report the near wall's roof edge, where the beam's geometry puts it (above the image
        # when clipped), so everything below reads the frame one way.
        r = near / far
        moved = replace(roof, a=src - (src - roof.a) * r, b=roof.b * r, k=roof.k * r)
        # Above the source the near wall's roof edge is the outermost one: with air in the
        # image's top row it is the edge found, never one tens of rows above the image (the
        # floor kept is still the one the far wall's reading found: it is an edge either way).
        if not _cannot_be_inside(moved, clipped, c_mid, tol):
            roof = moved

    px = pitch_x_mm / 1000.0
    # The roof's outer edge is the near wall's: a fan magnifies its slope by ``near``.
    slope = roof.b / near
    if clipped and confirmed is not None:
        # A roof clipped at the image's top row can read nearly level whatever the tilt (the
        # top row cuts it, or a rail is taken for it). The floor, confirmed by the underside,
        # leans by the tilt magnified as its wall's edge is: which wall's it is, the type's
        # floor height above the underside says. A floor placed from the underside (none
        # read agreed) leans as the underside's lowest edge does – trusted only when the
        # underside lies whole inside the image (cut off at its bottom, it reads level).
        lean = _floor_lean(floor, confirmed, fan) if floor_read else None
        if lean is None and not floor_read and _inside(prof, x, confirmed, (c0, c1)):
            lean = confirmed.b / (near if float(confirmed.at(c_mid)) > src else far)
        if lean is not None:
            slope = lean
    tilt = float(np.degrees(np.arctan(-slope * py / px)))
    sag_mm = float(floor.k * pitch_y_mm)
    reasons: list[str] = []
    said: list[dict[str, Any]] = []

    def unsure_because(code: str, **params: Any) -> None:
        text, message = english(code, **params)
        reasons.append(text)
        said.append(message)

    # The top edge the confidence counts: the roof's, or – the roof clipped at the image's top
    # row – the underside's when that confirms the floor and agrees along more of the length
    # (a clipped roof's edge may be a rail or a beam; the roof-to-floor height then says
    # nothing the underside has not checked).
    top = roof
    if clipped and confirmed is not None and _agrees_better(confirmed, roof):
        top = confirmed
    conf = min(top.inliers, floor.inliers)
    if conf < 0.7:
        unsure_because("scans.frame.low_agreement", share=conf)
    spread = max(top.scatter_px, floor.scatter_px)
    conf *= float(np.clip(1.5 - spread / 2.0, 0.0, 1.0))
    slope_gap = abs(top.b - floor.b) * (c1 - c0)  # rows over the length
    slope_gap = max(0.0, slope_gap - abs(slope) * (c1 - c0) * (near - far))  # parallax
    disagree = slope_gap > 4.0
    if disagree:
        unsure_because("scans.frame.edges_disagree", rows=slope_gap)
    conf *= float(np.clip(1.5 - slope_gap / 8.0, 0.0, 1.0))
    seen = float(floor.at(c_mid) - roof.at(c_mid)) * py
    if near != 1.0:
        top_h = (src - float(roof.at(c_mid))) * py / near
        span = [top_h * near - (top_h - depth) * m for m in (near, far)]
    else:
        span = [depth, depth]
    if top is roof and not min(span) - 0.1 <= seen <= max(span) + 0.1:
        unsure_because("scans.frame.height", seen=seen, expected=height_m - floor_m)
        conf *= 0.4
    if abs(tilt) > MAX_TILT_DEG:
        unsure_because("scans.frame.tilted", tilt=tilt, limit=MAX_TILT_DEG)
    unsure = bool(
        conf < _UNSURE_BELOW or min(top.inliers, floor.inliers) < 0.6 or abs(tilt) > MAX_TILT_DEG
    )
    return ContainerFrame(
        (c0, c1),
        roof,
        floor,
        tilt,
        sag_mm,
        float(np.clip(conf, 0, 1)),
        unsure,
        tuple(reasons),
        beam.fan,
        slope,
        abs(slope) * (c1 - c0) / 2.0 * (near - far),
        tuple(said),
        confirmed,
        clipped,
        misread=disagree and abs(tilt) > MAX_TILT_DEG,
    )


def _cannot_be_inside(roof: EdgeLine, clipped: bool, c_mid: float, tol: float) -> bool:
    """Whether a near wall's roof edge placed at ``roof`` contradicts the image: above its top
    row (by more than ``tol``) while that row shows air over the container. A roof above the
    image leaves its walls crossing the top row, which then attenuates (``clipped``)."""
    return not clipped and float(roof.at(c_mid)) < -tol


def _floor_lean(
    floor: EdgeLine, under: EdgeLine, fan: tuple[float, float, float, float, float, float]
) -> float | None:
    """The tilt's slope (rows per column) from the floor edge read, whose wall – near or far –
    is the one whose edge the type's floor height above the underside puts nearer to it (a
    fan beam magnifies each wall's lean by its own distance from the source). None when the
    floor edge is not read along most of the length, or lies as near one wall's edge as the
    other's (the floor level with the source: both edges cross there)."""
    src, near, far, py, floor_m, _ = fan
    if floor.inliers < 0.8:
        return None
    h_u = (src - float(under.at(under.c_mid))) * py
    h_u /= near if h_u < 0 else far
    h_f = h_u + floor_m
    row = float(floor.at(floor.c_mid))
    to_near = abs(row - (src - h_f * near / py))
    to_far = abs(row - (src - h_f * far / py))
    if abs(to_near - to_far) < 2.0:
        return None
    return floor.b / (near if to_near < to_far else far)


def _inside(
    prof: NDArray[np.float32], x: NDArray[np.float64], under: EdgeLine, cols: tuple[int, int]
) -> bool:
    """Whether the underside lies whole inside the image: every block's lowest attenuating row
    has air below it, and the fitted line stays clear of the image's bottom rows over the
    container's whole length."""
    rows = prof.shape[0]
    seen = prof > _SEES_SOMETHING
    last = rows - 1 - seen[::-1].argmax(axis=0)
    if not seen.any(axis=0).all() or (last >= rows - 3).any():
        return False
    ends = under.at(np.array([cols[0], cols[1] - 1], dtype=np.float64))
    return bool(float(ends.max()) < rows - 6 and under.inliers >= 0.8)


def _placed(
    under: EdgeLine, fan: tuple[float, float, float, float, float, float]
) -> tuple[EdgeLine, tuple[float, float]]:
    """From the underside: the near wall's roof edge (the type's height above it) and the
    floor's top edge rows of both walls (``floor_height`` above it), through the fan beam."""
    src, near, far, py, floor_m, height_m = fan
    h_u = (src - float(under.at(under.c_mid))) * py
    h_u /= near if h_u < 0 else far  # the lowest edge seen is the near wall's below the source
    h_f, h_top = h_u + floor_m, h_u + height_m
    roof = replace(under, a=src - h_top * (near if h_top > 0 else far) / py, k=0.0)
    lo, hi = sorted((src - h_f * near / py, src - h_f * far / py))
    return roof, (lo, hi)


def _from_underside(
    under: EdgeLine | None,
    chosen: EdgeLine | None,
    readings: tuple[EdgeLine | None, EdgeLine | None],
    tol: float,
    fan: tuple[float, float, float, float, float, float],
) -> tuple[EdgeLine, EdgeLine, bool, bool] | None:
    """With the roof clipped at the image's top row, the roof edge found is no roof at all (a
    beam, the top of a load), and which wall's edge it is cannot be told from it. The underside
    can: the type puts the floor's top ``floor_height`` above it, at ``src − h·m/py`` for the
    near and far walls. The reading whose floor agrees wins; when neither does, the frame is
    anchored on the underside and the type's height. Returns (near roof edge, floor, outer
    edge is the near wall's, floor read in the image rather than placed from the underside),
    or None to keep the readings as they are."""
    if under is None:
        return None
    roof, edges = _placed(under, fan)
    # A reading agrees when it lies between the two walls' floor edges all along the length,
    # not at mid-length only: a floor read below a misplaced roof can cross them there, bowed.
    along = under.c_mid + under.half * np.array([-0.9, 0.0, 0.9])
    lean = under.at(along) - float(under.at(under.c_mid))
    fits = [
        r
        for r in readings
        if r is not None
        and bool(
            np.all(
                np.abs(r.at(along) - lean - (edges[0] + edges[1]) / 2)
                <= (edges[1] - edges[0]) / 2 + tol
            )
        )
    ]
    if chosen is not None and any(r is chosen for r in fits):
        return None  # the reading chosen already agrees
    if fits:
        return roof, fits[0], fits[0] is readings[0], True
    # The floor's top edge of the higher wall: the load space ends above it.
    return roof, replace(under, a=edges[0], k=0.0), True, False


def _keys(t: NDArray[np.float32]) -> tuple[NDArray[np.floating], ...]:
    """Keys' cubic convolution weights (a = −0.5) of the taps at −1, 0, 1, 2 for offset t."""
    a = -0.5
    t2, t3 = t * t, t * t * t
    w0 = a * (t3 - 2 * t2 + t)
    w1 = (a + 2) * t3 - (a + 3) * t2 + 1
    w2 = -(a + 2) * t3 + (2 * a + 3) * t2 - a * t
    w3 = -a * (t3 - t2)
    return tuple(np.asarray(w, dtype=np.float32) for w in (w0, w1, w2, w3))


def _shift_cols(img: NDArray[np.float32], shifts: NDArray[np.float64]) -> NDArray[np.float32]:
    """out[r, c] = img[r + shifts[c], c], cubic convolution: it keeps a steep edge's profile
    whatever the fraction of a pixel it moves (linear interpolation blurs it by an amount that
    changes with the fraction, which a floor edge leaves as a false object), and its weights
    sum to one, so every column's sum (the mass) is kept."""
    rows, cols = img.shape
    r = np.arange(rows, dtype=np.float64)[:, None] + shifts[None, :]
    r0 = np.floor(r)
    t = (r - r0).astype(np.float32)
    base = r0.astype(np.int64)
    cidx = np.arange(cols)[None, :]
    out = np.zeros((rows, cols), dtype=np.float32)
    for k, w in zip((-1, 0, 1, 2), _keys(t), strict=True):
        out += w * img[np.clip(base + k, 0, rows - 1), cidx]
    return out


def _shift_rows(img: NDArray[np.float32], shifts: NDArray[np.float64]) -> NDArray[np.float32]:
    return _shift_cols(img.T, shifts).T


def _plan(
    frame: ContainerFrame, shape: tuple[int, int], pitch: tuple[float, float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    rows, cols = shape
    dv = frame.shift_rows(cols)
    mid_row = (frame.roof.at(frame.roof.c_mid) + frame.floor.at(frame.floor.c_mid)) / 2.0
    sin_t = np.sin(np.radians(frame.tilt_deg))
    # The rotation's sideways part: rows above the middle lean towards the lower end.
    dh = -(mid_row - np.arange(rows)) * pitch[1] * sin_t / pitch[0]
    return dv, np.asarray(dh, dtype=np.float64)


def rectify(
    img: NDArray[np.float32], frame: ContainerFrame, pitch: tuple[float, float]
) -> NDArray[np.float32]:
    """``img`` in the container's frame: floor level, end walls upright."""
    dv, dh = _plan(frame, img.shape, pitch)
    return _shift_rows(_shift_cols(np.asarray(img, dtype=np.float32), dv), dh)


def rectify_int(
    img: NDArray[np.generic], frame: ContainerFrame, pitch: tuple[float, float]
) -> NDArray[np.generic]:
    """The same move for labels (nearest pixel: classes are not averaged)."""
    dv, dh = _plan(frame, img.shape, pitch)
    rows, cols = img.shape
    ri = np.clip(np.rint(np.arange(rows)[:, None] + dv[None, :]).astype(np.int64), 0, rows - 1)
    out = img[ri, np.arange(cols)[None, :]]
    ci = np.clip(np.rint(np.arange(cols)[None, :] + dh[:, None]).astype(np.int64), 0, cols - 1)
    return np.asarray(out[np.arange(rows)[:, None], ci])


def to_image_box(
    box: tuple[int, int, int, int],
    frame: ContainerFrame,
    pitch: tuple[float, float],
    shape: tuple[int, int],
) -> tuple[int, int, int, int]:
    """A box found in the container's frame, back in the image's pixels."""
    dv, dh = _plan(frame, shape, pitch)
    c0, r0, c1, r1 = box
    cs = slice(max(0, c0), max(min(shape[1], c1), max(0, c0) + 1))
    rs = slice(max(0, r0), max(min(shape[0], r1), max(0, r0) + 1))
    v = dv[cs]
    h = dh[rs]
    return (
        int(np.floor(c0 + h.min())),
        int(np.floor(r0 + v.min())),
        int(np.ceil(c1 + h.max())),
        int(np.ceil(r1 + v.max())),
    )
