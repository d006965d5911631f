"""The officer's queue, a declaration with its lane and reasons, and the examination result."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from smartcustoms.core.errors import NotFound, SmartCustomsError, ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.reference.hs import edition_named
from smartcustoms.risk.inspections import IRREGULARITIES, record_inspection
from smartcustoms.risk.lanes import LANE_LABELS, Lane
from smartcustoms.risk.tables import InspectionRow, LaneDecisionRow
from smartcustoms.web.auth import context
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import language_of, render

router = APIRouter(prefix="/declarations", include_in_schema=False)

READERS = (Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR)
PAGE = 100
QUEUES = ("todo", "red", "scan", "yellow", "blue", "green", "inspected", "all")


@router.get("", response_class=HTMLResponse)
@requires(*READERS)
def queue(request: Request, lane: str = "todo") -> HTMLResponse:
    """Declarations by lane; "todo" is every red, scan or yellow one awaiting its result."""
    view = lane if lane in QUEUES else "todo"
    query = (
        select(DeclarationRow, LaneDecisionRow, InspectionRow)
        .join(LaneDecisionRow, LaneDecisionRow.declaration_id == DeclarationRow.id)
        .outerjoin(InspectionRow, InspectionRow.declaration_id == DeclarationRow.id)
        .order_by(DeclarationRow.id.desc())
        .limit(PAGE)
    )
    if view == "todo":
        query = query.where(
            LaneDecisionRow.lane.in_(["red", "scan", "yellow"]), InspectionRow.id.is_(None)
        )
    elif view == "inspected":
        query = query.where(InspectionRow.id.is_not(None))
    elif view != "all":
        query = query.where(LaneDecisionRow.lane == view)
    with context(request).db.session() as session:
        rows = session.execute(query).all()
    return render(request, "declarations.html", rows=rows, view=view, queues=QUEUES)


def _page(
    request: Request, declaration_id: RowId, *, error: str | None = None, status: int = 200
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
        lane_label=LANE_LABELS[Lane(decision.lane)] if decision else None,
        inspection=inspection,
        irregularities=IRREGULARITIES,
        reason_language=language_of(request),
        error=error,
    )


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
