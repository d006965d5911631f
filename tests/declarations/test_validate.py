"""Every problem in a declaration is named by its field path, all at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.model import Declaration
from smartcustoms.declarations.validate import parse_declaration
from tests.declarations.helpers import GOOD, declaration, item

CURRENCY = "items[0].customs_value.currency"
CONTAINER = "transport_equipment[0].container_id"


def problems(data: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as err:
        parse_declaration(data)
    return {d["field"]: d["problem"] for d in err.value.details}


def test_a_good_declaration() -> None:
    parsed = parse_declaration(GOOD)
    assert parsed.items[0].customs_value.value == Decimal("12500.00")
    assert parsed.function_code == "9"
    assert parsed.type_code == "IM"


@pytest.mark.parametrize(
    ("data", "field", "why"),
    [
        (item(1, hs_code="999999"), "items[1].hs_code", "chapter 99"),
        (item(0, hs_code="846291"), "items[0].hs_code", "not a subheading of HS2022"),
        (item(0, origin_country="ZZ"), "items[0].origin_country", "unknown country"),
        (item(0, net_mass_kg="0"), "items[0].net_mass_kg", "greater than 0"),
        (item(0, net_mass_kg="-3"), "items[0].net_mass_kg", "greater than 0"),
        (item(0, net_mass_kg="NaN"), "items[0].net_mass_kg", "finite"),
        (item(0, net_mass_kg="Infinity"), "items[0].net_mass_kg", "finite"),
        (item(0, customs_value={"value": "1", "currency": "USX"}), CURRENCY, "unknown currency"),
        (item(0, customs_value={"value": "1", "currency": "usd"}), CURRENCY, "pattern"),
        (item(0, gross_mass_kg="100"), "items[0].gross_mass_kg", "less than net"),
        (item(1, sequence=1), "items[1].sequence", "appears twice"),
        (item(0, colour="red"), "items[0].colour", "unknown field"),
        (declaration(items=[]), "items", "at least 1"),
        (declaration(lrn=""), "lrn", "at least 1"),
        (declaration(issue_datetime="2026-11-20T08:30:00"), "issue_datetime", "time zone"),
        (declaration(transport_equipment=[{"container_id": "CSQU3054384"}]), CONTAINER, "check"),
        (declaration(border_transport_mode="road"), "border_transport_mode", "pattern"),
    ],
)  # fmt: skip
def test_problems_name_the_field(data: dict[str, Any], field: str, why: str) -> None:
    found = problems(data)
    assert field in found, found
    assert why in found[field]


def test_all_problems_at_once() -> None:
    data = item(0, hs_code="770000", origin_country="ZZ")
    data["transport_equipment"] = [{"container_id": "CSQU3054384"}]
    assert len(problems(data)) == 3


def test_declaration_dated_under_hs2017_is_checked_for_shape_only() -> None:
    data = item(0, hs_code="846291")
    data["issue_datetime"] = "2020-05-01T00:00:00+09:00"
    assert parse_declaration(data).items[0].hs_code == "846291"


@pytest.mark.parametrize("body", [None, 3, "text", [GOOD]])
def test_not_an_object(body: Any) -> None:
    assert problems(body) == {"": f"got {type(body).__name__}"}


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.integers(), st.text())))
def test_garbage_gives_only_validation_errors(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        parse_declaration(data)


def test_schema_carries_wco_ids() -> None:
    schema = Declaration.model_json_schema()
    assert schema["properties"]["lrn"]["x-wco-id"] == "D026"
    item_schema = schema["$defs"]["Item"]["properties"]
    assert item_schema["hs_code"]["x-wco-id"] == "145"
    assert item_schema["origin_country"]["x-wco-path"].endswith("Origin/CountryCode")
