"""Reference data: HS editions by date, ISO codes, UN/LOCODE, ISO 6346, code lists."""

from __future__ import annotations

from datetime import date

import pytest

from smartcustoms.reference import codelists, container_numbers, countries, hs, unlocode


def test_hs2022_knows_its_subheadings() -> None:
    edition = hs.edition_for(date(2026, 3, 1))
    assert edition.name == "HS2022"
    assert edition.check("850440") is None
    assert edition.describe("85044090") == "Electrical static converters"
    assert edition.lookup("85") is not None
    assert edition.check("846291") == "846291 is not a subheading of HS2022"  # HS 2017 only


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("85044", "an HS subheading is 6 digits"),
        ("8504400", "an HS subheading is 6 digits"),
        ("85O440", "an HS subheading is 6 digits"),
        ("000000", "HS chapter 00 does not exist"),
        ("770000", "HS chapter 77 does not exist"),
        ("990000", "HS chapter 99 does not exist"),
    ],
)
def test_hs_shape(code: str, why: str) -> None:
    assert hs.edition_for(date(2026, 1, 1)).check(code) == why


def test_older_dates_use_hs2017_which_is_checked_for_shape_only() -> None:
    edition = hs.edition_for(date(2020, 6, 1))
    assert edition.name == "HS2017"
    assert not edition.verified
    assert edition.check("846291") is None
    assert edition.check("770000") is not None
    assert hs.edition_for(date(1990, 1, 1)).name == "HS2017"
    assert hs.edition_named("hs 2022").name == "HS2022"


def test_countries_currencies_containers_locations() -> None:
    assert countries.is_country("KE")
    assert countries.is_country("XK")  # user-assigned, used by customs
    assert not countries.is_country("ZZ")
    assert countries.is_currency("KES")
    assert not countries.is_currency("KSH")
    assert container_numbers.container_problem("CSQU3054383") is None
    assert container_numbers.container_problem("csqu 305438 3") is None
    problem = container_numbers.container_problem("CSQU3054384")
    assert problem is not None
    assert "check digit" in problem
    mombasa = unlocode.location("KE MBA")
    assert mombasa is not None
    assert mombasa.is_port
    assert len(unlocode.locations()) > 20_000
    assert codelists.codes("transport-mode-types")["3"] == "Road transport"
    with pytest.raises(KeyError):
        codelists.codes("nope")
