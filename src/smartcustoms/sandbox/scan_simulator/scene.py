"""Scene geometry for the simulator and its exact projection onto the detector grid.

The scanner looks along +z (across the container's width); the image's columns run along x (the
container's length) and its rows down from the top. A scene is a list of solids, each of one
material at one density. Projection integrates density along z, giving per material an areal
density map λ (g/cm²); every primitive is rasterised with exact pixel coverage, so the mass in the
image (Σ λ · pixel area) equals the mass in the scene. Beams are treated as parallel: magnification
and fan-beam parallax are left out (see the README of the simulator).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = ["Box", "DiscZ", "Grid", "Scene", "Solid", "VerticalCylinder", "rasterize"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Grid:
    """The detector grid in scene coordinates: x from the image's left, y up from its bottom."""

    rows: int
    cols: int
    pitch_x_m: float
    pitch_y_m: float

    @property
    def width_m(self) -> float:
        return self.cols * self.pitch_x_m

    @property
    def height_m(self) -> float:
        return self.rows * self.pitch_y_m

    def col_range(self, x0: float, x1: float) -> tuple[int, int]:
        return (
            max(0, int(np.floor(x0 / self.pitch_x_m))),
            min(self.cols, int(np.ceil(x1 / self.pitch_x_m))),
        )

    def row_range(self, y0: float, y1: float) -> tuple[int, int]:
        """Rows covering heights [y0, y1] (row 0 is the top of the image)."""
        top = self.rows - int(np.ceil(y1 / self.pitch_y_m))
        bottom = self.rows - int(np.floor(y0 / self.pitch_y_m))
        return max(0, top), min(self.rows, bottom)

    def x_of(self, col: float) -> float:
        return col * self.pitch_x_m

    def y_of(self, row: float) -> float:
        """Height of the top edge of ``row``."""
        return (self.rows - row) * self.pitch_y_m


def _coverage(lo: float, hi: float, start: int, stop: int, pitch: float) -> FloatArray:
    """Fraction of each cell [k·pitch, (k+1)·pitch), k in [start, stop), covered by [lo, hi]."""
    edges = np.arange(start, stop + 1) * pitch
    covered = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0, None)
    return np.asarray(covered / pitch, dtype=np.float64)


class Solid(Protocol):
    material: str
    density: float
    tag: str

    @property
    def mass_kg(self) -> float: ...

    def bounds(self) -> tuple[float, float, float, float, float, float]: ...

    def paint(self, grid: Grid, out: NDArray[np.float32]) -> None: ...


@dataclass(frozen=True)
class Box:
    """An axis-aligned box [x0,x1]×[y0,y1]×[z0,z1] (metres) of one material."""

    x0: float
    x1: float
    y0: float
    y1: float
    z0: float
    z1: float
    material: str
    density: float  # g/cm³; may be negative only inside a zero-mass pair (see dents)
    tag: str = ""

    @property
    def volume_m3(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0) * (self.z1 - self.z0)

    @property
    def mass_kg(self) -> float:
        return self.volume_m3 * self.density * 1000.0

    def bounds(self) -> tuple[float, float, float, float, float, float]:
        return (self.x0, self.x1, self.y0, self.y1, self.z0, self.z1)

    def paint(self, grid: Grid, out: NDArray[np.float32]) -> None:
        c0, c1 = grid.col_range(self.x0, self.x1)
        r0, r1 = grid.row_range(self.y0, self.y1)
        if c0 >= c1 or r0 >= r1:
            return
        cx = _coverage(self.x0, self.x1, c0, c1, grid.pitch_x_m)
        # Rows count down from the top: cell k spans heights [(rows-k-1)·p, (rows-k)·p).
        cy = _coverage(self.y0, self.y1, grid.rows - r1, grid.rows - r0, grid.pitch_y_m)[::-1]
        lam = self.density * (self.z1 - self.z0) * 100.0  # g/cm³ × cm
        out[r0:r1, c0:c1] += (lam * np.outer(cy, cx)).astype(np.float32)

    def clipped(
        self, x0: float, x1: float, y0: float, y1: float, z0: float, z1: float
    ) -> list[Box]:
        """The parts of this box outside the region [x0,x1]×[y0,y1]×[z0,z1] (up to six boxes)."""
        if (
            self.x1 <= x0
            or self.x0 >= x1
            or self.y1 <= y0
            or self.y0 >= y1
            or self.z1 <= z0
            or self.z0 >= z1
        ):
            return [self]
        parts: list[Box] = []
        rest = self
        # Peel off slabs on each side, axis by axis; what remains inside the region is dropped.
        if rest.x0 < x0:
            parts.append(replace(rest, x1=x0))
            rest = replace(rest, x0=x0)
        if rest.x1 > x1:
            parts.append(replace(rest, x0=x1))
            rest = replace(rest, x1=x1)
        if rest.y0 < y0:
            parts.append(replace(rest, y1=y0))
            rest = replace(rest, y0=y0)
        if rest.y1 > y1:
            parts.append(replace(rest, y0=y1))
            rest = replace(rest, y1=y1)
        if rest.z0 < z0:
            parts.append(replace(rest, z1=z0))
            rest = replace(rest, z0=z0)
        if rest.z1 > z1:
            parts.append(replace(rest, z0=z1))
        return parts


def _chord_integral(u: NDArray[np.floating], r: float) -> FloatArray:
    """∫₀ᵘ 2·sqrt(r² − t²) dt, the area under a circle's chord length, for |u| ≤ r."""
    u = np.clip(u, -r, r)
    return np.asarray(u * np.sqrt(r * r - u * u) + r * r * np.arcsin(u / r), dtype=np.float64)


@dataclass(frozen=True)
class VerticalCylinder:
    """An upright cylinder (axis along y), solid or a shell with ``inner_radius``: drums, posts."""

    xc: float
    zc: float
    radius: float
    y0: float
    y1: float
    material: str
    density: float
    inner_radius: float = 0.0
    tag: str = ""

    @property
    def mass_kg(self) -> float:
        area = np.pi * (self.radius**2 - self.inner_radius**2)
        return float(area * (self.y1 - self.y0) * self.density * 1000.0)

    def bounds(self) -> tuple[float, float, float, float, float, float]:
        r = self.radius
        return (self.xc - r, self.xc + r, self.y0, self.y1, self.zc - r, self.zc + r)

    def paint(self, grid: Grid, out: NDArray[np.float32]) -> None:
        c0, c1 = grid.col_range(self.xc - self.radius, self.xc + self.radius)
        r0, r1 = grid.row_range(self.y0, self.y1)
        if c0 >= c1 or r0 >= r1:
            return
        edges = np.arange(c0, c1 + 1) * grid.pitch_x_m - self.xc
        # Mean chord over each column, exactly: difference of the chord integral at its edges.
        area = np.diff(_chord_integral(edges, self.radius))
        if self.inner_radius > 0:
            area -= np.diff(_chord_integral(edges, self.inner_radius))
        chord = area / grid.pitch_x_m
        cy = _coverage(self.y0, self.y1, grid.rows - r1, grid.rows - r0, grid.pitch_y_m)[::-1]
        out[r0:r1, c0:c1] += (self.density * 100.0 * np.outer(cy, chord)).astype(np.float32)


@dataclass(frozen=True)
class DiscZ:
    """A disc or ring facing the beam (axis along z): wheels, motors, coils seen end-on."""

    xc: float
    yc: float
    radius: float
    z0: float
    z1: float
    material: str
    density: float
    inner_radius: float = 0.0
    tag: str = ""

    @property
    def mass_kg(self) -> float:
        area = np.pi * (self.radius**2 - self.inner_radius**2)
        return float(area * (self.z1 - self.z0) * self.density * 1000.0)

    def bounds(self) -> tuple[float, float, float, float, float, float]:
        r = self.radius
        return (self.xc - r, self.xc + r, self.yc - r, self.yc + r, self.z0, self.z1)

    def paint(self, grid: Grid, out: NDArray[np.float32]) -> None:
        c0, c1 = grid.col_range(self.xc - self.radius, self.xc + self.radius)
        r0, r1 = grid.row_range(self.yc - self.radius, self.yc + self.radius)
        if c0 >= c1 or r0 >= r1:
            return
        # 4×4 supersampling for coverage, then an exact rescale so the mass is right.
        n = 4
        xs = (np.arange(c0 * n, c1 * n) + 0.5) / n * grid.pitch_x_m - self.xc
        ys = (grid.rows - (np.arange(r0 * n, r1 * n) + 0.5) / n) * grid.pitch_y_m - self.yc
        d2 = xs[None, :] ** 2 + ys[:, None] ** 2
        inside = (d2 <= self.radius**2) & (d2 >= self.inner_radius**2)
        cover = inside.reshape(r1 - r0, n, c1 - c0, n).mean(axis=(1, 3))
        total = cover.sum()
        if total <= 0:
            return
        exact = np.pi * (self.radius**2 - self.inner_radius**2) / (grid.pitch_x_m * grid.pitch_y_m)
        lam = self.density * (self.z1 - self.z0) * 100.0
        out[r0:r1, c0:c1] += (lam * cover * (exact / total)).astype(np.float32)


@dataclass
class Scene:
    """Solids to project, with the labels the truth needs."""

    solids: list[Box | VerticalCylinder | DiscZ] = field(default_factory=list)

    def add(self, *solids: Box | VerticalCylinder | DiscZ) -> None:
        self.solids.extend(solids)

    def mass_kg(self, tag_prefix: str = "") -> float:
        return float(sum(s.mass_kg for s in self.solids if s.tag.startswith(tag_prefix)))

    def carve(
        self, region: tuple[float, float, float, float, float, float], tag_prefix: str
    ) -> None:
        """Remove the parts of solids tagged ``tag_prefix…`` that lie inside ``region``.

        Boxes are cut exactly; cylinders and discs that touch the region go entirely.
        """
        x0, x1, y0, y1, z0, z1 = region
        kept: list[Box | VerticalCylinder | DiscZ] = []
        for s in self.solids:
            if not s.tag.startswith(tag_prefix):
                kept.append(s)
            elif isinstance(s, Box):
                kept.extend(s.clipped(x0, x1, y0, y1, z0, z1))
            else:
                b = s.bounds()
                touches = not (
                    b[1] <= x0 or b[0] >= x1 or b[3] <= y0 or b[2] >= y1 or b[5] <= z0 or b[4] >= z1
                )
                if not touches:
                    kept.append(s)
        self.solids = kept


def rasterize(scene: Scene, grid: Grid) -> dict[str, NDArray[np.float32]]:
    """Areal density (g/cm²) per material over the grid."""
    maps: dict[str, NDArray[np.float32]] = {}
    for solid in scene.solids:
        if solid.material not in maps:
            maps[solid.material] = np.zeros((grid.rows, grid.cols), dtype=np.float32)
        solid.paint(grid, maps[solid.material])
    return maps
