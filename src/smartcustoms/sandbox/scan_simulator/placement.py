"""How the container sits in the scanner and how the beam sees it: tilt, sag, a trailer, a fan.

The plain simulator scans a level container on no chassis with parallel rays. Real scans are
seldom like that, so these options make the scene harder in the ways real ones are:

* **tilt** (degrees, + raises the far end): the whole truck on a slope, a rotation about the
  beam axis through the container's centre;
* **sag** (metres): the container and its load bowed down at mid-length, a parabola along x;
* **trailer**: a chassis (two I-beam main rails, cross members), a tri-axle bogie with twin
  tyres and landing legs below the container, whose underside is then 1.25 m above the ground;
* **fan beam**: a point source ``source_distance_m`` before the container's centre plane. A
  point at depth z (along the beam, from the centre plane) and height y projects to the height
  ``h_s + (y − h_s)·D/(D + z)`` of the centre plane, and every ray crosses its slab 1/cos φ
  longer than the slab is deep (φ the ray's elevation): the roof and floor smear into bands.

Solids stay axis-aligned boxes, cylinders and discs, so a tilted or bowed solid is cut into
pieces no longer than 0.25 m, each moved with its centre (a staircase of ≤ 2 mm at 1°), and a
solid in a fan beam into slabs thin enough that neighbouring slabs project less than a pixel
apart. Mass is kept exactly by the pieces; the fan's 1/cos φ is what a real detector sees.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from smartcustoms.sandbox.scan_simulator.scene import Box, DiscZ, Grid, Scene, VerticalCylinder

__all__ = ["TRAILER_DECK_M", "Placement", "project", "trailer_chassis"]

TRAILER_DECK_M = 1.25  # the container's underside above the ground on a skeletal trailer
_PIECE_M = 0.25
_STEEL = 7.85
Solid = Box | VerticalCylinder | DiscZ


@dataclass(frozen=True)
class Placement:
    """The container's pose and the beam's geometry (metres, degrees)."""

    tilt_deg: float = 0.0
    sag_m: float = 0.0
    pivot: tuple[float, float] = (0.0, 0.0)  # (x, y) the tilt turns about
    length_m: float = 12.192  # the container's length, for the sag's parabola
    source_height_m: float = 0.0  # the source's height in the image (y up from the bottom)
    source_distance_m: float | None = None  # None: parallel rays
    centre_z_m: float = 0.0  # depth of the plane the image's pitch is given in

    @property
    def moves(self) -> bool:
        return self.tilt_deg != 0.0 or self.sag_m != 0.0

    def displacement(self, x: float, y: float) -> tuple[float, float]:
        """Where the point (x, y) moves to: tilt about the pivot, then the sag's bow."""
        t = np.radians(self.tilt_deg)
        px, py = self.pivot
        dx, dy = x - px, y - py
        nx = px + dx * np.cos(t) - dy * np.sin(t)
        ny = py + dx * np.sin(t) + dy * np.cos(t)
        u = min(1.0, abs(2.0 * dx / self.length_m))
        ny -= self.sag_m * (1.0 - u * u)
        return float(nx), float(ny)

    def magnification(self, z: float) -> float:
        if self.source_distance_m is None:
            return 1.0
        return self.source_distance_m / (self.source_distance_m + (z - self.centre_z_m))

    def image_point(self, x: float, y: float, z: float) -> tuple[float, float]:
        """Where (x, y, z) of the level scene lands in the image plane (x, height)."""
        mx, my = self.displacement(x, y) if self.moves else (x, y)
        h = self.source_height_m
        return mx, h + (my - h) * self.magnification(z)

    def image_bounds(
        self, bounds: tuple[float, float, float, float, float, float]
    ) -> tuple[float, float, float, float]:
        """The image-plane box (x0, x1, y0, y1) that a scene box lands in."""
        x0, x1, y0, y1, z0, z1 = bounds
        pts = [self.image_point(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        return min(xs), max(xs), min(ys), max(ys)

    def row_factors(self, grid: Grid) -> NDArray[np.float32]:
        """1/cos φ per row: how much longer each ray crosses a slab than the slab is deep."""
        if self.source_distance_m is None:
            return np.ones(grid.rows, dtype=np.float32)
        centres = (grid.rows - np.arange(grid.rows) - 0.5) * grid.pitch_y_m
        tan = (centres - self.source_height_m) / self.source_distance_m
        return np.asarray(np.sqrt(1.0 + tan * tan), dtype=np.float32)


def _cuts(lo: float, hi: float, step: float) -> list[tuple[float, float]]:
    n = max(1, int(np.ceil((hi - lo) / step - 1e-9)))
    edges = np.linspace(lo, hi, n + 1)
    return [(float(a), float(b)) for a, b in itertools.pairwise(edges)]


def _slab_step(p: Placement, y0: float, y1: float, pitch_y: float) -> float:
    """Slabs thin enough that neighbouring slabs project under a pixel apart."""
    if p.source_distance_m is None:
        return np.inf
    far = max(abs(y0 - p.source_height_m), abs(y1 - p.source_height_m), 1e-3)
    return float(np.clip(pitch_y * p.source_distance_m / far, 0.01, 0.25))


def _paint(solid: Solid, z_mid: float, p: Placement, grid: Grid, out: NDArray[np.float32]) -> None:
    """Paint a (moved) piece at its depth's magnification about the source height."""
    m = p.magnification(z_mid)
    if m == 1.0:
        solid.paint(grid, out)
        return
    # The magnified grid: physical rows of pitch p/M whose edges project onto the image's rows.
    shift = -p.source_height_m * (1.0 - 1.0 / m)
    g = Grid(grid.rows, grid.cols, grid.pitch_x_m, grid.pitch_y_m / m)
    if isinstance(solid, DiscZ):
        moved: Solid = replace(solid, yc=solid.yc + shift)
    else:
        moved = replace(solid, y0=solid.y0 + shift, y1=solid.y1 + shift)
    moved.paint(g, out)


def _pieces(solid: Solid, p: Placement, pitch_y: float) -> list[tuple[Solid, float]]:
    """The solid cut and moved: (piece, depth of its middle)."""
    if isinstance(solid, Box):
        xs = _cuts(solid.x0, solid.x1, _PIECE_M) if p.moves else [(solid.x0, solid.x1)]
        ys = _cuts(solid.y0, solid.y1, _PIECE_M) if p.tilt_deg != 0.0 else [(solid.y0, solid.y1)]
        step = _slab_step(p, solid.y0, solid.y1, pitch_y)
        zs = _cuts(solid.z0, solid.z1, step) if np.isfinite(step) else [(solid.z0, solid.z1)]
        out: list[tuple[Solid, float]] = []
        for xa, xb in xs:
            for ya, yb in ys:
                nx, ny = p.displacement((xa + xb) / 2, (ya + yb) / 2) if p.moves else (0, 0)
                dx = nx - (xa + xb) / 2 if p.moves else 0.0
                dy = ny - (ya + yb) / 2 if p.moves else 0.0
                for za, zb in zs:
                    piece = replace(
                        solid, x0=xa + dx, x1=xb + dx, y0=ya + dy, y1=yb + dy, z0=za, z1=zb
                    )
                    out.append((piece, (za + zb) / 2))
        return out
    if isinstance(solid, DiscZ):
        nx, ny = p.displacement(solid.xc, solid.yc) if p.moves else (solid.xc, solid.yc)
        moved = replace(solid, xc=nx, yc=ny)
        r = solid.radius
        step = _slab_step(p, solid.yc - r, solid.yc + r, pitch_y)
        if not np.isfinite(step):
            return [(moved, (solid.z0 + solid.z1) / 2)]
        return [
            (replace(moved, z0=za, z1=zb), (za + zb) / 2)
            for za, zb in _cuts(solid.z0, solid.z1, step)
        ]
    mid = (solid.y0 + solid.y1) / 2
    nx, ny = p.displacement(solid.xc, mid) if p.moves else (solid.xc, mid)
    cyl = replace(solid, xc=nx, y0=solid.y0 + ny - mid, y1=solid.y1 + ny - mid)
    return [(cyl, solid.zc)]  # an upright cylinder is not cut in depth: its middle's magnification


def project(scene: Scene, grid: Grid, placement: Placement) -> dict[str, NDArray[np.float32]]:
    """Areal density (g/cm², along each ray) per material, the scene placed and the beam's
    geometry applied. With no tilt, sag or fan this is :func:`.scene.rasterize` exactly."""
    maps: dict[str, NDArray[np.float32]] = {}
    for solid in scene.solids:
        if solid.material not in maps:
            maps[solid.material] = np.zeros((grid.rows, grid.cols), dtype=np.float32)
        for piece, z_mid in _pieces(solid, placement, grid.pitch_y_m):
            _paint(piece, z_mid, placement, grid, maps[solid.material])
    factors = placement.row_factors(grid)
    if placement.source_distance_m is not None:
        for m in maps.values():
            m *= factors[:, None]
    return maps


def trailer_chassis(x0: float, x1: float, deck: float, width: float) -> Scene:
    """A skeletal trailer under a container spanning x ∈ [x0, x1] whose underside is at
    ``deck``: main rails, cross members, a tri-axle bogie at the rear end (x1), landing legs."""
    s = Scene()
    tag = "trailer"
    rail_h = 0.35
    for zc in (width / 2 - 0.5, width / 2 + 0.5):
        s.add(Box(x0 - 0.3, x1, deck - 0.015, deck, zc - 0.075, zc + 0.075, "steel", _STEEL, tag))
        s.add(Box(x0 - 0.3, x1, deck - rail_h + 0.015, deck - 0.015, zc - 0.005, zc + 0.005,
                  "steel", _STEEL, tag))  # fmt: skip
        s.add(Box(x0 - 0.3, x1, deck - rail_h, deck - rail_h + 0.015, zc - 0.075, zc + 0.075,
                  "steel", _STEEL, tag))  # fmt: skip
    for x in np.arange(x0 + 0.3, x1 - 0.2, 0.9):
        s.add(Box(float(x), float(x) + 0.006, deck - 0.2, deck, width / 2 - 0.5, width / 2 + 0.5,
                  "steel", _STEEL, tag))  # fmt: skip
    wheel_r = 0.5
    for k in range(3):
        xc = x1 - 1.4 - 1.31 * k
        for za, zb in ((-0.15, 0.13), (0.15, 0.43), (width - 0.43, width - 0.15),
                       (width - 0.13, width + 0.15)):  # fmt: skip
            s.add(DiscZ(xc, wheel_r, wheel_r, za, zb, "rubber", 1.15, 0.3, tag))
            s.add(DiscZ(xc, wheel_r, 0.3, za + 0.02, zb - 0.02, "steel", _STEEL, 0.29, tag))
        s.add(DiscZ(xc, wheel_r, 0.065, -0.1, width + 0.1, "steel", _STEEL, 0.05, tag))
        s.add(Box(xc - 0.6, xc + 0.6, wheel_r + 0.15, wheel_r + 0.2, width / 2 - 0.55,
                  width / 2 + 0.55, "steel", _STEEL, tag))  # fmt: skip
    for zc in (width / 2 - 0.5, width / 2 + 0.5):
        s.add(Box(x0 + 2.2, x0 + 2.3, 0.05, deck - rail_h, zc - 0.05, zc + 0.05, "steel", 1.2,
                  tag))  # fmt: skip
    return s
