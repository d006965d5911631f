"""Lodging on behalf of a signed-in caller: the trader-identity checks around the one lodging use
case (:func:`smartcustoms.risk.lodging.lodge`), shared by the API and the import page.

A declarant lodges only under the trader identities bound to it (403 naming ``declarant.id``,
nothing stored). The raw documents are checked before anything is parsed or stored; what was
parsed is checked again inside the unit of work (raising there rolls it all back), so a parser
that normalises an identifier cannot smuggle a declaration in. Only the identities a batch names
are read: a broker bound to thousands of traders lodging for one reads one row.
"""

from __future__ import annotations

from collections.abc import Sequence

from smartcustoms.core.context import AppContext
from smartcustoms.core.principal import Principal
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.store import Stored
from smartcustoms.risk.lodging import Lodging, lodge
from smartcustoms.web.scopes import DECLARATION_LODGING, Scope

__all__ = ["declarant_field", "lodge_as"]


def declarant_field(where: str) -> str:
    return f"{where}.declarant.id" if where else "declarant.id"


def _raw_declarant(record: SourceRecord) -> str | None:
    declarant = record.data.get("declarant") if record.data else None
    raw = declarant.get("id") if isinstance(declarant, dict) else None
    return raw.strip() if isinstance(raw, str) else None


def _check_raw(scope: Scope, records: Sequence[SourceRecord]) -> None:
    if scope.everything:
        return
    for record in records:
        raw = _raw_declarant(record)
        if raw is not None:
            scope.check(raw, what="lodging", field=declarant_field(record.where), reveal=True)


def lodge_as(
    ctx: AppContext,
    unit: Unit,
    principal: Principal,
    records: Sequence[SourceRecord],
    *,
    source: str,
) -> Lodging:
    """Lodge ``records`` in ``unit`` as ``principal``, within the traders it acts for."""
    named = frozenset(d for r in records if (d := _raw_declarant(r)) is not None)
    scope = DECLARATION_LODGING.scope(unit.session, principal, among=named)
    _check_raw(scope, records)

    def check_parsed(lodged: Sequence[SourceRecord], stored: Sequence[Stored]) -> None:
        parsed = {s.declaration.declarant.id for s in stored}
        checking = scope
        if not scope.everything and not parsed <= named:  # the parser normalised an ID
            checking = DECLARATION_LODGING.scope(unit.session, principal, among=parsed)
        for record, s in zip(lodged, stored, strict=True):
            checking.check(
                s.declaration.declarant.id,
                what="lodging",
                field=declarant_field(record.where),
                reveal=True,
            )

    return lodge(
        ctx,
        unit,
        list(records),
        source=source,
        submitted_by=principal.username,
        actor=principal.username,
        check=check_parsed,
    )
