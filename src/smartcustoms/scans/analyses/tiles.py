"""The load seen as tiles of about 13 × 14 cm: areal density and Z_eff of what fills each one.

Per tile, Z_eff comes from the tile's mean attenuations in both channels, after removing the
side walls' share (their steel would otherwise pull every thin tile towards "mixed"). Pixels
near edges are left out: where a carton's board or a gap is seen edge-on, blur and the log of
a blurred transmission bias the two channels differently and fake a higher Z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from smartcustoms.scans.analyses.imaging import Imaged

__all__ = ["TileMap", "tile_map"]

TILE_M = (0.13, 0.14)  # (along, up)
_LOADED = 15.0  # g/cm²: a pixel below this is mostly air
_EDGE = 0.06  # relative deviation from the local mean that marks an edge
_MIN_FILL = 0.3  # share of a tile's pixels that must be usable
_EDGE_SMOOTH_MM = 11.0
_EDGE_MARGIN_MM = 11.0
_AIR_MARGIN_MM = 16.0


@dataclass(frozen=True, eq=False)
class TileMap:
    """Tile features over the load space. Arrays are (tile rows, tile columns)."""

    areal_density: NDArray[np.float64]
    z_eff: NDArray[np.float64]
    alpha_high: NDArray[np.float64]  # wall-corrected mean α of usable pixels
    alpha_low: NDArray[np.float64]
    valid: NDArray[np.bool_]
    size_px: tuple[int, int]  # (columns, rows) per tile
    origin: tuple[int, int]  # (col, row) of tile (0, 0) in the image
    angle_deg: NDArray[np.float64]  # per tile row

    def bbox(self, rows: slice, cols: slice) -> tuple[int, int, int, int]:
        """Image box (col0, row0, col1, row1) of a block of tiles."""
        tx, ty = self.size_px
        c0, r0 = self.origin
        return (
            c0 + cols.start * tx,
            r0 + rows.start * ty,
            c0 + cols.stop * tx,
            r0 + rows.stop * ty,
        )


def tile_map(imaged: Imaged) -> TileMap:
    """Tile features of ``imaged``'s load space (dual-energy scans only)."""
    low_img = imaged.attenuation.low
    if low_img is None:
        raise ValueError("tile features need a dual-energy scan")
    c0, r0, c1, r1 = imaged.geometry.interior
    scan = imaged.scan
    tx = max(4, round(TILE_M[0] * 1000 / scan.pitch_x_mm))
    ty = max(4, round(TILE_M[1] * 1000 / scan.pitch_y_mm))
    lam = imaged.decomposition.areal_density[r0:r1, c0:c1]
    high = imaged.attenuation.high[r0:r1, c0:c1]
    low = low_img[r0:r1, c0:c1]
    nr, nc = lam.shape[0] // ty, lam.shape[1] // tx
    h, w = nr * ty, nc * tx
    # The walls' own attenuation, measured where nothing else is.
    walls = (lam > 1.0) & (lam < 6.0)
    if walls.mean() > 0.01:
        wall_high, wall_low = float(np.median(high[walls])), float(np.median(low[walls]))
    else:
        wall_high, wall_low = 0.11, 0.13
    local = ndimage.gaussian_filter(lam, 2.0)
    edge = ndimage.binary_dilation(
        np.abs(lam - local) > _EDGE * np.maximum(local, 10.0), iterations=2
    )
    usable = ndimage.binary_erosion(lam > _LOADED, iterations=3) & ~edge

    def tile_sum(a: NDArray[np.floating]) -> NDArray[np.float64]:
        return np.asarray(
            (a * usable)[:h, :w].reshape(nr, ty, nc, tx).sum(axis=(1, 3), dtype=np.float64)
        )

    count = tile_sum(np.ones_like(lam))
    valid = count >= _MIN_FILL * tx * ty
    n = np.maximum(count, 1.0)
    t_lam = tile_sum(lam) / n
    t_high = tile_sum(high) / n - wall_high
    t_low = tile_sum(low) / n - wall_low
    angles = scan.row_angles_deg()[r0 : r0 + h].reshape(nr, ty).mean(axis=1)
    ratio = t_high / np.maximum(t_low, 1e-3)
    z = imaged.decomposer.z_of(t_high.ravel(), ratio.ravel(), np.repeat(angles, nc)).reshape(nr, nc)
    # The end tiles overlap the corner posts' steel.
    valid[:, :1] = False
    valid[:, -1:] = False
    return TileMap(
        areal_density=t_lam,
        z_eff=z.astype(np.float64),
        alpha_high=t_high,
        alpha_low=t_low,
        valid=valid,
        size_px=(tx, ty),
        origin=(c0, r0),
        angle_deg=angles,
    )
