"""Edges that break the carton grid (a block of other goods among stacked cartons)."""

from __future__ import annotations

import numpy as np

from smartcustoms.scans.analyses.edges import _edges

PITCH_M = 0.0055
SLOT, TIER, GAP = 110, 72, 3  # px: 0.6 m carton columns, 0.4 m tiers, a gap between columns
ROWS, COLS = 6 * TIER, 16 * SLOT
RATIO = 0.85  # the goods' high/low attenuation ratio
PER_ALPHA = 27.0  # g/cm² per unit of high-energy α for these goods
ENDS = (0.3, 0.3, 0.0, 0.2)


def _cartons(rng: np.random.Generator) -> np.ndarray:
    """High-energy α of stacked cartons: each cell of the grid its own density (±11 %), gaps
    between the carton columns, noise."""
    cells = rng.normal(1.8, 0.2, size=(ROWS // TIER, COLS // SLOT))
    high = np.repeat(np.repeat(cells, TIER, axis=0), SLOT, axis=1)
    for j in range(SLOT, COLS, SLOT):
        high[:, j - GAP // 2 : j + GAP - GAP // 2] = 0.12  # the walls alone
    return high


def _run(high: np.ndarray, low: np.ndarray, rng: np.random.Generator) -> float:
    high = high + rng.normal(0.0, 0.01, high.shape)
    low = low + rng.normal(0.0, 0.012, low.shape)
    found = _edges(high, low, high * PER_ALPHA, PITCH_M, PITCH_M, ENDS, RATIO)
    return 0.0 if found is None else found[0]


def test_a_block_whose_sides_break_the_grid_stands_out() -> None:
    rng = np.random.default_rng(3)
    honest = _cartons(rng)
    # A block 0.9 m long and 0.75 m high, 4 % denser than the cartons it replaced, its sides
    # and top inside the carton columns and tiers.
    block = honest.copy()
    r0, r1, c0, c1 = 2 * TIER + 20, 4 * TIER + 10, 5 * SLOT + 30, 6 * SLOT + 85
    block[r0:r1, c0:c1] *= 1.04
    scores = [_run(a, a / RATIO, np.random.default_rng(k)) for k, a in enumerate((honest, block))]
    assert scores[0] < 15.0  # the grid's own steps and gaps are not edges
    assert scores[1] > 60.0
    found = _edges(block, block / RATIO, block * PER_ALPHA, PITCH_M, PITCH_M, ENDS, RATIO)
    assert found is not None
    _, column, (row0, row1), step, _ = found
    assert column in range(c0 - 3, c0 + 4) or column in range(c1 - 3, c1 + 4)
    assert row0 < r1 and row1 > r0
    assert 0.05 < abs(step) < 0.1  # 4 % of the cartons' 1.8


def test_a_steel_patch_on_a_wall_is_not_an_edge_of_the_goods() -> None:
    # A 2 mm steel plate adds as much high-energy attenuation as the block's side, but with
    # steel's ratio of the two energies, not the goods'.
    rng = np.random.default_rng(4)
    high = _cartons(rng)
    low = high / RATIO
    r0, r1, c0, c1 = 2 * TIER + 20, 3 * TIER + 30, 5 * SLOT + 30, 5 * SLOT + 90
    high[r0:r1, c0:c1] += 0.07
    low[r0:r1, c0:c1] += 0.07 / 0.95
    found = _edges(high, low, high * PER_ALPHA, PITCH_M, PITCH_M, ENDS, RATIO)
    assert found is None or found[0] < 15.0
    # The same step with the goods' own ratio is an edge.
    low[r0:r1, c0:c1] += 0.07 / RATIO - 0.07 / 0.95
    found = _edges(high, low, high * PER_ALPHA, PITCH_M, PITCH_M, ENDS, RATIO)
    assert found is not None and found[0] > 60.0
