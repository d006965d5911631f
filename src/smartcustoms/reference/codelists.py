"""WCO / UN/ECE code lists (transport modes, package types, Incoterms, valuation methods …)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

__all__ = ["LISTS", "codes"]

LISTS = (
    "transport-mode-types",
    "package-types",
    "incoterm-codes",
    "valuation-method-types",
    "measure-unit-types",
    "duty-tax-fee-types",
    "payment-method-types",
)


@cache
def codes(name: str) -> dict[str, str]:
    """Code → description for the list ``name`` (one of :data:`LISTS`)."""
    if name not in LISTS:
        raise KeyError(name)
    path = resources.files("smartcustoms.reference") / "data" / "codelists" / f"{name}.json"
    with path.open(encoding="utf-8") as fh:
        return {entry["value"]: entry["display"] for entry in json.load(fh)}
