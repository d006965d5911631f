"""Countries (ISO 3166-1 alpha-2) and currencies (ISO 4217), from pycountry."""

from __future__ import annotations

from functools import cache

import pycountry

__all__ = ["country_name", "is_country", "is_currency"]

# User-assigned codes that customs administrations use although ISO 3166 does not list them.
EXTRA_COUNTRIES = {"XK": "Kosovo", "EU": "European Union"}


@cache
def _countries() -> dict[str, str]:
    table = {c.alpha_2: c.name for c in pycountry.countries}
    table.update(EXTRA_COUNTRIES)
    return table


@cache
def _currencies() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def is_country(code: str) -> bool:
    return code in _countries()


def country_name(code: str) -> str | None:
    return _countries().get(code)


def is_currency(code: str) -> bool:
    return code in _currencies()
