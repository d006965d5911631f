from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.features.history import HistoryState, outcome_array
from smartcustoms.risk.features.matrix import feature_matrix
from smartcustoms.risk.schema import PreparedItems, prepare_items
from tests.risk.conftest import item, items_frame


def counts(state: HistoryState, group: str, **values: str) -> tuple[float, float, float, float]:
    c = state.counts(group, values)
    return float(c.seen[0]), float(c.inspected[0]), float(c.irregular[0]), float(c.last_day[0])


def test_observe_then_record_counts_each_declaration_once() -> None:
    state = HistoryState()
    batch = items_frame(item(date="2024-01-01"), item(date="2024-01-03"))
    state.observe(batch)
    assert counts(state, "hs6_origin", hs6="850440", origin="CN")[:3] == (2, 0, 0)
    state.record(batch, [1, np.nan])
    seen, inspected, irregular, last = counts(state, "hs6_origin", hs6="850440", origin="CN")
    assert (seen, inspected, irregular) == (2, 1, 1)
    assert last == (pd.Timestamp("2024-01-03") - pd.Timestamp("1970-01-01")).days
    assert (state.total_seen, state.total_inspected, state.total_irregular) == (2, 1, 1)


def test_a_late_result_does_not_move_last_seen() -> None:
    state = HistoryState.from_history(items_frame(item(date="2024-01-05")))
    state.record(items_frame(item(date="2024-03-01")), [0])
    assert (
        counts(state, "importer", importer_id="IMP1")[3]
        == (pd.Timestamp("2024-01-05") - pd.Timestamp("1970-01-01")).days
    )


def test_unknown_values_have_no_history_and_the_prior_rate() -> None:
    state = HistoryState.from_history(items_frame(item(), item()), [1, 0])
    new = prepare_items(items_frame(item(importer_id="NEVER-SEEN")))
    stats = state.stats(new)
    assert stats.groups["importer"].seen[0] == 0
    assert np.isnan(stats.groups["importer"].last_day[0])
    X = feature_matrix(new, stats, 1.0)
    assert X[0, 0] == pytest.approx((1 + 1) / (2 + 2))  # importer_rate: the Laplace prior


def test_stats_do_not_change_the_state() -> None:
    state = HistoryState.from_history(items_frame(item()), [1])
    state.stats(items_frame(item(importer_id="X", hs6="010121")))
    assert len(state.vocabularies["importer_id"]) == 1


def test_round_trip_through_bytes(
    prepared_train: PreparedItems, kcs_train: tuple[pd.DataFrame, np.ndarray]
) -> None:
    state = HistoryState.from_history(prepared_train, kcs_train[1])
    loaded = HistoryState.from_bytes(state.to_bytes())
    probe = prepared_train.take(np.arange(0, len(prepared_train), 11))
    a = feature_matrix(probe, state.stats(probe), 1.0)
    b = feature_matrix(probe, loaded.stats(probe), 1.0)
    assert np.array_equal(a, b, equal_nan=True)
    # And the loaded state keeps learning like the original.
    more = prepare_items(items_frame(item(importer_id="NEW")))
    state.update(more, [1])
    loaded.update(more, [1])
    assert np.array_equal(
        feature_matrix(more, state.stats(more), 1.0),
        feature_matrix(more, loaded.stats(more), 1.0),
        equal_nan=True,
    )


def test_empty_state_round_trips_and_scores() -> None:
    loaded = HistoryState.from_bytes(HistoryState().to_bytes())
    assert loaded.stats(items_frame(item())).groups["hs6"].seen[0] == 0


@pytest.mark.parametrize("data", [b"", b"not an npz", b"PK\x03\x04garbage"])
def test_garbage_is_refused_with_a_typed_error(data: bytes) -> None:
    with pytest.raises(ValidationFailed, match="history"):
        HistoryState.from_bytes(data)


def test_outcomes_must_be_zero_one_or_missing() -> None:
    assert np.isnan(outcome_array([1, 0, None], 3)[2])
    with pytest.raises(ValidationFailed, match="row 1"):
        outcome_array([1, 2], 2)
    with pytest.raises(ValidationFailed, match="2 outcomes for 3 items"):
        outcome_array([1, 0], 3)
    with pytest.raises(ValidationFailed):
        outcome_array([np.inf], 1)


def test_unknown_group_is_named() -> None:
    with pytest.raises(ValidationFailed, match="unknown history group"):
        HistoryState().counts("hs8", {})
