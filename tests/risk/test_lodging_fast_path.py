"""Lodging's fast paths give exactly what the plain paths give.

The history packs a few rows' group keys and looks them up in plain integers
(:func:`group_keys_few`, ``_GroupTable.lookup_few``) rather than numpy: the keys and the
counts must be those of the numpy path, unknown values included.

``RiskModel.score_and_explain`` explains a small batch's chosen rows in place (SHAP values for
those rows only, reasons read from the whole batch) instead of taking them out of the item table
first; above ``_IN_PLACE_ROWS`` items it takes them. Either way every explanation must equal,
float for float, the one :meth:`RiskModel.explain` gives for that row alone and the one it
gives within the whole batch, and the scores those of :meth:`RiskModel.predict_proba`: the
lanes, scores and reasons stored for a declaration depend on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcustoms.risk import RiskModel
from smartcustoms.risk import model as model_module
from smartcustoms.risk.features import history as history_module
from smartcustoms.risk.features.groups import GROUPS, KEY_BITS, KEY_FIELDS
from smartcustoms.risk.features.keys import UNKNOWN, group_keys, group_keys_few
from smartcustoms.risk.schema import PreparedItems, prepare_items
from tests.risk.conftest import item

# Values the history knows and values it has never seen, so reasons of every kind come up
# (history counts, "new" trader, unit value with and without peers, missing mass).
_VARIANTS = {
    "importer_id": [None, "NEVER-SEEN-IMPORTER"],
    "seller_id": [None, ""],
    "hs6": [None, "999999"],
    "net_mass": [None, 0.0, 0.001],
    "item_price": [None, 1.0, 1e9],
    "tax_rate": [None, 0.0],
}


@st.composite
def batches(draw: st.DrawFn, pool: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """A batch of 1-40 items drawn from ``pool`` (some fields changed), and the rows chosen
    for explaining: distinct, in any order, as lodging's "riskiest item of each declaration"."""
    n = draw(st.integers(1, 40))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=n, max_size=n))
    rows = []
    for p in picks:
        row = pool.iloc[p].to_dict()
        for field, choices in _VARIANTS.items():
            value = draw(st.sampled_from(choices))
            if value is not None:
                row[field] = value
        rows.append(row)
    chosen = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    return pd.DataFrame(rows).reset_index(drop=True), chosen


@pytest.fixture(scope="module")
def pool(kcs_test: tuple[pd.DataFrame, np.ndarray]) -> pd.DataFrame:
    return kcs_test[0].iloc[:400].reset_index(drop=True)


def _check(model: RiskModel, batch: pd.DataFrame, chosen: list[int]) -> None:
    probabilities, explained = model.score_and_explain(batch, lambda p: chosen, top=3)
    assert np.array_equal(probabilities, model.predict_proba(batch)[:, 1])
    assert list(explained) == chosen
    if len(batch) <= model_module._IN_PLACE_ROWS:
        # In place, the batch's contribution matrix keeps its shape: every float equals that
        # of explaining the whole batch.
        whole = model.explain(batch, top=3)
        for row in chosen:
            assert explained[row] == whole[row]  # frozen dataclasses: every float equal
    alone = model.explain(batch.iloc[chosen], top=3)
    for row, expected in zip(chosen, alone, strict=True):
        # Reason weights are summed column by column (explain.family_contributions), so a row
        # explained alone gives the very floats it gives in any batch.
        assert explained[row] == expected  # frozen dataclasses: every float exactly equal


def test_in_place_explanations_equal_those_of_each_row_alone(
    fitted: RiskModel, pool: pd.DataFrame
) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        batch, chosen = data.draw(batches(pool))
        assert len(batch) <= model_module._IN_PLACE_ROWS
        _check(fitted, batch, chosen)

    run()


def test_large_batches_take_their_rows_and_agree_too(fitted: RiskModel, pool: pd.DataFrame) -> None:
    batch = pool.iloc[: model_module._IN_PLACE_ROWS + 44].reset_index(drop=True)
    chosen = list(range(len(batch) - 1, -1, -7))  # unordered, spread over the batch
    _check(fitted, batch, chosen)


def test_both_paths_give_the_same_answer_on_one_batch(
    fitted: RiskModel, pool: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = pd.DataFrame(
        [item(declaration_id=f"D{i}", importer_id=f"IMP{i % 3}") for i in range(12)]
        + pool.iloc[:12].to_dict("records")
    )
    chosen = [5, 0, 23, 14]
    in_place = fitted.score_and_explain(batch, lambda p: chosen, top=3)
    monkeypatch.setattr(model_module, "_IN_PLACE_ROWS", 0)
    taken = fitted.score_and_explain(batch, lambda p: chosen, top=3)
    assert np.array_equal(in_place[0], taken[0])
    assert in_place[1] == taken[1]
    assert any(e.reasons for e in in_place[1].values())  # not vacuous: reasons were compared


@given(data=st.data(), n=st.integers(0, 12))
def test_few_keys_are_packed_like_the_numpy_keys(data: st.DataObject, n: int) -> None:
    codes = {
        field: data.draw(
            st.lists(st.integers(UNKNOWN, (1 << bits) - 1), min_size=n, max_size=n), label=field
        )
        for field, bits in KEY_BITS.items()
    }
    arrays = {field: np.asarray(values, dtype=np.int64) for field, values in codes.items()}
    for group in GROUPS:
        assert group_keys_few(codes, group) == group_keys(arrays, group).tolist(), group.name


def test_history_of_a_few_rows_equals_the_numpy_lookup(
    fitted: RiskModel, pool: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = pool.iloc[:30].copy()
    probe.loc[probe.index[::4], "importer_id"] = "NEVER-SEEN-IMPORTER"  # unknown keys too
    items: PreparedItems = prepare_items(probe.reset_index(drop=True))
    few = fitted.history_.stats(items)
    monkeypatch.setattr(history_module, "_SMALL_BATCH", 0)  # the hash-index path
    indexed = fitted.history_.stats(items)
    assert set(few.groups) == set(indexed.groups) == {g.name for g in GROUPS}
    for name, counts in indexed.groups.items():
        for field in ("seen", "inspected", "irregular", "last_day"):
            mine = getattr(few.groups[name], field)
            assert np.array_equal(mine, getattr(counts, field), equal_nan=True), (name, field)
    assert (few.groups["importer"].seen[::4] == 0).all()  # the unknown importer: never seen
    assert (few.groups["hs6"].seen > 0).sum() > 20  # and known values found (not vacuous)
    assert set(KEY_FIELDS) == set(KEY_BITS)
