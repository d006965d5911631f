"""ISO 6346 container numbers (owner code, category, serial, check digit), via python-stdnum."""

from __future__ import annotations

from stdnum import iso6346
from stdnum.exceptions import ValidationError

__all__ = ["container_problem", "normalise_container"]


def normalise_container(number: str) -> str:
    return "".join(number.split()).upper()


def container_problem(number: str) -> str | None:
    """None if ``number`` is a valid ISO 6346 container number, else what is wrong with it."""
    try:
        iso6346.validate(normalise_container(number))
    except ValidationError as exc:
        return f"not an ISO 6346 container number: {str(exc).rstrip('.').lower()}"
    return None
