"""Where the container and its load space are in the image.

The container is the block of columns and rows that attenuate (its side walls alone give
α ≈ 0.1 everywhere inside its outline). Its type – from the ISO 6346 size-type code, or
failing that from the outline's size – says where the end frames, floor and roof lie, and so
where the load space is. Containers are assumed level, as the simulator scans them.
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
) -> ContainerGeometry:
    """The container's outline and load space in a side-view image."""
    sees = np.asarray(alpha_high) > _SEES_SOMETHING
    c0, c1 = _span(sees.mean(axis=0), 0.3)
    if c1 - c0 < 10:
        raise ScanInputError(
            "no container in the image: nothing attenuates the beam", field="image"
        )
    # Top and bottom are the roof, rails and cross members: dense. A threshold well above what
    # detector blur spills into the next row keeps the outline to the rows the container is in.
    r0, r1 = _span(np.median(np.asarray(alpha_high)[:, c0:c1], axis=1), _DENSE_EDGE)
    if r1 - r0 < 10:
        raise ScanInputError("no container in the image: too few rows attenuate", field="image")
    length = (c1 - c0) * pitch_x_mm / 1000
    height = (r1 - r0) * pitch_y_mm / 1000
    spec = spec_for_iso_code(iso_code) or spec_for_length(length, height)
    px, py = pitch_x_mm / 1000, pitch_y_mm / 1000
    if spec is not None:
        end = (spec.length - spec.inner_length) / 2
        floor = spec.floor_height
        roof = max(spec.height - spec.floor_height - spec.inner_height, _TOP_RAIL_M)
    else:
        end, floor, roof = 0.1, 0.17, _TOP_RAIL_M
    ic0 = c0 + round(end / px) + _EDGE_PX
    ic1 = c1 - round(end / px) - _EDGE_PX
    ir1 = int(np.floor(r1 - floor / py))  # the row holding the floor's top edge is excluded
    ir0 = r0 + round(roof / py) + _EDGE_PX
    # Top corner castings hang below the roof line at both ends.
    cw = int(np.ceil((_CASTING_M[0] + 0.03) / px))
    ch = int(np.ceil((_CASTING_M[1] + 0.03) / py))
    corners = ((c0, r0, c0 + cw, r0 + ch), (c1 - cw, r0, c1, r0 + ch))
    return ContainerGeometry((c0, r0, c1, r1), (ic0, ir0, ic1, ir1), spec, length, height, corners)
