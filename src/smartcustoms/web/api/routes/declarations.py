"""Declarations in: one or a batch, checked and stored in one round trip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status
from pydantic import BaseModel, Field

from smartcustoms.core.errors import NotFound
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.model import Declaration
from smartcustoms.declarations.store import Stored, get_declaration
from smartcustoms.risk.lodging import lodge as lodge_declarations
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.scopes import DECLARATION_LODGING, DECLARATION_READING, Scope

router = APIRouter(prefix="/api/declarations", tags=["declarations"])

LODGERS = DECLARATION_LODGING.roles
READERS = DECLARATION_READING.roles


class DeclarationReceipt(BaseModel):
    id: int
    lrn: str
    declarant_id: str
    created: bool = Field(description="False when this declarant and LRN were already lodged")
    lane: str | None = Field(description="green, blue, yellow, scan or red")
    score: float | None = Field(description="Probability that inspection finds an irregularity")
    model_version: str | None
    reasons: list[dict[str, Any]] = Field(
        description="Why: rules fired, model reasons (text in en and fr), random control"
    )


class DeclarationPublic(BaseModel):
    id: int
    received_at: str
    source: str
    hs_edition: str
    declaration: dict[str, Any]


def _records(body: Any) -> tuple[list[SourceRecord], bool]:
    if isinstance(body, dict) and "declarations" in body and len(body) == 1:
        entries = body["declarations"]
        if isinstance(entries, list):
            return [
                SourceRecord(f"declarations[{i}]", data=e)
                if isinstance(e, dict)
                else SourceRecord(f"declarations[{i}]", problems=[{"problem": "not an object"}])
                for i, e in enumerate(entries)
            ], True
    if isinstance(body, dict):
        return [SourceRecord("", data=body)], False
    return [SourceRecord("", problems=[{"field": "", "problem": "expected a JSON object"}])], False


def _declarant_field(where: str) -> str:
    return f"{where}.declarant.id" if where else "declarant.id"


def _check_declarants(scope: Scope, records: list[SourceRecord]) -> None:
    """Refuse, before anything is checked or stored, a declaration naming a declarant the
    caller does not act for (as far as the raw document says: see the second check below)."""
    if scope.everything:
        return
    for record in records:
        declarant = record.data.get("declarant") if record.data else None
        raw = declarant.get("id") if isinstance(declarant, dict) else None
        if isinstance(raw, str):
            scope.check(
                raw.strip(), what="lodging", field=_declarant_field(record.where), reveal=True
            )


@router.post(
    "",
    summary="Lodge one declaration, or a batch as {'declarations': [...]}",
    responses={200: {"description": "already lodged (same declarant and LRN)"}},
)
@requires(LODGERS)
def lodge(
    body: Annotated[
        Any,
        Body(
            description="A declaration (see the Declaration schema) or {'declarations': [...]}. "
            "A batch is all or nothing."
        ),
    ],
    unit: UnitDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    response: Response,
) -> DeclarationReceipt | list[DeclarationReceipt]:
    """Check, store and assess: the answer carries each declaration's lane and reasons.

    A declarant lodges only under the trader identities bound to it (403 otherwise, nothing
    stored); the same holds for an idempotent replay, so nobody reads another trader's lane by
    replaying its (declarant, LRN)."""
    records, batch = _records(body)
    scope = DECLARATION_LODGING.scope(unit.session, principal)
    _check_declarants(scope, records)

    def check_parsed(lodged: Sequence[SourceRecord], stored: Sequence[Stored]) -> None:
        for record, s in zip(lodged, stored, strict=True):
            # What was parsed is what counts: raising here rolls the whole unit back.
            scope.check(
                s.declaration.declarant.id,
                what="lodging",
                field=_declarant_field(record.where),
                reveal=True,
            )

    lodging = lodge_declarations(
        ctx,
        unit,
        records,
        source="api",
        submitted_by=principal.username,
        actor=principal.username,
        check=check_parsed,
    )
    receipts = [
        DeclarationReceipt(
            id=item.stored.id,
            lrn=item.stored.declaration.lrn,
            declarant_id=item.stored.declaration.declarant.id,
            created=item.stored.created,
            lane=item.decision.lane if item.decision else None,
            score=item.decision.score if item.decision else None,
            model_version=item.decision.model_version if item.decision else None,
            reasons=item.decision.reasons if item.decision else [],
        )
        for item in lodging.lodged
    ]
    if any(r.created for r in receipts):
        response.status_code = status.HTTP_201_CREATED
    return receipts if batch else receipts[0]


@router.get("/schema", summary="The declaration's JSON schema, with WCO IDs and XML paths")
@requires(READERS | LODGERS)
def schema() -> dict[str, Any]:
    return Declaration.model_json_schema()


@router.get("/{declaration_id}", summary="One lodged declaration")
@requires(READERS)
def read(declaration_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> DeclarationPublic:
    row = get_declaration(unit.session, declaration_id)
    if row is None:
        raise NotFound(f"no declaration {declaration_id}")
    # Officers read every declaration; a declarant those of the traders it acts for.
    DECLARATION_READING.scope(unit.session, principal).check(
        row.declarant_id, what=f"declaration {declaration_id}"
    )
    return DeclarationPublic(
        id=row.id,
        received_at=row.received_at.isoformat(),
        source=row.source,
        hs_edition=row.hs_edition,
        declaration=row.document,
    )
