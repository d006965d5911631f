"""Parsing and checking declarations: shape (the model) then reference data.

Every problem is reported with the path of the field at fault, as a user would write it
(``items[3].hs_code``), and why. All problems of a declaration are reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.model import Declaration
from smartcustoms.reference.container_numbers import container_problem
from smartcustoms.reference.countries import is_country, is_currency
from smartcustoms.reference.hs import HsEdition, edition_for

__all__ = ["field_path", "parse_declaration", "reference_problems"]


def field_path(loc: tuple[int | str, ...]) -> str:
    """('items', 3, 'hs_code') -> 'items[3].hs_code'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_declaration(data: Mapping[str, Any] | Any, *, today: date | None = None) -> Declaration:
    """A checked declaration, or ValidationFailed listing every problem with its field path."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            "a declaration must be a JSON object",
            details=[{"field": "", "problem": f"got {type(data).__name__}"}],
        )
    try:
        declaration = Declaration.model_validate(data)
    except ValidationError as exc:
        details = [
            {
                "field": field_path(tuple(err["loc"])),
                "problem": "unknown field" if err["type"] == "extra_forbidden" else err["msg"],
            }
            for err in exc.errors(include_url=False)
        ]
        raise ValidationFailed(_summary(details), details=details) from None
    details = reference_problems(declaration, today=today)
    if details:
        raise ValidationFailed(_summary(details), details=details)
    return declaration


def _summary(details: list[dict[str, Any]]) -> str:
    first = details[0]
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"invalid declaration: {first['field'] or 'body'}: {first['problem']}{more}"


def hs_edition(declaration: Declaration, today: date | None = None) -> HsEdition:
    when = declaration.issue_datetime
    day = when.astimezone(UTC).date() if when else (today or datetime.now(UTC).date())
    return edition_for(day)


def reference_problems(
    declaration: Declaration, *, today: date | None = None
) -> list[dict[str, Any]]:
    """Problems found against reference data: HS edition in force, ISO codes, check digits."""
    problems: list[dict[str, Any]] = []

    def problem(field: str, message: str) -> None:
        problems.append({"field": field, "problem": message})

    edition = hs_edition(declaration, today)
    seen_sequences: set[int] = set()
    for i, item in enumerate(declaration.items):
        where = f"items[{i}]"
        if item.sequence in seen_sequences:
            problem(f"{where}.sequence", f"item number {item.sequence} appears twice")
        seen_sequences.add(item.sequence)
        why = edition.check(item.hs_code)
        if why:
            problem(f"{where}.hs_code", why)
        if item.national_tariff_code and not item.national_tariff_code.startswith(item.hs_code):
            problem(f"{where}.national_tariff_code", f"does not start with {item.hs_code}")
        if not is_country(item.origin_country):
            problem(f"{where}.origin_country", f"unknown country code {item.origin_country!r}")
        for name in ("customs_value", "statistical_value"):
            amount = getattr(item, name)
            if amount is not None and not is_currency(amount.currency):
                problem(f"{where}.{name}.currency", f"unknown currency {amount.currency!r}")
        if item.gross_mass_kg is not None and item.gross_mass_kg < item.net_mass_kg:
            problem(f"{where}.gross_mass_kg", "gross mass is less than net mass")
    for name in ("export_country", "destination_country"):
        code = getattr(declaration, name)
        if code is not None and not is_country(code):
            problem(name, f"unknown country code {code!r}")
    for name in ("declarant", "importer", "exporter", "seller", "buyer", "agent", "consignor"):
        party = getattr(declaration, name)
        country = party.address.country if party is not None and party.address else None
        if country is not None and not is_country(country):
            problem(f"{name}.address.country", f"unknown country code {country!r}")
    if declaration.invoice_total and not is_currency(declaration.invoice_total.currency):
        problem(
            "invoice_total.currency", f"unknown currency {declaration.invoice_total.currency!r}"
        )
    if declaration.exchange_rate and not is_currency(declaration.exchange_rate.currency):
        problem("exchange_rate.currency", "unknown currency")
    for i, equipment in enumerate(declaration.transport_equipment):
        why = container_problem(equipment.container_id)
        if why:
            problem(f"transport_equipment[{i}].container_id", why)
    return problems
