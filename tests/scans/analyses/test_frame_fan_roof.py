"""A fan beam whose source is close and high: the roof is read where the image shows it.

The side view is drawn here from the beam's geometry (a 20' box in 15 depth slices, each
magnified about the source row by its own distance from the source): roof sheet and top rails,
side walls, floor planks, bottom rails and cross-members, with air above the near wall's roof
edge. Its floor edges are read both ways (the roof edge found taken for the near wall's or the
far wall's); the far wall's reading keeps the higher floor edge, and took the roof with it to
75 rows above the image's top – which then shows air, where a roof up there would show its
walls.
"""

from __future__ import annotations

import numpy as np
import pytest

from smartcustoms.scans.analyses.frame import find_frame
from smartcustoms.scans.container_types import spec_for_iso_code
from smartcustoms.scans.model import BeamGeometry

_PX_MM = 5.0
_PY_MM = 5.6
_ROWS = 530
_SRC = 229.0  # the source's row: high, two fifths of the image from the top
_D_M = 8.0  # source to the container's centre plane


def _side_view(seed: int) -> tuple[np.ndarray, dict[str, float], tuple[int, int]]:
    spec = spec_for_iso_code("22G1")
    assert spec is not None
    half_w, height = spec.width / 2, spec.height
    py = _PY_MM / 1000
    margin = 80
    n = int(spec.length * 1000 / _PX_MM)
    cols = n + 2 * margin
    src_h = (_ROWS - _SRC) * py

    def row(h: float, w: float) -> float:
        return _SRC - (h - src_h) * (_D_M / (_D_M + w)) / py

    # The box stands so that the near wall's roof edge is 6 rows below the image's top.
    h0 = src_h + (_SRC - 6.0) * py * (_D_M - half_w) / _D_M - height
    r = np.arange(_ROWS)[:, None]
    c = np.arange(cols)[None, :]
    inside = (c >= margin) & (c < margin + n)
    img = np.zeros((_ROWS, cols), np.float32)
    for w in np.linspace(-half_w, half_w, 15):
        top, floor, under = row(h0 + height, w), row(h0 + 0.16, w), row(h0, w)
        img += 0.02 * ((r >= top) & (r < under) & inside)  # the side walls
        img += 0.12 * ((r >= top) & (r < top + 2) & inside)  # the roof sheet
        img += 0.12 * ((r >= floor) & (r < floor + 6) & inside)  # the floor's planks
    for w in (-half_w, half_w):
        top, floor, under = row(h0 + height, w), row(h0 + 0.16, w), row(h0, w)
        img += 1.5 * ((r >= top) & (r < top + 15) & inside)  # top rail
        img += 1.5 * ((r >= floor) & (r < under) & inside)  # bottom rail
    members = np.zeros(cols, bool)
    for u in np.arange(0.15, spec.length, 0.3):
        a = margin + int(u * 1000 / _PX_MM)
        members[a : a + 2] = True
    far_floor, near_under = row(h0 + 0.16, half_w), row(h0, -half_w)
    img += 2.0 * ((r >= far_floor) & (r < near_under) & members[None, :])
    img += np.random.default_rng(seed).normal(0, 0.01, img.shape).astype(np.float32)
    truth = {
        "near_roof": row(h0 + height, -half_w),
        "far_floor": far_floor,
        "near_floor": row(h0 + 0.16, -half_w),
    }
    return img, truth, (margin, margin + n)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_roof_in_the_image_is_not_placed_above_it(seed: int) -> None:
    img, truth, cols = _side_view(seed)
    assert float(np.median(img[0, cols[0] : cols[1]])) < 0.04  # air in the top row
    beam = BeamGeometry(source_row=_SRC, source_distance_mm=_D_M * 1000, projection="fan")
    frame = find_frame(img, _PX_MM, _PY_MM, spec_for_iso_code("22G1"), cols, beam)
    assert frame is not None and not frame.roof_clipped
    mid = frame.roof.c_mid
    # The near wall's roof edge, where the image shows it (it was put 75 rows above the top).
    assert float(frame.roof.at(mid)) == pytest.approx(truth["near_roof"], abs=3.0)
    # The floor kept is the higher edge, the far wall's: the load space ends above it.
    assert float(frame.floor.at(mid)) == pytest.approx(truth["far_floor"], abs=3.0)
    assert abs(frame.tilt_deg) < 0.1 and not frame.unsure, frame.reasons
