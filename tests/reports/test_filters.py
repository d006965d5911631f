"""Report filters read from query parameters: defaults, bounds, and errors naming the field."""

from __future__ import annotations

from datetime import date

import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.reports import applied, parse_filters

from .builders import frozen, utc


def test_defaults_to_the_last_year_up_to_today() -> None:
    with frozen(utc(2026, 3, 10, 23, 59)):
        filters = parse_filters({})
    assert (filters.date_from, filters.date_to) == (date(2025, 3, 11), date(2026, 3, 10))
    assert filters.start == utc(2025, 3, 11) and filters.end == utc(2026, 3, 11)


def test_codes_are_trimmed_and_offices_in_capitals() -> None:
    filters = parse_filters({"from": "2026-01-01", "office": " kemba ", "corridor": "northern"})
    assert (filters.office, filters.corridor) == ("KEMBA", "northern")
    assert filters.as_dict() == {
        "from": "2026-01-01", "to": filters.date_to.isoformat(), "office": "KEMBA",
        "corridor": "northern",
    }  # fmt: skip
    # Selectivity has no corridor, scans none either: dropped, not applied to nothing.
    assert applied("selectivity", filters).corridor is None
    assert applied("transits", filters).corridor == "northern"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "01/02/2026"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-02-02", "to": "2026-02-01"}, "from"),
        ({"from": "1900-01-01", "to": "2026-01-01"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"office": "KE MBA"}, "office"),
        ({"corridor": "x" * 33}, "corridor"),
    ],
)
def test_bad_values_name_their_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_filters(params)
    assert error.value.details[0]["field"] == field
