"""Boxes in the container's frame, and how they reach the image: rasterised per depth slice,
then tilted and (with a fan beam) magnified about the source row, slice by slice.

The container's frame: ``u`` along the container from its left end in the image (m), ``v`` up
from the container's underside (m), ``w`` across it along the beam from the centreline (m,
positive away from the source). Everything is a :class:`Box` – a cuboid, a disk (a cylinder
whose axis lies along the beam) or a rod (a cylinder whose axis lies along ``u``) – with a
density and a material; what the beam sees at (u, v) is density × path length, in g/cm² per
basis material.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from .attenuation import BASES, Material

__all__ = ["Box", "Placement", "displace", "project", "rasterise"]


@dataclass(frozen=True)
class Box:
    """A solid in the container's frame; ``path_cm`` overrides the beam path (thin sheets)."""

    u0: float
    u1: float
    v0: float
    v1: float
    w0: float
    w1: float
    density: float  # g/cm³ (negative: material taken away, see :func:`displace`)
    material: Material
    shape: str = "box"  # "box", "disk" (axis along w) or "rod" (axis along u)
    path_cm: float | None = None

    @property
    def path(self) -> float:
        return self.path_cm if self.path_cm is not None else (self.w1 - self.w0) * 100.0

    @property
    def mass_kg(self) -> float:
        du, dv = self.u1 - self.u0, self.v1 - self.v0
        area_m2 = du * dv
        if self.shape == "disk":
            area_m2 = math.pi * du * dv / 4
        elif self.shape == "rod":
            area_m2 = math.pi * dv * dv / 4 * (du / dv)  # circular section dv across, length du
        return self.density * area_m2 * 1e4 * self.path / 1000.0


def displace(piece: Box, hosts: list[Box]) -> list[Box]:
    """Negative boxes taking away the host goods where ``piece`` sits (cuboid overlaps)."""
    out = []
    for h in hosts:
        if h.density <= 0 or (h.path_cm is not None and h.shape != "rod"):
            continue  # thin sheets (their path is not their extent) are never displaced
        u0, u1 = max(piece.u0, h.u0), min(piece.u1, h.u1)
        v0, v1 = max(piece.v0, h.v0), min(piece.v1, h.v1)
        w0, w1 = max(piece.w0, h.w0), min(piece.w1, h.w1)
        if u1 > u0 and v1 > v0 and w1 > w0:
            out.append(replace(h, u0=u0, u1=u1, v0=v0, v1=v1, w0=w0, w1=w1, density=-h.density))
    return out


@dataclass(frozen=True)
class Placement:
    """How the container's frame sits in the image (metres, image heights from its bottom)."""

    rows: int
    cols: int
    pitch_x_m: float
    pitch_y_m: float
    x0: float  # image x of the frame's origin
    y0: float  # image height of the frame's origin
    tilt_deg: float
    source_height_m: float | None = None  # fan beam: the source's height in the image
    source_distance_m: float | None = None  # fan beam: source to the object plane (w = 0)

    def to_image(self, u: float, v: float, w: float = 0.0) -> tuple[float, float]:
        """(column, row), fractional, where the point (u, v, w) lands."""
        t = math.radians(self.tilt_deg)
        x = self.x0 + u * math.cos(t) - v * math.sin(t)
        y = self.y0 + u * math.sin(t) + v * math.cos(t)
        if self.source_height_m is not None and self.source_distance_m is not None:
            ds = self.source_distance_m
            y = self.source_height_m + (y - self.source_height_m) * ds / (ds + w)
        return x / self.pitch_x_m, self.rows - y / self.pitch_y_m


# Depth slices for the fan beam: the beam crosses the container in seven layers, each magnified
# about the source row by its own distance from the source (a stepped approximation of the
# continuous parallax smear).
SLICE_EDGES = np.linspace(-1.25, 1.25, 8)


def _cover(a0: float, a1: float, origin: float, step: float, n: int) -> tuple[int, NDArray]:
    f0, f1 = (a0 - origin) / step, (a1 - origin) / step
    i0, i1 = max(math.floor(f0), 0), min(math.ceil(f1), n)
    if i1 <= i0:
        return 0, np.zeros(0, dtype=np.float32)
    idx = np.arange(i0, i1, dtype=np.float64)
    return i0, np.clip(np.minimum(idx + 1, f1) - np.maximum(idx, f0), 0, 1).astype(np.float32)


@dataclass
class Grid:
    """Areal density per (slice, basis) on a regular grid of the container's frame (v upwards)."""

    u_origin: float
    v_origin: float
    du: float
    dv: float
    nu: int
    nv: int
    slices: int
    maps: dict[tuple[int, int], NDArray[np.float32]]

    def add(self, box: Box) -> None:
        j0, wu = _cover(box.u0, box.u1, self.u_origin, self.du, self.nu)
        i0, wv = _cover(box.v0, box.v1, self.v_origin, self.dv, self.nv)
        if not len(wu) or not len(wv):
            return
        weight = np.outer(wv, wu)
        if box.shape == "disk":
            uc, vc = (box.u0 + box.u1) / 2, (box.v0 + box.v1) / 2
            ru, rv = (box.u1 - box.u0) / 2, (box.v1 - box.v0) / 2
            uu = self.u_origin + (np.arange(j0, j0 + len(wu)) + 0.5) * self.du
            vv = self.v_origin + (np.arange(i0, i0 + len(wv)) + 0.5) * self.dv
            d = np.sqrt(((uu[None, :] - uc) / ru) ** 2 + ((vv[:, None] - vc) / rv) ** 2)
            edge = min(self.du, self.dv) / max(min(ru, rv), 1e-6)
            weight = np.clip(0.5 + (1 - d) / edge, 0, 1).astype(np.float32)
        elif box.shape == "rod":
            vc, r = (box.v0 + box.v1) / 2, (box.v1 - box.v0) / 2
            vv = self.v_origin + (np.arange(i0, i0 + len(wv)) + 0.5) * self.dv
            chord = np.sqrt(np.clip(1 - ((vv - vc) / r) ** 2, 0, 1))
            weight = weight * chord[:, None].astype(np.float32)
        areal = box.density * box.path
        # the box's share of each depth slice, by its extent along the beam
        for s in range(self.slices):
            if self.slices == 1:
                share = 1.0
            else:
                lo, hi = SLICE_EDGES[s], SLICE_EDGES[s + 1]
                if s == 0:
                    lo = -np.inf
                if s == self.slices - 1:
                    hi = np.inf
                span = max(box.w1 - box.w0, 1e-9)
                share = max(0.0, min(box.w1, hi) - max(box.w0, lo)) / span
            if share <= 0:
                continue
            for b, frac in enumerate(box.material.fractions):
                if frac == 0:
                    continue
                key = (s, b)
                if key not in self.maps:
                    self.maps[key] = np.zeros((self.nv, self.nu), dtype=np.float32)
                block = self.maps[key][i0 : i0 + len(wv), j0 : j0 + len(wu)]
                block += np.float32(areal * frac * share) * weight


def rasterise(
    boxes: list[Box], place: Placement, *, v_min: float, v_max: float, u_max: float, fan: bool
) -> Grid:
    du, dv = place.pitch_x_m / 2, place.pitch_y_m / 2  # twice the image's resolution
    u_origin, v_origin = -0.3, v_min - 0.1
    nu = math.ceil((u_max + 0.6) / du)
    nv = math.ceil((v_max - v_origin + 0.1) / dv)
    grid = Grid(u_origin, v_origin, du, dv, nu, nv, len(SLICE_EDGES) - 1 if fan else 1, {})
    for box in boxes:
        grid.add(box)
    return grid


def project(grid: Grid, place: Placement) -> NDArray[np.float32]:
    """The basis areal densities (bases, rows, cols) the beam sees at each image pixel."""
    out = np.zeros((len(BASES), place.rows, place.cols), dtype=np.float32)
    t = math.radians(place.tilt_deg)
    x = (np.arange(place.cols) + 0.5) * place.pitch_x_m - place.x0
    y_img = (place.rows - np.arange(place.rows) - 0.5) * place.pitch_y_m
    for s in range(grid.slices):
        keys = [k for k in grid.maps if k[0] == s]
        if not keys:
            continue
        y = y_img
        if grid.slices > 1 and place.source_height_m is not None:
            d = 0.5 * (SLICE_EDGES[s] + SLICE_EDGES[s + 1])
            ds = place.source_distance_m or 1.0
            y = place.source_height_m + (y_img - place.source_height_m) * (ds + d) / ds
        y = y - place.y0
        u = x[None, :] * math.cos(t) + y[:, None] * math.sin(t)
        v = -x[None, :] * math.sin(t) + y[:, None] * math.cos(t)
        coords = np.stack(
            # index f of the 2-cell mean below is centred on grid position f (not f + 0.5)
            [(v - grid.v_origin) / grid.dv, (u - grid.u_origin) / grid.du]
        )
        for key in keys:
            # the grid is stored v-upwards; sample it (mean over the image pixel's footprint)
            src = ndimage.uniform_filter(grid.maps[key], size=2, mode="constant")
            out[key[1]] += ndimage.map_coordinates(src, coords, order=1, cval=0.0, prefilter=False)
    return out
