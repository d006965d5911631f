"""The officer's queue, a declaration with its lane and reasons (and its answer to the customs
management system as CUSRES or WCO DM XML), the examination result, proposing a lane change
(approved by a supervisor on ``/risk/overrides``) with the declaration's override history, and
importing a file of declarations (JSON, CSV, CUSDEC, WCO DM XML) from the page."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import NotFound, SmartCustomsError, ValidationFailed
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import Role
from smartcustoms.declarations.formats import FORMATS
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.reference.hs import edition_named
from smartcustoms.risk import overrides
from smartcustoms.risk.inspections import IRREGULARITIES, record_inspection
from smartcustoms.risk.lanes import LANE_LABELS, Lane
from smartcustoms.risk.tables import FINAL_LANE, InspectionRow, LaneDecisionRow
from smartcustoms.web.auth import context
from smartcustoms.web.lodging import lodge_as
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.scopes import DECLARATION_LODGING
from smartcustoms.web.ui.render import language_of, render

router = APIRouter(prefix="/declarations", include_in_schema=False)

READERS = (Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR)
PAGE = 100
QUEUES = ("todo", "red", "scan", "yellow", "blue", "green", "inspected", "all")


@router.get("", response_class=HTMLResponse)
@requires(*READERS)
def queue(request: Request, lane: str = "todo") -> HTMLResponse:
    """Declarations by final lane (after approved overrides); "todo" is every red, scan or
    yellow one awaiting its result."""
    view = lane if lane in QUEUES else "todo"
    query = (
        select(DeclarationRow, LaneDecisionRow, InspectionRow)
        .join(LaneDecisionRow, LaneDecisionRow.declaration_id == DeclarationRow.id)
        .outerjoin(InspectionRow, InspectionRow.declaration_id == DeclarationRow.id)
        .order_by(DeclarationRow.id.desc())
        .limit(PAGE)
    )
    if view == "todo":
        query = query.where(FINAL_LANE.in_(["red", "scan", "yellow"]), InspectionRow.id.is_(None))
    elif view == "inspected":
        query = query.where(InspectionRow.id.is_not(None))
    elif view != "all":
        query = query.where(FINAL_LANE.in_([view]))
    with context(request).db.session() as session:
        rows = session.execute(query).all()
    return render(request, "declarations.html", rows=rows, view=view, queues=QUEUES)


def _page(
    request: Request,
    declaration_id: RowId,
    *,
    error: str | None = None,
    status: int = 200,
    override_form: dict[str, str] | None = None,
) -> HTMLResponse:
    with context(request).db.session() as session:
        row = session.get(DeclarationRow, declaration_id)
        if row is None:
            raise NotFound(f"no declaration {declaration_id}")
        decision = session.scalar(
            select(LaneDecisionRow).where(LaneDecisionRow.declaration_id == declaration_id)
        )
        inspection = session.scalar(
            select(InspectionRow).where(InspectionRow.declaration_id == declaration_id)
        )
        items = list(row.items)
        history = overrides.history(session, declaration_id)
    edition = edition_named(row.hs_edition)
    return render(
        request,
        "declaration.html",
        status_code=status,
        row=row,
        doc=row.document,
        items=items,
        describe=edition.describe,
        decision=decision,
        lane_label=LANE_LABELS[Lane(decision.final_lane)] if decision else None,
        original_label=LANE_LABELS[Lane(decision.lane)] if decision else None,
        lane_labels=LANE_LABELS,
        lanes=list(Lane),
        overrides=history,
        pending_override=next((o for o in history if o.status == "proposed"), None),
        may_propose=_holds(request, overrides.PROPOSERS),
        override_form=override_form or {},
        inspection=inspection,
        irregularities=IRREGULARITIES,
        reason_language=language_of(request),
        error=error,
    )


def _holds(request: Request, roles: frozenset[Role]) -> bool:
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal is not None and principal.has_any(roles)


#: The formats a file may be imported in from the page, in the order the form offers them.
IMPORT_FORMATS = ("json", "csv", "cusdec", "wcoxml")
LODGERS = tuple(sorted(DECLARATION_LODGING.roles))


def _import_page(
    request: Request,
    *,
    receipts: list[Receipt] | None = None,
    error: SmartCustomsError | None = None,
    chosen: str = "json",
) -> HTMLResponse:
    return render(
        request,
        "declarations_import.html",
        status_code=error.status_code if error else 200,
        formats=IMPORT_FORMATS,
        chosen=chosen,
        receipts=receipts,
        lane_labels=LANE_LABELS,
        error=error,
        max_mb=context(request).settings.max_upload_bytes // (1024 * 1024),
    )


@router.get("/import", response_class=HTMLResponse)
@requires(*LODGERS)
def import_form(request: Request) -> HTMLResponse:
    return _import_page(request)


@router.post("/import", response_class=HTMLResponse)
@requires(*LODGERS)
async def import_file(
    request: Request,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form(max_length=16)] = "json",
) -> HTMLResponse:
    """Lodge a file from the page: the same use case and trader checks as the API, all or
    nothing; the answer lists each declaration with its lane."""
    if format not in IMPORT_FORMATS:
        error = ValidationFailed(
            f"format: one of {', '.join(IMPORT_FORMATS)}", details=[{"field": "format"}]
        )
        return _import_page(request, error=error)
    data = await file.read()  # bounded by the request body limit (max_upload_bytes)
    ctx = context(request)
    try:
        receipts = await run_in_threadpool(_lodge_file, ctx, principal, data, format)
    except SmartCustomsError as exc:
        return _import_page(request, error=exc, chosen=format)
    return _import_page(request, receipts=receipts, chosen=format)


def _lodge_file(ctx: AppContext, principal: Principal, data: bytes, format: str) -> list[Receipt]:
    with tempfile.TemporaryDirectory(prefix="sc-import-") as folder:
        path = Path(folder) / f"upload.{format}"
        path.write_bytes(data)
        records = list(FORMATS[format](path))  # read while the file exists; bounded above
    with ctx.unit() as unit:
        lodged = lodge_as(ctx, unit, principal, records, source="page").lodged
        # Read inside the unit: its rows are not to be touched once it has committed.
        return [
            Receipt(
                id=item.stored.id,
                lrn=item.stored.declaration.lrn,
                declarant_id=item.stored.declaration.declarant.id,
                created=item.stored.created,
                lane=item.decision.final_lane if item.decision else None,
            )
            for item in lodged
        ]


@dataclass(frozen=True)
class Receipt:
    id: int
    lrn: str
    declarant_id: str
    created: bool
    lane: str | None


@router.get("/{declaration_id}", response_class=HTMLResponse)
@requires(*READERS)
def declaration_page(request: Request, declaration_id: RowId) -> HTMLResponse:
    return _page(request, declaration_id)


@router.post("/{declaration_id}/inspection")
@requires(Role.EXAMINING_OFFICER)
def record(
    request: Request,
    declaration_id: RowId,
    principal: CurrentPrincipal,
    outcome: Annotated[str, Form(pattern="^(compliant|irregular)$")],
    codes: Annotated[list[str] | None, Form()] = None,
    revenue_raised: Annotated[str, Form(max_length=32)] = "",
    seizure: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        try:
            revenue = Decimal(revenue_raised) if revenue_raised.strip() else None
        except InvalidOperation:
            raise ValidationFailed(
                "revenue raised must be a number", details=[{"field": "revenue_raised"}]
            ) from None
        with context(request).unit() as unit:
            record_inspection(
                unit,
                declaration_id,
                irregular=outcome == "irregular",
                codes=codes or [],
                revenue_raised=revenue,
                seizure=seizure,
                note=note,
                actor=principal.username,
            )
    except SmartCustomsError as exc:
        return _page(request, declaration_id, error=exc.message, status=exc.status_code)
    return RedirectResponse(f"/declarations/{declaration_id}", status_code=303)


@router.post("/{declaration_id}/override")
@requires(*overrides.PROPOSERS)
def propose_override(
    request: Request,
    declaration_id: RowId,
    principal: CurrentPrincipal,
    lane: Annotated[str, Form(max_length=8)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Propose a lane change; on an error the page comes back with what was typed."""
    try:
        if lane not in Lane._value2member_map_:
            raise ValidationFailed(f"unknown lane {lane!r}", details=[{"field": "lane"}])
        with context(request).unit() as unit:
            overrides.propose(
                unit,
                declaration_id,
                lane=Lane(lane),
                reason=reason,
                actor=principal.username,
                roles=principal.roles,
            )
    except SmartCustomsError as exc:
        return _page(
            request,
            declaration_id,
            error=exc.message,
            status=exc.status_code,
            override_form={"lane": lane, "reason": reason},
        )
    return RedirectResponse(f"/declarations/{declaration_id}", status_code=303)


@router.post("/{declaration_id}/override/{override_id}/withdraw")
@requires(*overrides.PROPOSERS)
def withdraw_override(
    request: Request, declaration_id: RowId, override_id: RowId, principal: CurrentPrincipal
) -> Response:
    try:
        with context(request).unit() as unit:
            overrides.withdraw(unit, override_id, actor=principal.username)
    except SmartCustomsError as exc:
        return _page(request, declaration_id, error=exc.message, status=exc.status_code)
    return RedirectResponse(f"/declarations/{declaration_id}", status_code=303)
