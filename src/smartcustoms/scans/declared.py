"""What a stored declaration says about one scanned container: the goods and their mass.

The analyses compare an image with "the goods" (one HS code) and "the declared mass". A
declaration may list several items: the goods are those of the heaviest item (by net mass),
the others are listed beside the image for the analyst. Its mass covers every container it
lists, so the mass is compared only when it lists one container (or none), or when the scanner's
system gives the mass of this container's goods with the scan.

Masses here are of the goods with their packaging (gross), without the container: the image's
load is compared with them directly, so the container's tare never enters the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from smartcustoms.declarations.tables import DeclarationRow

__all__ = ["DeclaredGoods", "analysis_masses", "declared_goods"]


@dataclass(frozen=True)
class DeclaredGoods:
    declaration_id: int
    lrn: str
    mrn: str | None
    containers: tuple[str, ...]
    hs_code: str | None  # the heaviest item's
    description: str | None
    goods_gross_kg: float | None  # None when the declaration's mass cannot be this container's
    mass_source: str  # "upload" (sent with the scan), "declaration", or "shared" (not compared)


def _gross(row: DeclarationRow) -> Decimal:
    total = row.document.get("total_gross_mass_kg")
    if total is not None:
        return Decimal(str(total))
    return sum(
        (item.gross_mass_kg if item.gross_mass_kg is not None else item.net_mass_kg)
        for item in row.items
    ) or Decimal(0)


def declared_goods(row: DeclarationRow, goods_gross_kg: float | None = None) -> DeclaredGoods:
    """The goods and mass to compare a scan of one of ``row``'s containers with.

    ``goods_gross_kg`` is the mass of this container's goods when the caller knows it (the
    scanner's system may send it with the scan); it overrides the declaration's."""
    containers = tuple(
        str(e.get("container_id", "")).replace(" ", "").upper()
        for e in row.document.get("transport_equipment", [])
        if e.get("container_id")
    )
    heaviest = max(row.items, key=lambda i: i.net_mass_kg, default=None)
    if goods_gross_kg is not None:
        mass: float | None = goods_gross_kg
        source = "upload"
    elif len(containers) > 1:
        mass, source = None, "shared"  # the declaration's mass covers several containers
    else:
        mass, source = float(_gross(row)), "declaration"
    return DeclaredGoods(
        declaration_id=row.id,
        lrn=row.lrn,
        mrn=row.mrn,
        containers=containers,
        hs_code=heaviest.hs_code if heaviest else None,
        description=heaviest.description if heaviest else None,
        goods_gross_kg=mass,
        mass_source=source,
    )


def analysis_masses(
    goods_gross_kg: float | None, tare_kg: float | None
) -> tuple[float | None, float | None]:
    """``declared_gross_kg`` and ``tare_kg`` for :func:`~smartcustoms.scans.analyze`, which
    compares the goods' gross mass with the imaged load directly: both pass through as they
    are (kept so that callers need not change; the tare only reports the container's gross)."""
    return goods_gross_kg, tare_kg
