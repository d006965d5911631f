"""Container scans over HTTP: upload and analysis, the report, the image, the review workflow.

Who may do what (the role map in docs/architecture.md):

- upload (``POST /api/scans``): the scanner's or the customs management system's service
  account, with an API token of the **examining officer** role (the scanning station is part
  of the examination), and image analysts (a scan that arrived by other means);
- review: image analysts; re-check: supervisors (not the analyst who reviewed); examination
  result: examining officers;
- read (scans, reports, images): all of these and auditors and risk analysts;
- share with a partner (``POST /api/scans/{id}/share``): image analysts and supervisors.

A scan shared with a partner, or received from one, carries ``shared`` (the sender's decision,
the partner's examination result when it came back); every scan carries ``partner_scans``, the
partners' scans of its container in the last 30 days, so an officer does not scan a container
again unless our own risk says so (advisory: nothing is blocked).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import object_session

from smartcustoms.core.errors import NotFound, ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.federation.scans_queries import Shared, partner_scans, shares_of
from smartcustoms.federation.scans_shared import share_scan
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.queries import QUEUES, layers_of, queue
from smartcustoms.scans.rendering import data_png, display_png
from smartcustoms.scans.reviews import (
    DECISIONS,
    FINDING_CODES,
    recheck_scan,
    record_examination,
    review_scan,
)
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.tables import ExaminationRow, ReviewRow, ScanRow
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.params import INT32_MAX, RowId
from smartcustoms.web.policy import CurrentPrincipal, requires

router = APIRouter(prefix="/api/scans", tags=["scans"])

UPLOADERS = (Role.EXAMINING_OFFICER, Role.IMAGE_ANALYST)
READERS = (
    Role.IMAGE_ANALYST,
    Role.SUPERVISOR,
    Role.EXAMINING_OFFICER,
    Role.RISK_ANALYST,
    Role.AUDITOR,
)
SHARERS = (Role.IMAGE_ANALYST, Role.SUPERVISOR)
IMAGE_CACHE = "private, max-age=86400"  # a stored scan never changes


class Region(BaseModel):
    model_config = ConfigDict(extra="forbid")
    col0: int = Field(ge=0, le=INT32_MAX, description="Left edge, image column (pixels)")
    row0: int = Field(ge=0, le=INT32_MAX, description="Top edge, image row")
    col1: int = Field(ge=1, le=INT32_MAX, description="Right edge, exclusive")
    row1: int = Field(ge=1, le=INT32_MAX, description="Bottom edge, exclusive")
    label: str = Field("", max_length=80)


class ReviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(description=", ".join(DECISIONS))
    regions: list[Region] = Field(default_factory=list, max_length=50)
    note: str | None = Field(None, max_length=2000)
    seconds_open: int | None = Field(
        None, ge=0, le=INT32_MAX, description="Seconds spent on the image"
    )


class RecheckCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: str = Field(description="clear or physical_examination")
    regions: list[Region] = Field(default_factory=list, max_length=50)
    note: str | None = Field(None, max_length=2000)


class ExaminationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    irregular: bool = Field(description="False: found as declared")
    codes: list[str] = Field(default_factory=list, description=", ".join(FINDING_CODES))
    regions: list[Region] = Field(
        default_factory=list, max_length=50, description="Where it was found, in the image"
    )
    found_kg: Decimal | None = Field(None, ge=0, description="Mass of what was found")
    weighed_net_kg: Decimal | None = Field(None, ge=0, description="The load, weighed")
    note: str | None = Field(None, max_length=2000)


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: str = Field(min_length=1, max_length=120, description="The partner's name")
    note: str | None = Field(None, max_length=2000, description="For the partner's analysts")


class PartnerExamination(BaseModel):
    irregular: bool
    codes: list[str]
    found_kg: Decimal | None
    examined_at: datetime
    examined_by: str


class SharePublic(BaseModel):
    direction: str = Field(description="sent: we shared it; received: a partner shared it")
    partner: str
    origin_scan_id: int = Field(description="The scan's id at the sender")
    shared_at: datetime
    shared_by: str
    sender_machine: str = Field(description="The sender's machine decision")
    sender_decision: str | None = Field(description="The sender's analyst's decision, if any")
    sender_status: str | None
    sender_decided_at: datetime | None
    note: str | None
    transit_id: int | None = Field(description="Our transit: handed over, or handed in")
    transit_reference: str | None
    examination: PartnerExamination | None = Field(
        description="The partner's examination result, once it flowed back (sent only)"
    )


class PartnerScan(BaseModel):
    """A partner already scanned this container: do not scan it again unless our own risk
    lane says so."""

    partner: str
    scan_id: int = Field(description="The partner's scan, as stored here")
    container_number: str
    shared_at: datetime
    sender_machine: str
    sender_decision: str | None


class ReviewPublic(BaseModel):
    kind: str
    decision: str
    regions: list[dict[str, Any]]
    note: str | None
    reviewer: str
    reviewed_at: datetime
    seconds_open: int | None


class ExaminationPublic(BaseModel):
    irregular: bool
    codes: list[str]
    regions: list[dict[str, Any]]
    found_kg: Decimal | None
    weighed_net_kg: Decimal | None
    note: str | None
    recorded_by: str
    recorded_at: datetime


class ScanSummary(BaseModel):
    id: int
    received_at: datetime
    container_number: str
    declaration_id: int
    scanner_id: str
    alarm_decision: str = Field(description="The machine's: ALARM, CLEAR or UNKNOWN")
    findings: int
    max_score: float
    status: str
    decision: str | None
    partner_scans: list[PartnerScan] = Field(
        default_factory=list,
        description="Partners' scans of this container in the last 30 days (advisory)",
    )


class ScanPublic(ScanSummary):
    created: bool = Field(True, description="False when this file had been received before")
    received_by: str
    source: str
    file_name: str
    file_format: str
    file_sha256: str
    file_bytes: int
    container_type: str | None
    declaration_ref: str | None
    acquired_at: datetime | None
    rows: int
    columns: int
    dual_energy: bool
    hs_code: str | None
    report: dict[str, Any] = Field(description="The findings, shaped like a DICOS TDR")
    reviews: list[ReviewPublic]
    examination: ExaminationPublic | None
    shared: list[SharePublic] = Field(default_factory=list)
    links: dict[str, str]


def _review(row: ReviewRow) -> ReviewPublic:
    return ReviewPublic(
        kind=row.kind,
        decision=row.decision,
        regions=row.regions,
        note=row.note,
        reviewer=row.reviewer,
        reviewed_at=row.reviewed_at,
        seconds_open=row.seconds_open,
    )


def _examination(row: ExaminationRow | None) -> ExaminationPublic | None:
    if row is None:
        return None
    return ExaminationPublic(
        irregular=row.irregular,
        codes=row.codes,
        regions=row.regions,
        found_kg=row.found_kg,
        weighed_net_kg=row.weighed_net_kg,
        note=row.note,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


def _summary_fields(row: ScanRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "received_at": row.received_at,
        "container_number": row.container_number,
        "declaration_id": row.declaration_id,
        "scanner_id": row.scanner_id,
        "alarm_decision": row.alarm_decision,
        "findings": row.findings,
        "max_score": row.max_score,
        "status": row.status,
        "decision": row.decision,
    }


def _share(item: Shared) -> SharePublic:
    row = item.row
    exam = None
    if row.examined_at is not None and row.examined_irregular is not None:
        exam = PartnerExamination(
            irregular=row.examined_irregular,
            codes=list(row.examined_codes or []),
            found_kg=row.examined_found_kg,
            examined_at=row.examined_at,
            examined_by=row.examined_by or "",
        )
    return SharePublic(
        direction=row.direction,
        partner=item.partner,
        origin_scan_id=row.origin_scan_id,
        shared_at=row.shared_at,
        shared_by=row.shared_by,
        sender_machine=row.sender_machine,
        sender_decision=row.sender_decision,
        sender_status=row.sender_status,
        sender_decided_at=row.sender_decided_at,
        note=row.note,
        transit_id=row.transit_id,
        transit_reference=row.transit_reference,
        examination=exam,
    )


def _partner_scans(items: list[Shared], scan_id: int) -> list[PartnerScan]:
    return [
        PartnerScan(
            partner=i.partner,
            scan_id=i.row.scan_id,
            container_number=i.row.container_number,
            shared_at=i.row.shared_at,
            sender_machine=i.row.sender_machine,
            sender_decision=i.row.sender_decision,
        )
        for i in items
        if i.row.scan_id != scan_id  # the partner's scan itself is not a second scan
    ]


def scan_public(row: ScanRow, *, created: bool = True) -> ScanPublic:
    session = object_session(row)
    assert session is not None  # read in the request's unit
    earlier = partner_scans(session, [row.container_number]).get(row.container_number, [])
    return ScanPublic(
        **_summary_fields(row),
        partner_scans=_partner_scans(earlier, row.id),
        shared=[_share(s) for s in shares_of(session, row.id)],
        created=created,
        received_by=row.received_by,
        source=row.source,
        file_name=row.file_name,
        file_format=row.file_format,
        file_sha256=row.file_sha256,
        file_bytes=row.file_bytes,
        container_type=row.container_type,
        declaration_ref=row.declaration_ref,
        acquired_at=row.acquired_at,
        rows=row.rows,
        columns=row.columns,
        dual_energy=row.dual_energy,
        hs_code=row.hs_code,
        report=row.report,
        reviews=[_review(r) for r in row.reviews],
        examination=_examination(row.examination),
        links={
            "self": f"/api/scans/{row.id}",
            "image": f"/api/scans/{row.id}/image.png",
            "attenuation": f"/api/scans/{row.id}/attenuation.png",
            "review_station": f"/scans/{row.id}",
        },
    )


def _get(unit: UnitDep, scan_id: int) -> ScanRow:
    row = unit.session.get(ScanRow, scan_id)
    if row is None:
        raise NotFound(f"no scan {scan_id}")
    return row


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a scan (TIFF + sidecar, or DICOS), linked to a declaration and container",
    responses={200: {"description": "this file was received before: the stored scan"}},
)
@requires(*UPLOADERS)
def upload(
    file: Annotated[UploadFile, File(description="16-bit TIFF or DICOS DX file")],
    declaration_id: Annotated[
        int, Form(ge=1, le=INT32_MAX, description="The stored declaration it belongs to")
    ],
    unit: UnitDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    response: Response,
    sidecar: Annotated[
        UploadFile | None,
        File(description="The TIFF's JSON sidecar, unless the TIFF carries it"),
    ] = None,
    container_number: Annotated[
        str | None, Form(max_length=17, description="ISO 6346; must match the file's")
    ] = None,
    tare_kg: Annotated[
        float | None,
        Form(
            ge=0,
            description="The container's tare from its CSC plate, kg: reported beside the "
            "imaged load as the container's gross; never part of the declared mass compared",
        ),
    ] = None,
    goods_gross_kg: Annotated[
        float | None,
        Form(
            ge=0,
            description="Gross mass of this container's goods, kg: the goods with their "
            "packaging, without the container (its tare is separate equipment data), as a "
            "declaration states it; compared with the imaged load directly. Needed when several "
            "containers share a declaration, otherwise taken from the declaration",
        ),
    ] = None,
    declared_empty: Annotated[
        bool | None, Form(description="The container is declared empty")
    ] = None,
) -> ScanPublic:
    """Read, check against the declaration, analyse and store: the answer carries the
    findings. An unreadable or inconsistent file is refused (422) naming what is wrong."""
    received = receive_scan(
        unit,
        store_for(ctx.settings),
        Upload(
            data=file.file.read(),
            file_name=file.filename or "scan",
            declaration_id=declaration_id,
            sidecar=sidecar.file.read() if sidecar is not None else None,
            container_number=container_number or None,
            tare_kg=tare_kg,
            goods_gross_kg=goods_gross_kg,
            declared_empty=declared_empty,
        ),
        actor=principal.username,
        source="api",
    )
    if not received.created:
        response.status_code = status.HTTP_200_OK
    return scan_public(received.scan, created=received.created)


@router.get("", summary="Scans in a review queue (flagged first)")
@requires(*READERS)
def list_scans(
    unit: UnitDep,
    queue_name: Annotated[
        str, Query(alias="queue", pattern="^(" + "|".join(QUEUES) + ")$")
    ] = "review",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ScanSummary]:
    rows = [row for row, _ in queue(unit.session, queue_name, limit=limit)]
    earlier = partner_scans(unit.session, [r.container_number for r in rows])
    return [
        ScanSummary(
            **_summary_fields(row),
            partner_scans=_partner_scans(earlier.get(row.container_number, []), row.id),
        )
        for row in rows
    ]


@router.get(
    "/partner-scans",
    summary="Was this container scanned by a partner lately? (before scanning it again)",
)
@requires(*READERS)
def container_partner_scans(
    unit: UnitDep,
    container_number: Annotated[
        str, Query(min_length=4, max_length=17, description="ISO 6346 container number")
    ],
) -> list[PartnerScan]:
    number = container_number.replace(" ", "").upper()
    return _partner_scans(partner_scans(unit.session, [number]).get(number, []), 0)


@router.post(
    "/{scan_id}/share",
    status_code=status.HTTP_201_CREATED,
    summary="Share a scan (file, report, decision) with a partner that may receive scans",
)
@requires(*SHARERS)
def share(
    scan_id: RowId, body: ShareCreate, unit: UnitDep, ctx: ContextDep, principal: CurrentPrincipal
) -> ScanPublic:
    """Queued in the outbox in this request's transaction; delivered to the partner's inbox
    by the deliverer. 409 ``partner_not_allowed`` when the partner may not receive scans,
    ``already_shared`` when it has this one; a file too large for one message goes in pieces,
    and 413 only when the report, declaration and sidecar alone exceed the inbox's body limit
    or the file would need more than 4096 pieces."""
    share_scan(
        unit,
        store_for(ctx.settings),
        scan_id,
        body.partner,
        note=body.note,
        actor=principal.username,
        own_name=ctx.settings.administration_name,
        max_bytes=ctx.settings.max_upload_bytes,
    )
    return scan_public(_get(unit, scan_id))


@router.get("/{scan_id}", summary="A scan, its findings, reviews and examination result")
@requires(*READERS)
def read(scan_id: RowId, unit: UnitDep) -> ScanPublic:
    return scan_public(_get(unit, scan_id))


@router.get(
    "/{scan_id}/image.png",
    summary="The scan as an image: windowed attenuation, grey or material colours",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
@requires(*READERS)
def image_png(
    scan_id: RowId,
    unit: UnitDep,
    ctx: ContextDep,
    low: Annotated[float | None, Query(ge=0, le=16, description="Window start (α)")] = None,
    high: Annotated[float | None, Query(gt=0, le=16, description="Window end (α)")] = None,
    colour: Annotated[str, Query(pattern="^(grey|material)$")] = "material",
    invert: bool = False,
) -> Response:
    row = _get(unit, scan_id)
    layers = layers_of(store_for(ctx.settings), row)
    window = None
    if low is not None or high is not None:
        default = layers.default_window()
        window = (default[0] if low is None else low, default[1] if high is None else high)
        if not window[1] > window[0]:
            raise ValidationFailed(
                "the window's high end must be above its low end",
                details=[{"field": "high", "got": window[1], "low": window[0]}],
            )
    png = display_png(layers, window=window, colour=colour, invert=invert)
    return Response(png, media_type="image/png", headers={"Cache-Control": IMAGE_CACHE})


@router.get(
    "/{scan_id}/attenuation.png",
    summary="Attenuation and material class for viewers: α = (256·R + G) / 4096, "
    "class in B (0 unknown, 1 organic, 2 mixed, 3 metal)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
@requires(*READERS)
def attenuation_png(scan_id: RowId, unit: UnitDep, ctx: ContextDep) -> Response:
    row = _get(unit, scan_id)
    png = data_png(layers_of(store_for(ctx.settings), row))
    return Response(png, media_type="image/png", headers={"Cache-Control": IMAGE_CACHE})


def _regions(regions: list[Region]) -> list[dict[str, Any]]:
    return [r.model_dump() for r in regions]


@router.post("/{scan_id}/review", summary="An image analyst's decision")
@requires(Role.IMAGE_ANALYST)
def review(
    scan_id: RowId, body: ReviewCreate, unit: UnitDep, principal: CurrentPrincipal
) -> ScanPublic:
    review_scan(
        unit,
        scan_id,
        decision=body.decision,
        regions=_regions(body.regions),
        note=body.note,
        seconds_open=body.seconds_open,
        actor=principal.username,
    )
    return scan_public(_get(unit, scan_id))


@router.post("/{scan_id}/recheck", summary="A supervisor's re-check (not the analyst's own)")
@requires(Role.SUPERVISOR)
def recheck(
    scan_id: RowId, body: RecheckCreate, unit: UnitDep, principal: CurrentPrincipal
) -> ScanPublic:
    recheck_scan(
        unit,
        scan_id,
        decision=body.decision,
        regions=_regions(body.regions),
        note=body.note,
        actor=principal.username,
    )
    return scan_public(_get(unit, scan_id))


@router.post(
    "/{scan_id}/examination",
    status_code=status.HTTP_201_CREATED,
    summary="What the physical examination found (the scan's label)",
)
@requires(Role.EXAMINING_OFFICER)
def examination(
    scan_id: RowId, body: ExaminationCreate, unit: UnitDep, principal: CurrentPrincipal
) -> ScanPublic:
    record_examination(
        unit,
        scan_id,
        irregular=body.irregular,
        codes=body.codes,
        regions=_regions(body.regions),
        found_kg=body.found_kg,
        weighed_net_kg=body.weighed_net_kg,
        note=body.note,
        actor=principal.username,
    )
    return scan_public(_get(unit, scan_id))
