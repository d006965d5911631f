from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk import schema
from smartcustoms.risk.schema import ITEM_FIELDS, KCS_COLUMNS, from_kcs, prepare_items
from tests.risk.conftest import item, items_frame


def test_prepare_types_every_field_and_adds_derived_ones() -> None:
    prepared = prepare_items(items_frame(item()))
    frame = prepared.frame
    assert frame.loc[0, "hs6"] == "850440"
    assert frame.loc[0, "hs4"] == "8504"
    assert frame.loc[0, "hs2"] == "85"
    assert frame.loc[0, "unit_value"] == pytest.approx(50.0)
    assert frame.loc[0, "revenue_at_risk"] == pytest.approx(400.0)
    assert frame.loc[0, "courier_id"] == ""
    assert frame.loc[0, "day"] == (pd.Timestamp("2024-01-10") - pd.Timestamp("1970-01-01")).days


@pytest.mark.parametrize("mass", [0.0, -5.0, np.nan, np.inf, None])
def test_zero_negative_or_missing_mass_gives_no_unit_value_and_no_infinity(mass: object) -> None:
    frame = prepare_items(items_frame(item(net_mass=mass))).frame
    assert np.isnan(frame.loc[0, "unit_value"])
    numeric = frame.select_dtypes("number").to_numpy(dtype=float)
    assert not np.isinf(numeric).any()


def test_hs_codes_are_padded_cut_and_cleaned() -> None:
    frame = items_frame(item(hs6=10121), item(hs6="8504.40.10"), item(hs6=" 850440 "))
    assert prepare_items(frame).frame["hs6"].tolist() == ["010121", "850440", "850440"]


def test_bad_hs_code_names_the_field_and_row() -> None:
    frame = items_frame(item(), item(hs6="85A440"), item(hs6=None))
    with pytest.raises(ValidationFailed) as err:
        prepare_items(frame)
    assert err.value.details[0] == {"field": "hs6", "row": 1, "reason": "expected 6 to 10 digits"}
    assert [d["row"] for d in err.value.details] == [1, 2]
    assert "2 row(s)" in err.value.message


def test_bad_date_and_non_numeric_mass_are_named() -> None:
    with pytest.raises(ValidationFailed, match="date") as err:
        prepare_items(items_frame(item(), item(date="31/01/2024")))
    assert err.value.details[0]["row"] == 1
    with pytest.raises(ValidationFailed, match="net_mass: not a number"):
        prepare_items(items_frame(item(net_mass="heavy")))


def test_missing_columns_are_listed() -> None:
    frame = items_frame(item()).drop(columns=["origin", "tax_rate"])
    with pytest.raises(ValidationFailed) as err:
        prepare_items(frame)
    assert {d["field"] for d in err.value.details} == {"origin", "tax_rate"}


def test_not_a_frame_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="DataFrame"):
        prepare_items([item()])  # type: ignore[arg-type]


def test_text_values_are_normalised_once_per_distinct_value() -> None:
    frame = items_frame(item(importer_id=" A "), item(importer_id="A"), item(office=30.0))
    prepared = prepare_items(frame)
    assert prepared.frame["importer_id"].tolist() == ["A", "A", "IMP1"]
    codes, uniques = prepared.factors["importer_id"]
    assert codes[0] == codes[1] and uniques[codes[0]] == "A"
    assert prepared.frame.loc[2, "office"] == "30"


def test_prepared_items_pass_through_and_take_keeps_factors_aligned() -> None:
    prepared = prepare_items(items_frame(item(origin="CN"), item(origin="VN"), item(origin="CN")))
    assert prepare_items(prepared) is prepared
    part = prepared.take(np.array([1, 2]))
    codes, uniques = part.factors["origin"]
    assert list(uniques[codes]) == part.frame["origin"].tolist() == ["VN", "CN"]


def test_from_kcs_maps_every_item_field() -> None:
    assert set(KCS_COLUMNS.values()) == {f.name for f in ITEM_FIELDS}
    with pytest.raises(ValidationFailed, match="not a KCS table"):
        from_kcs(pd.DataFrame({"Date": ["2020-01-01"]}))


def test_empty_table_prepares_to_empty() -> None:
    empty = items_frame(item()).iloc[:0]
    assert len(prepare_items(empty)) == 0


def test_dates_in_any_usual_form_give_the_same_day() -> None:
    import datetime as dt

    forms: list[object] = [
        "2024-01-10",
        "2024-01-10T23:59:59",
        "2024-01-10T08:00:00+05:00",  # the day as written, in its own time zone
        dt.date(2024, 1, 10),
        dt.datetime(2024, 1, 10, 12, 30),
        pd.Timestamp("2024-01-10 06:00"),
        np.datetime64("2024-01-10T06:00"),
    ]
    frame = items_frame(*(item(date=d) for d in forms))
    assert set(prepare_items(frame).frame["day"]) == {19732}
    typed = items_frame(item(), item()).assign(date=pd.to_datetime(["2024-01-10", "2024-01-11"]))
    assert prepare_items(typed).frame["day"].tolist() == [19732, 19733]


_CELLS = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(pd.NA),
    st.integers(-50, 50),
    st.floats(-100, 100, allow_nan=False).map(lambda f: round(f, 1)),
    st.sampled_from(["", " ", "CN", "CN ", " CN", "30", "30.0", "ab"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELLS, max_size=40), st.sampled_from([None, "object", "float"]))
def test_short_columns_factorise_as_pandas_does(cells: list[object], dtype: str | None) -> None:
    if dtype == "float":
        cells = [c for c in cells if isinstance(c, (int, float)) or c is None]
    column = pd.Series(cells, dtype=dtype)
    short_codes, short_values = schema._factor(column)
    with patch.object(schema, "_SMALL", -1):  # always through pd.factorize
        codes, values = schema._factor(column)
    assert short_codes.tolist() == codes.tolist()
    assert short_values.tolist() == values.tolist()
