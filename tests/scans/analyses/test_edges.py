"""Edges that break the carton grid (a block of other goods among stacked cartons)."""

from __future__ import annotations

import numpy as np
import pytest

from smartcustoms.scans.analyses.edges import _MIN_BANDS, _best_runs, _edges, _off_spacing

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


def _tiers(high: np.ndarray, seed: int) -> tuple[float, int] | None:
    """The strongest top or bottom edge (the arrays transposed, as off_grid_edges reads tiers)."""
    rng = np.random.default_rng(seed)
    high = high + rng.normal(0.0, 0.01, high.shape)
    low = high / RATIO + rng.normal(0.0, 0.012, high.shape)
    found = _edges(
        high.T, low.T, (high * PER_ALPHA).T, PITCH_M, PITCH_M, TIER_ENDS, RATIO, periodic=True
    )
    return None if found is None else (found[0], found[1])


TIER_ENDS = (0.0, 0.2, 0.3, 0.3)


def test_a_tier_line_few_stacks_reach_is_still_the_grid() -> None:
    # Most stacks are four tiers high; three reach six. Between their fifth and sixth tiers two
    # have cartons of the same density (no step), the third a 6 % step: by its share of the
    # load that line is no grid line, but it lies where every other tier line's spacing puts it.
    rng = np.random.default_rng(5)
    cells = rng.normal(1.8, 0.2, size=(ROWS // TIER, COLS // SLOT))
    cells[1, 9], cells[1, 10], cells[1, 11] = cells[0, 9], cells[0, 10], cells[0, 11] * 1.06
    high = np.repeat(np.repeat(cells, TIER, axis=0), SLOT, axis=1)
    for j in range(SLOT, COLS, SLOT):
        high[:, j - GAP // 2 : j + GAP - GAP // 2] = 0.12
    short = np.ones(COLS, dtype=bool)
    short[9 * SLOT : 12 * SLOT] = False
    high[: 2 * TIER, short] = 0.0  # air above the short stacks
    found = _tiers(high, 1)
    assert found is None or found[0] < 15.0


def test_a_block_top_ten_centimetres_above_a_tier_line_is_an_edge() -> None:
    # 5 % denser than the cartons it replaced, across a column boundary (its sides on the
    # grid), its top 18 px (≈ 10 cm) above a tier line: left out with the grid's margin before.
    block = _cartons(np.random.default_rng(3))
    r0, r1, c0, c1 = 2 * TIER + 18, 4 * TIER, 5 * SLOT + 3, 7 * SLOT - 3
    block[r0:r1, c0:c1] *= 1.05
    found = _tiers(block, 2)
    assert found is not None and found[0] > 60.0
    assert abs(found[1] - r0) < 30


def test_best_runs_searches_only_where_steps_are_and_finds_the_same() -> None:
    # Sparse steps (most columns and bands zero, as outside the goods and on the grid): the
    # best run of every column is the one an exhaustive search finds.
    rng = np.random.default_rng(7)
    z = np.where(rng.random((40, 30)) < 0.15, rng.normal(0.0, 2.0, (40, 30)), 0.0)
    z[:6] = 0.0
    z[:, ::4] = 0.0
    # A single step: its best run is two bands long, one of them empty.
    z[:, 3] = np.where(np.arange(40) == 20, 5.0, 0.0)
    best, where = _best_runs(z)
    for j in range(z.shape[1]):
        runs = [
            (abs(z[i : i + n, j].sum()) / np.sqrt(n), i, i + n)
            for n in range(_MIN_BANDS, z.shape[0] + 1)
            for i in range(z.shape[0] - n + 1)
        ]
        top = max(r[0] for r in runs)
        assert best[j] == pytest.approx(top, abs=1e-12)
        if top > 0:
            first = min((r for r in runs if r[0] == top), key=lambda r: (r[2] - r[1], r[1]))
            assert tuple(where[j]) == first[1:]


def test_a_block_side_over_most_of_the_height_is_not_a_column_line() -> None:
    # A block 1.2 m long over five of the six tiers, 4 % denser than the cartons it replaced,
    # its sides half-way between column lines: by their share of the load's height they read
    # as grid lines, but no other line lies at the columns' spacing from them.
    block = _cartons(np.random.default_rng(3))
    r0, r1, c0, c1 = TIER // 2, 5 * TIER + TIER // 2, 5 * SLOT + SLOT // 2, 7 * SLOT + SLOT // 2
    block[r0:r1, c0:c1] *= 1.04
    rng = np.random.default_rng(6)
    high = block + rng.normal(0.0, 0.01, block.shape)
    low = high / RATIO + rng.normal(0.0, 0.012, block.shape)
    found = _edges(high, low, high * PER_ALPHA, PITCH_M, PITCH_M, ENDS, RATIO)
    assert found is not None and found[0] > 60.0
    assert min(abs(found[1] - c0), abs(found[1] - c1)) < 4


def test_column_lines_at_their_spacing_stay_the_grid() -> None:
    # Lines every 110 px, the two sides of one wide gap apart, and one line between two others
    # (a block's side): only that one is left out.
    grid = np.zeros(1000, dtype=bool)
    for c in (100, 210, 320, 430, 540, 650, 760):
        grid[c - 5 : c + 6] = True
    grid[319:322] = False  # the gap at 320 read as two lines
    expected = grid.copy()
    grid[595:606] = True
    assert (_off_spacing(grid, 36, 270, 10) == expected).all()
