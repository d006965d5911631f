from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.risk.features.unit_value import (
    MIN_PEERS,
    SCALE_FLOOR,
    UnitValuePeers,
    past_peer_summary,
    robust_z,
)


def test_robust_z_against_known_quartiles() -> None:
    n, q1, med, q3 = (np.array([10.0]), np.array([1.0]), np.array([2.0]), np.array([3.349]))
    z = robust_z(np.array([4.0]), (n, q1, med, q3))
    assert z[0] == np.float64(2.0 / ((3.349 - 1.0) / 1.349))


def test_identical_peers_give_a_finite_z_and_few_peers_none() -> None:
    same = (np.array([5.0, MIN_PEERS - 1.0]), np.zeros(2), np.zeros(2), np.zeros(2))
    z = robust_z(np.array([1.0, 1.0]), same)
    assert z[0] == 1.0 / SCALE_FLOOR
    assert np.isnan(z[1])
    assert np.isnan(robust_z(np.array([np.nan]), same)[:1])[0]


@settings(max_examples=30, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 5), st.floats(-3, 3) | st.just(float("nan"))),
        min_size=1,
        max_size=40,
    )
)
def test_past_summary_equals_numpy_on_the_earlier_days(data: list[tuple[int, int, float]]) -> None:
    codes = np.array([d[0] for d in data])
    day = np.array([d[1] for d in data])
    values = np.array([d[2] for d in data])
    n, q1, med, q3 = past_peer_summary(codes, day, values)
    for i in range(len(data)):
        peers = values[(codes == codes[i]) & (day < day[i]) & np.isfinite(values)]
        assert n[i] == len(peers)
        if len(peers):
            expect = np.quantile(peers, [0.25, 0.5, 0.75])
            assert np.allclose([q1[i], med[i], q3[i]], expect, rtol=0, atol=1e-12)


def test_peers_state_matches_the_training_pass_and_round_trips() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 4, 200)
    values = rng.normal(size=200)
    values[::17] = np.nan
    peers = UnitValuePeers()
    peers.add(codes[:120], values[:120])
    peers.add(codes[120:], values[120:])
    later = np.arange(4)
    summary = peers.lookup(later)
    codes_all = np.r_[codes, later]
    day = np.r_[np.zeros(200, dtype=int), np.ones(4, dtype=int)]
    reference = past_peer_summary(codes_all, day, np.r_[values, np.full(4, np.nan)])
    for got, want in zip(summary, reference, strict=True):
        assert np.array_equal(got, want[200:], equal_nan=True)
    loaded = UnitValuePeers.from_arrays(peers.to_arrays())
    for got, want in zip(loaded.lookup(later), summary, strict=True):
        assert np.array_equal(got, want, equal_nan=True)
    n, *_ = peers.lookup(np.array([-1, 99]))
    assert n.tolist() == [0, 0]
