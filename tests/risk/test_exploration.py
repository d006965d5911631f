"""Spending capacity: how many inspections, which ones the model picks, which ones explore."""

from __future__ import annotations

import numpy as np
import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.exploration import (
    STRATEGIES,
    Strategy,
    capacity,
    exploration_count,
    select,
    select_oracle,
)

SCORES = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.1, -0.2, -1.0, -3.0] * 10)  # 100 rows


def test_capacity_matches_top_share_rounding() -> None:
    assert capacity(100, 0.1) == 10
    assert capacity(575, 0.1) == 57
    assert capacity(5, 0.1) == 1  # at least one
    assert capacity(0, 0.1) == 0
    with pytest.raises(ValidationFailed, match="outside"):
        capacity(10, 0.0)


def test_exploration_rounds_half_up_so_small_weeks_still_explore() -> None:
    assert exploration_count(57, 0.1) == 6
    assert exploration_count(5, 0.1) == 1
    assert exploration_count(4, 0.1) == 0
    assert exploration_count(3, 1.0) == 3
    with pytest.raises(ValidationFailed, match="exploration share"):
        exploration_count(10, 1.5)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_spends_exactly_the_capacity(strategy: Strategy) -> None:
    chosen = select(SCORES, rate=0.2, explore=0.25, strategy=strategy, rng=np.random.default_rng(0))
    assert chosen.inspected.sum() == 20
    assert chosen.explored.sum() == 5
    assert not (chosen.explored & ~chosen.inspected).any()
    # The 15 exploited inspections are the 15 highest scores (ties by row order).
    exploited = chosen.inspected & ~chosen.explored
    top = np.argsort(-SCORES, kind="stable")[:15]
    assert set(np.flatnonzero(exploited)) == set(top.tolist())


def test_band_explores_just_below_the_cut_and_uncertain_near_one_half() -> None:
    rng = np.random.default_rng(1)
    band = select(SCORES, rate=0.2, explore=0.25, strategy="band", rng=rng)
    order = np.argsort(-SCORES, kind="stable")
    assert set(np.flatnonzero(band.explored)) <= set(order[15:35].tolist())
    uncertain = select(SCORES, rate=0.2, explore=0.25, strategy="uncertain", rng=rng)
    assert np.abs(SCORES[uncertain.explored]).max() <= 0.1  # log-odds nearest 0: p near 1/2


def test_random_exploration_reaches_the_lowest_scores_and_depends_on_the_seed() -> None:
    draws = [
        select(SCORES, rate=0.2, explore=0.5, strategy="random", rng=np.random.default_rng(s))
        for s in range(20)
    ]
    assert min(SCORES[d.explored].min() for d in draws) == -3.0
    assert len({tuple(np.flatnonzero(d.explored)) for d in draws}) > 1


def test_no_exploration_is_the_top_scores_and_unknown_strategy_is_refused() -> None:
    chosen = select(SCORES, rate=0.1, explore=0.0, strategy="random", rng=np.random.default_rng())
    assert SCORES[chosen.inspected].min() == 5.0 and not chosen.explored.any()
    with pytest.raises(ValidationFailed, match="unknown exploration strategy"):
        select(SCORES, rate=0.1, explore=0.1, strategy="greedy", rng=np.random.default_rng())  # type: ignore[arg-type]


def test_oracle_inspects_irregular_items_first() -> None:
    y = np.array([0, 1, 0, 0, 1, 0, 0, 0, 0, 0] * 3)
    chosen = select_oracle(y, rate=0.1)
    assert chosen.inspected.sum() == 3 and y[chosen.inspected].all()
    everything = select_oracle(y, rate=0.5)
    assert y[everything.inspected].sum() == y.sum()  # capacity above the frauds: all caught
