"""Lodging's item table without pandas gives exactly what the pandas path gives.

:func:`prepare_rows` (a lodging's few item rows, typed without building a DataFrame) must give
the table, the factor codes and the errors of ``prepare_items(pd.DataFrame(rows))``, hostile
and missing values included; and a declaration assessed from it must get the same scores,
explanations, rule hits and decisions as one assessed from the pandas table
(:func:`prepared_items` against ``prepare_items(items_frame(...))``), over a few hundred
generated declarations.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk import RiskModel
from smartcustoms.risk.card import save_model
from smartcustoms.risk.items import ITEM_COLUMNS, items_frame, prepared_items
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.registry import ActiveModel
from smartcustoms.risk.rulebook import ActiveRule
from smartcustoms.risk.rules.expression import parse
from smartcustoms.risk.schema import (
    ITEM_FIELDS,
    PreparedItems,
    _plain_row,
    prepare_items,
    prepare_rows,
)
from smartcustoms.risk.selectivity import Policy, decide, riskiest_items

_TEXT = [f.name for f in ITEM_FIELDS if f.kind == "text"]
_NUMBER = [f.name for f in ITEM_FIELDS if f.kind == "number"]


class _Str(str):
    """A str subclass: not the plain type the fast path reads itself."""


# Text values: ordinary, padded (merged once stripped), empty, missing, and types the fast path
# leaves to pandas (ints, floats, bools, a str subclass, big ints that a float would round).
_TEXT_VALUES: list[object] = [
    "A", "A ", " A", "B", "", "   ", None, "30", "\ud800", "é", "nan",
    30, 30.0, float("nan"), True, 2**60 + 1, _Str("A"),
]  # fmt: skip
_HS_VALUES: list[object] = [
    "850440", "8504.40", "85044010", "10121", "0101 21", "12345", "ABCDEF", "", None, 850440,
]  # fmt: skip
_DATE_VALUES: list[object] = [
    "2024-01-10", "2024-01-11", "2024-01-10T23:30:00+05:00", "2024-13-01", "", None,
    datetime(2024, 1, 12, tzinfo=UTC), 20240110,
]  # fmt: skip
_NUMBER_VALUES: list[object] = [
    1.0, 0.0, -3.5, 1e-300, 1e308, float("inf"), float("-inf"), float("nan"), None, 7, "8.5",
    "x", True,
]  # fmt: skip


@st.composite
def _rows(draw: st.DrawFn) -> list[dict[str, object]]:
    """1-40 item rows; most of them plain (the fast path), some hostile."""
    plain = draw(st.booleans())
    n = draw(st.integers(1, 40))
    rows = []
    for _ in range(n):
        row: dict[str, object] = {}
        for name in ITEM_COLUMNS:
            if name == "hs6":
                pool = _HS_VALUES
            elif name == "date":
                pool = _DATE_VALUES
            elif name in _NUMBER:
                pool = _NUMBER_VALUES
            else:
                pool = _TEXT_VALUES
            if plain:  # only the types the fast path takes, hostile values kept
                kind = float if name in _NUMBER else str
                pool = [v for v in pool if type(v) is kind or (v is None and name != "date")]
            if draw(st.integers(0, 9)) == 0 and name not in ("date", "hs6"):
                continue  # the key is absent: a missing value
            row[name] = draw(st.sampled_from(pool))
        rows.append(row)
    return rows


def _outcome(
    prepare: Callable[[], PreparedItems],
) -> tuple[str, PreparedItems | tuple[str, object]]:
    try:
        return "ok", prepare()
    except ValidationFailed as error:
        return "error", (str(error), error.details)


def _assert_same_table(fast: PreparedItems, slow: PreparedItems) -> None:
    assert len(fast) == len(slow)
    assert list(fast.factors) == list(slow.factors)
    for name, (codes, uniques) in slow.factors.items():
        fast_codes, fast_uniques = fast.factors[name]
        assert np.array_equal(fast_codes, codes), name
        assert fast_uniques.tolist() == uniques.tolist(), name
        assert [type(u) for u in fast_uniques] == [type(u) for u in uniques], name
    assert list(fast.frame.columns) == list(slow.frame.columns)
    for name in slow.frame.columns:
        a, b = fast.column(name), slow.column(name)
        assert a.dtype == b.dtype, name
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), name
        else:
            assert a.tolist() == b.tolist(), name
    pd.testing.assert_frame_equal(fast.frame, slow.frame)


def test_prepare_rows_equals_the_dataframe_path() -> None:
    fast_paths = 0

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=_rows())
    def run(rows: list[dict[str, object]]) -> None:
        nonlocal fast_paths
        fast_paths += all(_plain_row(row) for row in rows)
        fast = _outcome(lambda: prepare_rows(rows))
        slow = _outcome(lambda: prepare_items(pd.DataFrame(rows, columns=ITEM_COLUMNS)))
        assert fast[0] == slow[0], (fast, slow)
        if fast[0] == "error":
            assert fast[1] == slow[1]
        else:
            assert isinstance(fast[1], PreparedItems) and isinstance(slow[1], PreparedItems)
            _assert_same_table(fast[1], slow[1])

    run()
    assert fast_paths >= 100  # the plain path was exercised, not only the fallback


def test_large_and_empty_batches_take_the_dataframe_path() -> None:
    base = {
        "declaration_id": "1", "date": "2024-01-10", "hs6": "850440", "origin": "CN",
        "net_mass": 10.0, "item_price": 100.0, "tax_rate": 8.0,
    }  # fmt: skip
    rows = [dict(base, importer_id=f"I{k % 7}") for k in range(300)]
    _assert_same_table(prepare_rows(rows), prepare_items(pd.DataFrame(rows, columns=ITEM_COLUMNS)))
    empty = prepare_rows([])
    assert len(empty) == 0 and list(empty.frame.columns) == list(
        prepare_items(pd.DataFrame([], columns=ITEM_COLUMNS)).frame.columns
    )


def test_prepared_items_take_keeps_rows_and_index() -> None:
    rows = [
        {"declaration_id": str(k), "date": "2024-01-10", "hs6": "850440", "net_mass": float(k)}
        for k in range(5)
    ]
    fast, slow = prepare_rows(rows), prepare_items(pd.DataFrame(rows, columns=ITEM_COLUMNS))
    picked = np.array([3, 1])
    pd.testing.assert_frame_equal(fast.take(picked).frame, slow.frame.iloc[picked])
    mask = np.array([True, False, True, False, True])
    pd.testing.assert_frame_equal(fast.take(mask).frame, slow.frame.iloc[mask])


# -- whole declarations: the lodging path against the pandas path --------------------------
_WHEN = datetime(2020, 3, 15, 9, 0, tzinfo=UTC)


def _document(rng: random.Random, pool: pd.DataFrame) -> dict[str, Any]:
    """A stored declaration document built from KCS rows, with missing and odd values."""
    rows = [pool.iloc[rng.randrange(len(pool))] for _ in range(rng.randint(1, 12))]
    head = rows[0]

    def maybe(value: object) -> object:
        return rng.choice([value, value, value, None, "", f" {value} "])

    document: dict[str, Any] = {
        "office_of_declaration": maybe(str(head["office"])),
        "type_code": "IM",
        "export_country": maybe(head["departure"]),
        "border_transport_mode": str(head["transport_mode"]),
        "declarant": {"id": str(head["declarant_id"])},
        "importer": rng.choice([{"id": str(head["importer_id"])}, {"id": "NEW-IMPORTER"}, {}]),
        "national_fields": rng.choice(
            [
                {
                    "kcs_process_type": str(head["process_type"]),
                    "kcs_import_type": str(head["import_type"]),
                    "kcs_import_use": str(head["import_use"]),
                    "kcs_payment_type": maybe(str(head["payment_type"])),
                },
                {},
                None,
            ]
        ),
        "items": [],
    }
    if rng.random() < 0.7:
        document["seller"] = {"id": str(head["seller_id"])}
    elif rng.random() < 0.5:
        document["exporter"] = {"id": "EXP-1"}
    if rng.random() < 0.3:
        document["agent"] = {"id": str(head["courier_id"])}
    if rng.random() < 0.5:
        day = rng.randint(0, 40)
        document["issue_datetime"] = (
            _WHEN + timedelta(days=day, hours=rng.randint(-12, 12))
        ).isoformat()
    for k, row in enumerate(rows):
        duty: dict[str, Any] = {"type": str(row["tax_type"])}
        if rng.random() < 0.9:
            duty["rate"] = rng.choice([str(row["tax_rate"]), "0", "8", "0.5"])
        item: dict[str, Any] = {
            "sequence": k + 1,
            "hs_code": rng.choice([str(row["hs6"]).zfill(6), "999999", "850440"]),
            "origin_country": maybe(str(row["origin"])) or "CN",
            "net_mass_kg": rng.choice([str(row["net_mass"]), "0", "0.001", "1e6"]),
            "customs_value": {
                "value": rng.choice([str(row["item_price"]), "1", "0", "1e9"]),
                "currency": "USD",
            },
        }
        if rng.random() < 0.8:
            item["duties"] = [duty]
        if rng.random() < 0.5:
            item["origin_type"] = rng.choice(["Y", "N", "", None])
        document["items"].append(item)
    return document


@pytest.fixture(scope="module")
def documents(kcs_test: tuple[pd.DataFrame, np.ndarray]) -> list[dict[str, Any]]:
    rng = random.Random(20261207)
    pool = kcs_test[0].iloc[:500].reset_index(drop=True)
    return [_document(rng, pool) for _ in range(300)]


_RULES = [
    ActiveRule(
        rule_id=k,
        name=f"rule {k}",
        version=1,
        expression=parse(text),
        lane=lane,
        reason=f"reason {k}",
        instructions="",
    )
    for k, (text, lane) in enumerate(
        [
            ('hs6 startswith "85" and origin in ("CN", "VN")', Lane.YELLOW),
            ("tax_rate >= 8 or unit_value < 1", Lane.SCAN),
            ('not importer_id = "" and date >= "2020-03-20"', Lane.BLUE),
            ('seller_id = "" or origin = departure', Lane.RED),
            ('payment_type not in ("11") and revenue_at_risk > 100', Lane.YELLOW),
        ],
        start=1,
    )
]


def _assess(
    active: ActiveModel, items: PreparedItems, declaration_ids: list[int]
) -> tuple[np.ndarray, dict[int, Any], dict[str, np.ndarray], list[Any]]:
    """What ``assess`` computes from an item table, without the database."""
    model = active.model
    item_declarations = [int(d) for d in items.column("declaration_id")]
    rule_hits = {rule.ref: rule.expression.evaluate(items) for rule in _RULES}
    probabilities, explained = model.score_and_explain(
        items, lambda p: riskiest_items(item_declarations, p), top=3
    )
    explanations = {row: e.to_dict() for row, e in explained.items()}
    decisions = decide(
        declaration_ids,
        item_declarations,
        policy=Policy(0.1, 0.02, 0.02),
        secret="test-secret",
        rules=_RULES,
        rule_hits=rule_hits,
        probabilities=probabilities,
        explanations=explanations,
        active=active,
        cut=float(np.quantile(probabilities, 0.9)),
        lower_cut=float(np.quantile(probabilities, 0.8)),
    )
    return probabilities, explanations, rule_hits, decisions


def test_declarations_assessed_from_either_table_get_the_same_results(
    fitted: RiskModel, documents: list[dict[str, Any]]
) -> None:
    """Each of 300 generated declarations, assessed alone as a lodging is, and in batches of
    up to 8: the same probabilities (bit for bit), explanations, rule hits and decisions."""
    batches: list[list[int]] = [[k] for k in range(len(documents))]
    rng = random.Random(7)
    start = 0
    while start < len(documents):
        size = rng.randint(2, 8)
        batches.append(list(range(start, min(start + size, len(documents)))))
        start += size
    _, card = save_model(fitted, version="test-model")
    active = ActiveModel(card.version, fitted, card, declarations_seen=0, inspections_seen=0)
    lodged = 0
    for batch in batches:
        triples = [(1000 + k, documents[k], _WHEN) for k in batch]
        fast = prepared_items(triples)
        slow = prepare_items(items_frame(triples))
        _assert_same_table(fast, slow)
        ids = [1000 + k for k in batch]
        p_fast, e_fast, r_fast, d_fast = _assess(active, fast, ids)
        p_slow, e_slow, r_slow, d_slow = _assess(active, slow, ids)
        assert np.array_equal(p_fast, p_slow)
        assert e_fast == e_slow
        assert list(r_fast) == list(r_slow)
        assert all(np.array_equal(r_fast[ref], r_slow[ref]) for ref in r_slow)
        assert d_fast == d_slow  # lane, score, threshold, rules, reasons
        lodged += len(batch)
    assert lodged == 2 * len(documents)


def test_a_bad_document_fails_the_same_way_on_both_paths(
    documents: list[dict[str, Any]],
) -> None:
    bad_hs = dict(documents[0], items=[dict(documents[0]["items"][0], hs_code="12AB")])
    bad_day = dict(documents[1], issue_datetime=None)
    triples_list: list[list[tuple[int, Mapping[str, Any], datetime]]] = [
        [(1, bad_hs, _WHEN)],
        [(2, documents[2], _WHEN), (3, bad_hs, _WHEN)],
        [(4, bad_day, datetime(2020, 3, 1))],  # no issue date: the naive receipt time
    ]
    for triples in triples_list:
        fast = _outcome(lambda t=triples: prepared_items(t))  # type: ignore[misc]
        slow = _outcome(lambda t=triples: prepare_items(items_frame(t)))  # type: ignore[misc]
        assert fast[0] == slow[0]
        if fast[0] == "error":
            assert fast[1] == slow[1]
        else:
            assert isinstance(fast[1], PreparedItems) and isinstance(slow[1], PreparedItems)
            _assert_same_table(fast[1], slow[1])
    with pytest.raises(ValidationFailed, match="hs6"):
        prepared_items([(1, bad_hs, _WHEN)])
