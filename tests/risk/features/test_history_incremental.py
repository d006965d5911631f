"""The history kept incrementally equals the history rebuilt from everything at once.

A catch-up adds only its batch to the history's tables; whatever the batches and the order in
which inspection results arrive, the state must be the one :meth:`HistoryState.from_history`
builds from the whole table (the leak-free training pass returns that same state).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.risk.features.history import HistoryState
from smartcustoms.risk.features.past import past_stats
from smartcustoms.risk.schema import prepare_items
from tests.risk.conftest import item

VALUES = {
    "importer_id": ["I1", "I2", "I3", "I4"],
    "declarant_id": ["D1", "D2"],
    "seller_id": ["S1", "S2", "S3"],
    "courier_id": [None, "C1"],
    "hs6": ["850440", "010121", "610910", "850410"],
    "origin": ["CN", "VN", "FR"],
    "tax_type": ["A", "FCN1"],
    "office": ["30", "40"],
}


@st.composite
def histories(draw: st.DrawFn) -> tuple[pd.DataFrame, np.ndarray, list[int], list[int]]:
    """Items, their outcomes (NaN: not inspected), cut points into observed batches, and the
    order in which the known outcomes are recorded."""
    n = draw(st.integers(1, 40))
    rows = []
    for _ in range(n):
        fields = {f: draw(st.sampled_from(v)) for f, v in VALUES.items()}
        fields["date"] = f"2024-01-{draw(st.integers(1, 28)):02d}"
        fields["net_mass"] = draw(st.sampled_from([0.0, 1.0, 12.5, 300.0]))
        fields["item_price"] = draw(st.sampled_from([10.0, 99.9, 5000.0]))
        rows.append(item(**fields))
    # 0 compliant, 1 irregular, 2 not inspected (NaN: hypothesis replays integers, not NaNs).
    drawn = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    outcomes = np.array([np.nan if o == 2 else float(o) for o in drawn])
    cuts = sorted(set(draw(st.lists(st.integers(1, n), max_size=6))) | {n})
    known = [int(i) for i in np.flatnonzero(np.isfinite(outcomes))]
    recorded = draw(st.permutations(known))
    return pd.DataFrame(rows), outcomes, cuts, list(recorded)


def _tables(state: HistoryState) -> dict[str, np.ndarray]:
    """Each group's rows (seen, inspected, irregular, last day) in a canonical order, and the
    totals: what the state holds, whatever codes its vocabularies gave (codes follow the order
    values first came in, which batching may change)."""
    with np.load(io.BytesIO(state.to_bytes()), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    out = {"meta": arrays["meta"]}
    for group in {k.split("/")[1] for k in arrays if k.startswith("group/")}:
        rows = np.column_stack(
            [arrays[f"group/{group}/{a}"] for a in ("seen", "inspected", "irregular", "last_day")]
        )
        out[group] = rows[np.lexsort(rows.T[::-1])] if len(rows) else rows
    peers = arrays["peers/values"]
    out["peers"] = np.sort(peers)
    return out


@settings(max_examples=30, deadline=None)
@given(histories())
def test_batches_give_the_state_a_rebuild_gives(
    history: tuple[pd.DataFrame, np.ndarray, list[int], list[int]],
) -> None:
    frame, outcomes, cuts, recorded = history
    incremental = HistoryState()
    start = 0
    for cut in cuts:  # declarations lodged batch by batch
        incremental.observe(frame.iloc[start:cut])
        start = cut
    for i in range(0, len(recorded), 3):  # results come back later, a few at a time
        rows = recorded[i : i + 3]
        incremental.record(frame.iloc[rows], outcomes[rows])

    rebuilt = HistoryState.from_history(frame, outcomes)
    trained = past_stats(frame, outcomes)[1]
    got, want, training = _tables(incremental), _tables(rebuilt), _tables(trained)
    assert got.keys() == want.keys() == training.keys()
    for name, table in want.items():
        assert np.array_equal(got[name], table, equal_nan=table.dtype.kind == "f"), name
        assert np.array_equal(training[name], table, equal_nan=table.dtype.kind == "f"), name

    probe = prepare_items(frame)
    a, b = incremental.stats(probe), rebuilt.stats(probe)
    for group, counts in b.groups.items():
        for field in ("seen", "inspected", "irregular", "last_day"):
            assert np.array_equal(
                getattr(a.groups[group], field), getattr(counts, field), equal_nan=True
            ), (group, field)
    for mine, theirs in zip(a.unit_value_peers, b.unit_value_peers, strict=True):
        assert np.array_equal(mine, theirs, equal_nan=True)


def test_a_catch_up_touches_only_its_batch_keys() -> None:
    """Large lookups (a hash index) and small ones (a dict) agree after in-place updates."""
    state = HistoryState.from_history(
        pd.DataFrame([item(importer_id=f"I{i}", date="2024-01-02") for i in range(300)])
    )
    state.observe(pd.DataFrame([item(importer_id="I7", date="2024-01-05")]))
    state.record(pd.DataFrame([item(importer_id="I7")]), [1])
    big = prepare_items(pd.DataFrame([item(importer_id=f"I{i}") for i in range(301)]))
    small = prepare_items(pd.DataFrame([item(importer_id="I7"), item(importer_id="I300")]))
    large, few = state.stats(big).groups["importer"], state.stats(small).groups["importer"]
    assert (large.seen[7], large.inspected[7], large.irregular[7]) == (2, 1, 1)
    assert (few.seen[0], few.inspected[0], few.irregular[0]) == (2, 1, 1)
    assert large.seen[300] == few.seen[1] == 0 and np.isnan(few.last_day[1])
    assert large.last_day[7] == few.last_day[0] == large.last_day[8] + 3
