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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.analyses.imaging import Imaged

__all__ = ["MASS_ANALYSIS_VERSION", "MassEstimate", "estimate_mass"]

MASS_ANALYSIS_VERSION = "mass/1.3"  # 1.1: goods' gross directly; 1.2: cross-talk; 1.3: dark area
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


def estimate_mass(
    imaged: Imaged,
    *,
    declared_gross_kg: float | None = None,
    tare_kg: float | None = None,
    z_alarm: float = 3.0,
) -> MassEstimate:
    """Imaged load mass and its comparison with ``declared_gross_kg``, the goods' gross mass
    (packaging included, container excluded)."""
    geom = imaged.geometry
    c0, r0, c1, r1 = geom.interior
    lam = imaged.decomposition.areal_density[r0:r1, c0:c1]
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
        cos = np.cos(np.radians(imaged.scan.row_angles_deg()[r0:r1]))
        lam = (lam * (cos / spread)[:, None]).astype(np.float32)
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
    net = float(excess.sum() * area / 1000.0)
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
