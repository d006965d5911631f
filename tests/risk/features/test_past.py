"""The training features use only the past: no label of the same or a later day leaks in."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.risk.features.history import HistoryState
from smartcustoms.risk.features.matrix import FEATURE_NAMES, feature_matrix
from smartcustoms.risk.features.past import past_stats
from smartcustoms.risk.schema import PreparedItems, prepare_items
from tests.risk.conftest import item, items_frame


def features(items: PreparedItems | pd.DataFrame, y: np.ndarray) -> np.ndarray:
    prepared = prepare_items(items)
    stats, _ = past_stats(prepared, y)
    return feature_matrix(prepared, stats, 1.0)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


def col(name: str) -> int:
    return FEATURE_NAMES.index(name)


def test_counts_on_a_hand_made_history() -> None:
    frame = items_frame(
        item(date="2024-01-01", importer_id="A"),
        item(date="2024-01-02", importer_id="A"),
        item(date="2024-01-02", importer_id="A"),
        item(date="2024-01-05", importer_id="A"),
        item(date="2024-01-05", importer_id="B"),
    )
    X = features(frame, np.array([1, 0, 1, 0, 1]))
    assert X[:, col("importer_seen")].tolist() == [0, 1, 1, 3, 0]
    assert X[:, col("importer_inspected")].tolist() == [0, 1, 1, 3, 0]
    assert X[:, col("importer_days_since")][1:4].tolist() == [1, 1, 3]
    assert np.isnan(X[0, col("importer_days_since")])
    # Row 3 saw 2 irregular out of 3; the overall prior before day 5 is (2 + 1) / (3 + 2).
    prior = 3 / 5
    assert X[3, col("importer_rate")] == (2 + prior) / (3 + 1)
    # Nothing is known before the first day: the rate is the Laplace prior 1/2.
    assert X[0, col("importer_rate")] == 0.5


def test_a_later_label_never_changes_an_earlier_row(
    prepared_train: PreparedItems, kcs_train: tuple[pd.DataFrame, np.ndarray]
) -> None:
    _, y = kcs_train
    day = prepared_train.frame["day"].to_numpy()
    before = features(prepared_train, y)
    rng = np.random.default_rng(0)
    for cut in np.quantile(day, [0.2, 0.5, 0.8]).astype(int):
        changed = y.copy()
        later = day >= cut
        changed[later] = rng.integers(0, 2, later.sum())
        after = features(prepared_train, changed)
        assert same(before[~later], after[~later])
        assert not same(before[later], after[later])  # the check itself can fail


def test_training_features_equal_serving_features_on_the_same_past(
    prepared_train: PreparedItems, kcs_train: tuple[pd.DataFrame, np.ndarray]
) -> None:
    _, y = kcs_train
    day = prepared_train.frame["day"].to_numpy()
    train_path = features(prepared_train, y)
    for cut in np.unique(day)[[0, 10, 40]]:
        past = day < cut
        state = HistoryState.from_history(prepared_train.take(past), y[past])
        today = prepared_train.take(day == cut)
        serving = feature_matrix(today, state.stats(today), 1.0)
        assert same(train_path[day == cut], serving)


def test_row_order_does_not_matter(
    prepared_train: PreparedItems, kcs_train: tuple[pd.DataFrame, np.ndarray]
) -> None:
    _, y = kcs_train
    order = np.random.default_rng(1).permutation(len(y))
    shuffled = features(prepared_train.take(order), y[order])
    assert same(features(prepared_train, y)[order], shuffled)


def test_returned_state_equals_a_state_built_from_the_history(
    prepared_train: PreparedItems, kcs_train: tuple[pd.DataFrame, np.ndarray]
) -> None:
    _, y = kcs_train
    _, state = past_stats(prepared_train, y)
    fresh = HistoryState.from_history(prepared_train, y)
    probe = prepared_train.take(np.arange(0, len(y), 7))
    assert same(
        feature_matrix(probe, state.stats(probe), 1.0),
        feature_matrix(probe, fresh.stats(probe), 1.0),
    )


rows = st.lists(
    st.tuples(
        st.integers(0, 6),  # day
        st.sampled_from(["A", "B", "C"]),  # importer
        st.sampled_from(["850440", "850450", "010121"]),  # hs6
        st.sampled_from(["CN", "VN"]),  # origin
        st.integers(0, 1),  # label
        st.floats(-5, 1e4) | st.just(float("nan")),  # mass: zero, negative, missing
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(rows=rows, flip=st.integers(0, 24))
def test_flipping_one_label_only_moves_rows_of_later_days(
    rows: list[tuple[int, str, str, str, int, float]], flip: int
) -> None:
    frame = items_frame(
        *(
            item(date=f"2024-01-{d + 1:02d}", importer_id=imp, hs6=hs, origin=org, net_mass=mass)
            for d, imp, hs, org, _, mass in rows
        )
    )
    y = np.array([r[4] for r in rows])
    flip %= len(rows)
    y2 = y.copy()
    y2[flip] = 1 - y2[flip]
    a, b = features(frame, y), features(frame, y2)
    assert np.isfinite(a[~np.isnan(a)]).all()
    day = np.array([r[0] for r in rows])
    moved = ~np.all((a == b) | (np.isnan(a) & np.isnan(b)), axis=1)
    assert not moved[day <= day[flip]].any()
