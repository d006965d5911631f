"""Declarations in: one or a batch, checked and stored in one round trip — as JSON, UN/EDIFACT
CUSDEC (``application/edifact``) or WCO Data Model XML (``application/xml``) — and the answer
out in the same families (``/{id}/response``: CUSRES or a WCO DM ``Response``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response, status
from pydantic import BaseModel, Field

from smartcustoms.core.errors import BadRequest, NotFound
from smartcustoms.core.unit import reading_unit
from smartcustoms.declarations.formats import ADAPTERS, adapter_for
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.model import Declaration
from smartcustoms.declarations.store import get_declaration
from smartcustoms.interop.responses import RESPONSE_FORMATS, render
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.lodging import lodge_as
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.scopes import DECLARATION_LODGING, DECLARATION_READING
from smartcustoms.web.ui.formatting import with_texts

router = APIRouter(prefix="/api/declarations", tags=["declarations"])

LODGERS = DECLARATION_LODGING.roles
READERS = DECLARATION_READING.roles

#: The message formats a body may come in besides JSON, for the OpenAPI description.
_MESSAGE_BODIES = {
    media: {"schema": {"type": "string", "description": adapter.description}}
    for adapter in ADAPTERS
    for media in adapter.media_types[:1]
}


class UnsupportedMediaType(BadRequest):
    status_code = 415
    code = "unsupported_media_type"


class ResponseFormat(StrEnum):
    cusres = "cusres"
    wcoxml = "wcoxml"


class DeclarationReceipt(BaseModel):
    id: int
    lrn: str
    declarant_id: str
    created: bool = Field(description="False when this declarant and LRN were already lodged")
    lane: str | None = Field(description="green, blue, yellow, scan or red")
    score: float | None = Field(description="Probability that inspection finds an irregularity")
    model_version: str | None
    reasons: list[dict[str, Any]] = Field(
        description="Why: rules fired, model reasons, random control; each with its stable "
        "code and params, and text in en and fr rendered from the message catalogues"
    )


class DeclarationPublic(BaseModel):
    id: int
    received_at: str
    source: str
    hs_edition: str
    declaration: dict[str, Any]


def _message_records(body: bytes, content_type: str) -> tuple[list[SourceRecord], bool]:
    """The declarations of a CUSDEC interchange (a batch: a list of receipts) or a WCO DM XML
    document (one), read by the format's adapter; a malformed message raises ValidationFailed
    naming the line and segment or XPath, before anything is stored."""
    adapter = adapter_for(content_type)
    if adapter is None:
        accepted = ["application/json"] + [m for a in ADAPTERS for m in a.media_types]
        raise UnsupportedMediaType(
            f"content type {content_type.split(';')[0]!r} is not one of {', '.join(accepted)}",
            details=[{"field": "content-type", "problem": "unsupported"}],
        )
    return list(adapter.parse(body, "body")), adapter.name == "cusdec"


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


@router.post(
    "",
    summary="Lodge one declaration, or a batch as {'declarations': [...]}",
    responses={200: {"description": "already lodged (same declarant and LRN)"}},
    openapi_extra={"requestBody": {"content": _MESSAGE_BODIES}},
)
@requires(LODGERS)
def lodge(
    body: Annotated[
        Any,
        Body(
            description="A declaration (see the Declaration schema) or {'declarations': [...]}. "
            "A batch is all or nothing. Also a UN/EDIFACT CUSDEC interchange "
            "(application/edifact: a list of receipts, one per message) or a WCO DM XML "
            "declaration (application/xml)."
        ),
    ],
    request: Request,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    response: Response,
) -> DeclarationReceipt | list[DeclarationReceipt]:
    """Check, store and assess: the answer carries each declaration's lane and reasons.

    A declarant lodges only under the trader identities bound to it (403 otherwise, nothing
    stored); the same holds for an idempotent replay, so nobody reads another trader's lane by
    replaying its (declarant, LRN)."""
    content_type = request.headers.get("content-type")
    if isinstance(body, bytes) and content_type:  # not JSON: FastAPI hands it over as it came
        records, batch = _message_records(body, content_type)
    else:
        records, batch = _records(body)
    # A reading unit: the lodging checks and assesses before it takes the database's write
    # lock, and commits its own short write transaction before the answer is sent.
    with reading_unit(ctx.db, ctx.bus) as unit:
        lodging = lodge_as(ctx, unit, principal, records, source="api")
    receipts = [
        DeclarationReceipt(
            id=item.stored.id,
            lrn=item.stored.declaration.lrn,
            declarant_id=item.stored.declaration.declarant.id,
            created=item.stored.created,
            lane=item.decision.final_lane if item.decision else None,
            score=item.decision.score if item.decision else None,
            model_version=item.decision.model_version if item.decision else None,
            reasons=[with_texts(r) for r in item.decision.reasons] if item.decision else [],
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


@router.get(
    "/{declaration_id}/response",
    summary="The answer to a declaration: its lane, reasons and control instructions, as "
    "UN/EDIFACT CUSRES or WCO DM XML",
    response_class=Response,
    responses={
        200: {
            "description": "CUSRES (application/edifact) or a WCO DM Response (application/xml)",
            "content": {
                media: {"schema": {"type": "string"}} for media, _ in RESPONSE_FORMATS.values()
            },
        }
    },
)
@requires(READERS)
def answer(
    declaration_id: RowId,
    unit: UnitDep,
    principal: CurrentPrincipal,
    request: Request,
    format: Annotated[
        ResponseFormat | None,
        Query(
            description="cusres or wcoxml; without it, the Accept header chooses (XML or "
            "else CUSRES)"
        ),
    ] = None,
) -> Response:
    row = get_declaration(unit.session, declaration_id)
    if row is None:
        raise NotFound(f"no declaration {declaration_id}")
    # As for the declaration itself: a declarant reads the answers of its own traders only.
    DECLARATION_READING.scope(unit.session, principal).check(
        row.declarant_id, what=f"declaration {declaration_id}"
    )
    if format is None:
        wants_xml = "xml" in request.headers.get("accept", "")
        format = ResponseFormat.wcoxml if wants_xml else ResponseFormat.cusres
    media_type, content = render(unit.session, declaration_id, format.value)
    return Response(content, media_type=media_type)
