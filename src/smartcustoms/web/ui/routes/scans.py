"""The review station: the queue of scans, one scan beside its declaration, and the forms for
the analyst's decision, the supervisor's re-check, the examination result and sharing the scan
with a partner. A partner's scan shows its sender's decision beside ours, and every scan whose
container a partner scanned lately says so (advisory: "scanned by … on …, decision …")."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartcustoms.core.errors import NotFound, SmartCustomsError, ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.federation.scans_queries import partner_scans, received_from, shares_of
from smartcustoms.federation.scans_received import handed_in_transit
from smartcustoms.federation.scans_shared import share_scan, sharing_partners
from smartcustoms.reference.hs import edition_named
from smartcustoms.scans.queries import QUEUES, queue, queue_counts
from smartcustoms.scans.reviews import (
    DECISIONS,
    FINDING_CODES,
    STATUSES,
    recheck_scan,
    record_examination,
    review_scan,
)
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.tables import ScanRow
from smartcustoms.scans.wording import (
    CATEGORIES,
    CHECK_STATUSES,
    CHECKS,
    MACHINE_DECISIONS,
    MASS_SOURCES,
    MATERIALS,
)
from smartcustoms.web.auth import context
from smartcustoms.web.params import INT32_MAX, RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import render

router = APIRouter(prefix="/scans", include_in_schema=False)

READERS = (
    Role.IMAGE_ANALYST,
    Role.SUPERVISOR,
    Role.EXAMINING_OFFICER,
    Role.RISK_ANALYST,
    Role.AUDITOR,
)
# Who may open the declaration's own page (web.ui.routes.declarations.READERS).
DECLARATION_READERS = frozenset(
    {Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}
)
SHARERS = (Role.IMAGE_ANALYST, Role.SUPERVISOR)
MAX_REGIONS_FIELD = 20_000  # characters of JSON: fifty regions with labels fit easily


@router.get("", response_class=HTMLResponse)
@requires(*READERS)
def scans_queue(
    request: Request, queue_name: Annotated[str, Query(alias="queue")] = "review"
) -> HTMLResponse:
    """A queue of scans; the work queues list flagged scans first."""
    view = queue_name if queue_name in QUEUES else "review"
    with context(request).db.session() as session:
        rows = queue(session, view)
        counts = queue_counts(session)
        earlier = partner_scans(session, [scan.container_number for scan, _ in rows])
        origins = received_from(session, [scan.id for scan, _ in rows])
    return render(
        request, "scans.html", rows=rows, view=view, queues=list(QUEUES), counts=counts,
        statuses=STATUSES, decisions=DECISIONS, categories=CATEGORIES,
        machine_decisions=MACHINE_DECISIONS, earlier=earlier, origins=origins,
    )  # fmt: skip


def _viewer_data(scan: ScanRow) -> dict[str, Any]:
    machine = []
    for finding in scan.report.get("threat_objects", []):
        region = finding.get("region")
        if region is None:
            continue
        box = region["bounding_box_px"]
        machine.append(
            {
                "id": finding["id"],
                "box": [box["col0"], box["row0"], box["col1"], box["row1"]],
                "flag": finding["assessment"]["flag"],
                "label": f"#{finding['id']}",  # the findings list beside it says what
            }
        )
    marked = [
        {"box": [r["col0"], r["row0"], r["col1"], r["row1"]], "label": r.get("label", "")}
        for review in scan.reviews
        for r in review.regions
    ]
    frame = (scan.report.get("scan") or {}).get("frame")
    lines = []
    if isinstance(frame, dict):
        # The container frame the analysis found: roof and floor lines and the two ends.
        c0, c1 = frame.get("ends_px", [0, 0])
        roof, floor = frame.get("roof_px", []), frame.get("floor_px", [])
        lines = [roof, floor]
        if roof and floor:
            lines += [
                [[c0, roof[0][1]], [c0, floor[0][1]]],
                [[c1, roof[-1][1]], [c1, floor[-1][1]]],
            ]
    return {
        "frame": {"lines": lines, "unsure": bool(frame and frame.get("unsure"))},
        "src": f"/api/scans/{scan.id}/attenuation.png",
        "rows": scan.rows,
        "columns": scan.columns,
        "alphaScale": 4096,
        "machine": machine,
        "reviewed": marked,
    }


def _page(
    request: Request, scan_id: RowId, *, error: str | None = None, status: int = 200
) -> HTMLResponse:
    with context(request).db.session() as session:
        scan = session.get(ScanRow, scan_id)
        if scan is None:
            raise NotFound(f"no scan {scan_id}")
        declaration = session.get(DeclarationRow, scan.declaration_id)
        assert declaration is not None  # the foreign key keeps it
        items = list(declaration.items)
        reviews = list(scan.reviews)
        examination = scan.examination
        following = [s.id for s, _ in queue(session, "review", limit=2) if s.id != scan.id]
        shares = shares_of(session, scan.id)
        received = next((s for s in shares if s.row.direction == "received"), None)
        transit = None
        if received is not None:
            transit_id = received.row.transit_id
            if transit_id is None:  # the transit may have been handed in after the scan
                found = handed_in_transit(session, received.partner, None, scan.container_number)
                transit_id = found.id if found is not None else None
            transit = transit_id
        earlier = [
            item
            for item in partner_scans(session, [scan.container_number]).get(
                scan.container_number, []
            )
            if item.row.scan_id != scan.id
        ]
        partners = [p.name for p in sharing_partners(session)]
        sent_to = {s.partner for s in shares if s.row.direction == "sent"}
    principal = request.state.principal
    analyst = next((r.reviewer for r in reviews if r.kind == "review"), None)
    return render(
        request,
        "scan.html",
        status_code=status,
        scan=scan,
        report=scan.report,
        declaration=declaration,
        doc=declaration.document,
        items=items,
        describe=edition_named(declaration.hs_edition).describe,
        reviews=reviews,
        examination=examination,
        viewer=_viewer_data(scan),
        decisions=DECISIONS,
        finding_codes=FINDING_CODES,
        statuses=STATUSES,
        categories=CATEGORIES,
        checks=CHECKS,
        check_statuses=CHECK_STATUSES,
        machine_decisions=MACHINE_DECISIONS,
        materials=MATERIALS,
        mass_sources=MASS_SOURCES,
        can_review=principal.has_any({Role.IMAGE_ANALYST}) and scan.status == "awaiting_review",
        can_recheck=principal.has_any({Role.SUPERVISOR})
        and scan.status in ("awaiting_recheck", "cleared", "awaiting_examination")
        and analyst != principal.username,
        can_examine=principal.has_any({Role.EXAMINING_OFFICER}) and examination is None,
        link_declaration=principal.has_any(DECLARATION_READERS),
        shares=shares,
        received=received,
        received_transit=transit,
        earlier=earlier,
        share_to=[p for p in partners if p not in sent_to],
        can_share=principal.has_any(set(SHARERS)) and received is None,
        next_scan=following[0] if following else None,
        saved=request.query_params.get("saved"),
        error=error,
    )


@router.get("/{scan_id}", response_class=HTMLResponse)
@requires(*READERS)
def scan_page(request: Request, scan_id: RowId) -> HTMLResponse:
    return _page(request, scan_id)


def _regions(text: str) -> Any:
    if not text.strip():
        return []
    if len(text) > MAX_REGIONS_FIELD:
        raise ValidationFailed("too many marked regions", details=[{"field": "regions"}])
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ValidationFailed(
            "the marked regions could not be read; mark them again", details=[{"field": "regions"}]
        ) from None


def _decimal(text: str, field: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise ValidationFailed(f"{field} must be a number", details=[{"field": field}]) from None


def _done(scan_id: int, what: str) -> Response:
    return RedirectResponse(f"/scans/{scan_id}?saved={what}", status_code=303)


@router.post("/{scan_id}/review")
@requires(Role.IMAGE_ANALYST)
def review(
    request: Request,
    scan_id: RowId,
    principal: CurrentPrincipal,
    decision: Annotated[str, Form(max_length=24)],
    regions: Annotated[str, Form(max_length=MAX_REGIONS_FIELD)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    seconds_open: Annotated[int | None, Form(ge=0, le=INT32_MAX)] = None,
) -> Response:
    try:
        with context(request).unit() as unit:
            review_scan(
                unit, scan_id, decision=decision, regions=_regions(regions), note=note,
                seconds_open=seconds_open, actor=principal.username,
            )  # fmt: skip
    except SmartCustomsError as exc:
        return _page(request, scan_id, error=exc.message, status=exc.status_code)
    return _done(scan_id, "review")


@router.post("/{scan_id}/recheck")
@requires(Role.SUPERVISOR)
def recheck(
    request: Request,
    scan_id: RowId,
    principal: CurrentPrincipal,
    decision: Annotated[str, Form(max_length=24)],
    regions: Annotated[str, Form(max_length=MAX_REGIONS_FIELD)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        with context(request).unit() as unit:
            recheck_scan(
                unit, scan_id, decision=decision, regions=_regions(regions), note=note,
                actor=principal.username,
            )  # fmt: skip
    except SmartCustomsError as exc:
        return _page(request, scan_id, error=exc.message, status=exc.status_code)
    return _done(scan_id, "recheck")


@router.post("/{scan_id}/examination")
@requires(Role.EXAMINING_OFFICER)
def examination(
    request: Request,
    scan_id: RowId,
    principal: CurrentPrincipal,
    outcome: Annotated[str, Form(pattern="^(as_declared|irregular)$")],
    codes: Annotated[list[str] | None, Form()] = None,
    regions: Annotated[str, Form(max_length=MAX_REGIONS_FIELD)] = "",
    found_kg: Annotated[str, Form(max_length=32)] = "",
    weighed_net_kg: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        found = _decimal(found_kg, "found_kg")
        weighed = _decimal(weighed_net_kg, "weighed_net_kg")
        with context(request).unit() as unit:
            record_examination(
                unit, scan_id, irregular=outcome == "irregular", codes=codes or [],
                regions=_regions(regions), found_kg=found, weighed_net_kg=weighed, note=note,
                actor=principal.username,
            )  # fmt: skip
    except SmartCustomsError as exc:
        return _page(request, scan_id, error=exc.message, status=exc.status_code)
    return _done(scan_id, "examination")


@router.post("/{scan_id}/share")
@requires(*SHARERS)
def share(
    request: Request,
    scan_id: RowId,
    principal: CurrentPrincipal,
    partner: Annotated[str, Form(min_length=1, max_length=120)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ctx = context(request)
    try:
        with ctx.unit() as unit:
            share_scan(
                unit, store_for(ctx.settings), scan_id, partner, note=note,
                actor=principal.username, own_name=ctx.settings.administration_name,
                max_bytes=ctx.settings.max_upload_bytes,
            )  # fmt: skip
    except SmartCustomsError as exc:
        return _page(request, scan_id, error=exc.message, status=exc.status_code)
    return _done(scan_id, "share")
