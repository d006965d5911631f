"""Which histories the model keeps: one per field or combination of fields.

A *group* is a tuple of item fields (``("hs6", "origin")``). For each value of the tuple the
history counts declarations seen, declarations inspected and irregularities found. Groups were
chosen from customs practice and checked on a time-ordered split *inside* the KCS training file
(January-September against October-December, see ``bench/risk_quality.py --dev``), never on the
test file: the tariff-treatment and route combinations (``hs6 x origin x tax_type``,
``hs6 x origin x departure``) carry most of the signal in KCS, as preference and transshipment
fraud do in real administrations. Importer, declarant and seller histories add nothing on this
synthetic data but are strongly predictive on real data (DATE paper, Belgian customs), so they
stay.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GROUPS", "KEY_BITS", "KEY_FIELDS", "Group"]


@dataclass(frozen=True)
class Group:
    """A field combination whose past inspections become features."""

    name: str
    fields: tuple[str, ...]
    # Parties (not goods) also get "declarations seen" and "days since last declaration".
    party: bool = False


GROUPS: tuple[Group, ...] = (
    Group("importer", ("importer_id",), party=True),
    Group("declarant", ("declarant_id",), party=True),
    Group("seller", ("seller_id",), party=True),
    Group("courier", ("courier_id",)),
    Group("office", ("office",)),
    Group("hs6", ("hs6",)),
    Group("hs4", ("hs4",)),
    Group("hs2", ("hs2",)),
    Group("origin", ("origin",)),
    Group("departure", ("departure",)),
    Group("tax_type", ("tax_type",)),
    Group("hs6_origin", ("hs6", "origin"), party=True),
    Group("hs4_origin", ("hs4", "origin")),
    Group("hs2_origin", ("hs2", "origin")),
    Group("hs6_departure", ("hs6", "departure")),
    Group("hs6_tax_type", ("hs6", "tax_type")),
    Group("hs6_office", ("hs6", "office")),
    Group("hs6_origin_indicator", ("hs6", "origin", "origin_indicator")),
    Group("hs6_route", ("hs6", "origin", "departure")),
    Group("hs6_preference", ("hs6", "origin", "tax_type")),
    Group("hs6_route_preference", ("hs6", "origin", "departure", "tax_type")),
    Group("importer_hs6", ("importer_id", "hs6"), party=True),
    Group("declarant_hs6", ("declarant_id", "hs6")),
    Group("seller_hs6", ("seller_id", "hs6")),
    Group("importer_origin", ("importer_id", "origin")),
    Group("declarant_importer", ("declarant_id", "importer_id")),
)

# Bits each field's vocabulary code takes inside a group's 63-bit key; a vocabulary that
# outgrows its width is refused with an error rather than silently colliding.
KEY_BITS: dict[str, int] = {
    "importer_id": 24,
    "declarant_id": 24,
    "seller_id": 24,
    "courier_id": 16,
    "office": 12,
    "hs6": 16,
    "hs4": 14,
    "hs2": 8,
    "origin": 10,
    "departure": 10,
    "tax_type": 12,
    "origin_indicator": 8,
}

KEY_FIELDS: tuple[str, ...] = tuple(KEY_BITS)

for _g in GROUPS:
    assert sum(KEY_BITS[f] for f in _g.fields) <= 63, _g.name
