from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from smartcustoms.risk import prepare_items
from smartcustoms.risk.offline.datasets import load_kcs
from smartcustoms.risk.rules import RuleInputError, parse
from tests.risk.conftest import item, items_frame


@pytest.fixture(scope="module")
def batch() -> pd.DataFrame:
    return items_frame(
        item(hs6="240220", origin="AE", departure="AE", tax_rate=40.0, date="2024-01-01"),
        item(hs6="240290", origin="PA", departure="US", tax_rate=np.nan, date="2024-02-01"),
        item(hs6="850440", origin="CN", departure="HK", tax_rate=8.0, seller_id=None),
        item(hs6="850440", origin=None, departure="CN", tax_rate=0.0, net_mass=0.0),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('hs6 startswith "2402" and origin in ("AE", "PA")', [1, 1, 0, 0]),
        ("tax_rate >= 8", [1, 0, 1, 0]),
        ("tax_rate != 8", [1, 0, 0, 1]),  # missing rate: no comparison holds, != included
        ("not tax_rate = 8", [1, 1, 0, 1]),
        ('origin != "CN"', [1, 1, 0, 0]),  # missing origin is not "not CN"
        ('origin not in ("CN")', [1, 1, 0, 0]),
        ('not origin in ("CN")', [1, 1, 0, 1]),
        ("origin != departure", [0, 1, 1, 0]),
        ("origin = departure", [1, 0, 0, 0]),
        ('seller_id = "SEL1"', [1, 1, 0, 1]),
        ("unit_value > 0", [1, 1, 1, 0]),  # zero mass: no unit value
        ('date < "2024-01-10"', [1, 0, 0, 0]),
        ('date >= "2024-01-10" and hs4 = "8504"', [0, 0, 1, 1]),
        ('hs2 in ("24", "85") or tax_rate < 0', [1, 1, 1, 1]),
        ("tax_rate in (0, 40)", [1, 0, 0, 1]),
        ("tax_rate not in (0, 40)", [0, 0, 1, 0]),
    ],
)
def test_batch_and_single_declarations_agree(
    batch: pd.DataFrame, text: str, expected: list[int]
) -> None:
    rule = parse(text)
    prepared = prepare_items(batch)
    assert rule.evaluate(prepared).astype(int).tolist() == expected
    records = prepared.frame.to_dict("records")
    assert [int(rule.matches(r)) for r in records] == expected
    # A raw table (no factors, text as given) gives the same answer where it has the fields.
    raw = batch.assign(
        hs4=prepared.frame["hs4"],
        hs2=prepared.frame["hs2"],
        unit_value=prepared.frame["unit_value"],
    )
    assert rule.evaluate(raw).astype(int).tolist() == expected


def test_records_accept_plain_python_values() -> None:
    rule = parse('date >= "2024-01-10" and tax_rate > 5 and office = "30"')
    assert rule.matches({"date": dt.date(2024, 1, 10), "tax_rate": "8", "office": 30})
    assert rule.matches({"date": "2024-03-01T10:00:00", "tax_rate": 8, "office": "30"})
    assert not rule.matches({"date": "not a date", "tax_rate": 8, "office": "30"})
    assert not rule.matches(
        {"date": dt.datetime(2024, 1, 9, 23, 59), "tax_rate": 8, "office": "30"}
    )
    assert not rule.matches({"date": "2024-02-01", "tax_rate": True, "office": "30"})


def test_absent_fields_are_named() -> None:
    rule = parse('origin = "CN" and tax_rate > 1')
    with pytest.raises(RuleInputError, match="'tax_rate'"):
        rule.evaluate(pd.DataFrame({"origin": ["CN"]}))
    with pytest.raises(RuleInputError, match="'origin'"):
        rule.matches({"tax_rate": 3})
    with pytest.raises(RuleInputError, match="DataFrame"):
        rule.evaluate([{"origin": "CN"}])  # type: ignore[arg-type]


def test_empty_batch() -> None:
    assert parse('origin = "CN"').evaluate(prepare_items(items_frame(item()).iloc[:0])).shape == (
        0,
    )


def test_on_the_kcs_data_a_rule_selects_what_pandas_selects() -> None:
    items, _ = load_kcs("valid")
    prepared = prepare_items(items)
    rule = parse('hs6 startswith ("85", "84") and origin in ("CN", "VN") and tax_rate >= 8')
    frame = prepared.frame
    expected = (
        frame["hs6"].str[:2].isin(["85", "84"])
        & frame["origin"].isin(["CN", "VN"])
        & (frame["tax_rate"] >= 8)
    )
    got = rule.evaluate(prepared)
    assert got.sum() > 50
    assert np.array_equal(got, expected.to_numpy())
