"""Where the container and its load space are in the image.

The container is the block of columns and rows that attenuate (its side walls alone give
α ≈ 0.1 everywhere inside its outline). Its type – from the ISO 6346 size-type code, or
failing that from the outline's size – says where the end frames, floor and roof lie, and so
where the load space is. The image it reads is already in the container's frame
(:mod:`.frame`: floor level, ends upright), so the outline is a box; ``rows`` gives the roof's
and underside's rows found there when a chassis below the floor would mislead the dense-row
span, and ``fan`` the beam's magnifications of the near and far walls when parallax smears the
roof and floor into bands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.container_types import ContainerSpec, spec_for_iso_code, spec_for_length
from smartcustoms.scans.errors import ScanInputError

__all__ = ["ContainerGeometry", "locate_container"]

_SEES_SOMETHING = 0.04  # α of a column or row crossing at least the side walls
_DENSE_EDGE = 0.5  # α of the rows holding roof, rails and floor structure
_EDGE_PX = 2  # the blurred edges of end walls, floor and roof
_TOP_RAIL_M = 0.06  # top side rails reach this far down from the roof's outside
_CASTING_M = (0.178, 0.118)  # ISO 1161 corner fittings: length and height


@dataclass(frozen=True)
class ContainerGeometry:
    """Pixel boxes (col0, row0, col1, row1; end-exclusive) of the container and its load space."""

    outer: tuple[int, int, int, int]
    interior: tuple[int, int, int, int]
    spec: ContainerSpec | None
    length_m: float
    height_m: float
    corners: tuple[tuple[int, int, int, int], ...] = ()  # corner castings: not inspectable
    # Rows the empty check leaves out at the load space's top and bottom beyond ``interior``:
    # where straightening a tilted image blurs the floor's and roof's edges into it. The mass
    # keeps them (the load in them is mass; the edges' blur moves none).
    empty_trim: tuple[int, int] = (0, 0)

    def interior_mask(self, shape: tuple[int, int]) -> NDArray[np.bool_]:
        mask = np.zeros(shape, dtype=bool)
        c0, r0, c1, r1 = self.interior
        mask[r0:r1, c0:c1] = True
        return mask

    @property
    def interior_area_px(self) -> int:
        c0, r0, c1, r1 = self.interior
        return max(0, c1 - c0) * max(0, r1 - r0)


def _span(profile: NDArray[np.floating], threshold: float) -> tuple[int, int]:
    idx = np.flatnonzero(profile > threshold)
    if idx.size == 0:
        return (0, 0)
    return int(idx[0]), int(idx[-1]) + 1


def locate_container(
    alpha_high: NDArray[np.floating],
    pitch_x_mm: float,
    pitch_y_mm: float,
    iso_code: str | None = None,
    *,
    rows: tuple[int, int, int] | None = None,
    fan: tuple[float, float, float] | None = None,
) -> ContainerGeometry:
    """The container's outline and load space in a side-view image.

    ``rows``: (roof's outer row, its lowest outer row along the length, floor's top row) from
    the frame; ``fan``: (source row, near-wall and far-wall magnification)."""
    sees = np.asarray(alpha_high) > _SEES_SOMETHING
    c0, c1 = _span(sees.mean(axis=0), 0.3)
    if c1 - c0 < 10:
        raise ScanInputError(
            "no container in the image: nothing attenuates the beam", field="image"
        )
    # Top and bottom are the roof, rails and cross members: dense. A threshold well above what
    # detector blur spills into the next row keeps the outline to the rows the container is in.
    r0, r1 = _span(np.median(np.asarray(alpha_high)[:, c0:c1], axis=1), _DENSE_EDGE)
    if rows is not None and r1 - r0 < 10:
        r0, r1 = rows[0], rows[2] + 1  # the frame found what the dense rows' median did not
    if r1 - r0 < 10:
        raise ScanInputError("no container in the image: too few rows attenuate", field="image")
    length = (c1 - c0) * pitch_x_mm / 1000
    height = (r1 - r0) * pitch_y_mm / 1000
    spec = spec_for_iso_code(iso_code) or spec_for_length(length, height)
    px, py = pitch_x_mm / 1000, pitch_y_mm / 1000
    roof_low = r0
    if rows is not None:
        top, roof_low, floor_top = rows
        floor_h = spec.floor_height if spec else 0.17
        # The dense span's bottom is the underside unless a chassis continues it: then the
        # underside is where the floor's top edge and the type's floor depth put it.
        under = floor_top + floor_h / py
        r0 = max(top, 0)  # a near roof edge above the image (fan beam, clipped)
        if fan is None and abs(r1 - under) > 2.5:
            r1 = round(under)
        height = (r1 - r0) * pitch_y_mm / 1000
    if spec is not None:
        end = (spec.length - spec.inner_length) / 2
        floor = spec.floor_height
        roof = max(spec.height - spec.floor_height - spec.inner_height, _TOP_RAIL_M)
    else:
        end, floor, roof = 0.1, 0.17, _TOP_RAIL_M
    ic0 = c0 + round(end / px) + _EDGE_PX
    ic1 = c1 - round(end / px) - _EDGE_PX
    ir1 = int(np.floor(r1 - floor / py))  # the row holding the floor's top edge is excluded
    ir0 = roof_low + round(roof / py) + _EDGE_PX
    if fan is not None and rows is not None:
        # Parallax: the roof's inside edge and the floor's top edge of the near and far walls
        # land at different heights; the load space lies below the lower roof edge and above
        # the higher floor edge. Heights above the source, outer roof from the higher edge.
        src, near, far = fan
        top_h = (src - rows[0]) * py
        top_h /= near if top_h > 0 else far
        h_in = top_h - roof
        ir0 = int(np.ceil(max(src - h_in * near / py, src - h_in * far / py))) + _EDGE_PX
        h_floor = top_h - ((spec.height if spec else height) - floor)
        ir1 = int(np.floor(min(src - h_floor * near / py, src - h_floor * far / py)))
        ir1 = min(ir1, rows[2])
        r1 = int(
            np.ceil(max(src - (h_floor - floor) * near / py, src - (h_floor - floor) * far / py))
        )
    # Top corner castings hang below the roof line at both ends.
    cw = int(np.ceil((_CASTING_M[0] + 0.03) / px))
    ch = int(np.ceil((_CASTING_M[1] + 0.03) / py))
    cb = r0 + ch
    if fan is not None and rows is not None:
        h_cast = top_h - _CASTING_M[1] - 0.03
        cb = int(np.ceil(max(src - h_cast * near / py, src - h_cast * far / py)))
    corners = ((c0, r0, c0 + cw, cb), (c1 - cw, r0, c1, cb))
    return ContainerGeometry((c0, r0, c1, r1), (ic0, ir0, ic1, ir1), spec, length, height, corners)
