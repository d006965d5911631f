"""Administration: customs offices, devices (their transit, battery and last report), corridors,
and the ledger's keys and witnesses. Administrators only; every change is a ledger record.

Registering a device and importing corridors stay where they were (``/api/tracking/devices``,
``/api/tracking/corridors/import``); users and their trader identities under ``/api/users``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from smartcustoms.core.events import AdminAction
from smartcustoms.core.roles import Role
from smartcustoms.ledger.errors import PRODUCT_ERRORS
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.witness import list_logs
from smartcustoms.reference.offices import MAX_CAPACITY, OfficeInput, list_offices, save_office
from smartcustoms.reference.unlocode import location
from smartcustoms.tracking.devices import assign_device, device_overview, retire_device
from smartcustoms.tracking.tables import CorridorRow, ZoneRow
from smartcustoms.web.auth import context
from smartcustoms.web.deps import UnitDep
from smartcustoms.web.policy import CurrentPrincipal, requires

__all__ = ["router"]

router = APIRouter(prefix="/api/admin", tags=["administration"])

OfficeCode = Annotated[str, Path(min_length=5, max_length=6, description="A UN/LOCODE")]
DeviceId = Annotated[str, Path(min_length=1, max_length=32)]


class OfficePublic(BaseModel):
    code: str
    name: str
    time_zone: str
    examination_capacity: int
    unlocode_name: str | None = Field(description="The packaged UN/LOCODE point's own name")
    changed_at: datetime
    changed_by: str


class OfficeChange(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    time_zone: str = Field(min_length=1, max_length=64, examples=["Africa/Nairobi"])
    examination_capacity: int = Field(ge=0, le=MAX_CAPACITY)


@router.get("/offices", summary="Customs offices")
@requires(Role.ADMINISTRATOR)
def offices(unit: UnitDep) -> list[OfficePublic]:
    return [_office(o) for o in list_offices(unit.session)]


@router.put("/offices/{code}", summary="Create or change a customs office")
@requires(Role.ADMINISTRATOR)
def put_office(
    code: OfficeCode, body: OfficeChange, unit: UnitDep, principal: CurrentPrincipal
) -> OfficePublic:
    row = save_office(
        unit,
        OfficeInput(
            code=code,
            name=body.name,
            time_zone=body.time_zone,
            examination_capacity=body.examination_capacity,
        ),
        actor=principal.username,
    )
    return _office(row)


def _office(row: Any) -> OfficePublic:
    point = location(row.code)
    return OfficePublic(
        code=row.code,
        name=row.name,
        time_zone=row.time_zone,
        examination_capacity=row.examination_capacity,
        unlocode_name=point.name if point else None,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
    )


class DeviceStatus(BaseModel):
    device_id: str
    kind: str
    protocol: str | None
    label: str | None
    retired: bool
    transit_id: int | None = Field(description="The transit it seals that is not over")
    transit_reference: str | None
    transit_status: str | None
    last_report_at: datetime | None = Field(description="Device time of its latest position")
    last_received_at: datetime | None
    battery_level: float | None = Field(description="Percent, from its latest reports")
    latitude: float | None
    longitude: float | None


class DeviceAssignment(BaseModel):
    transit_id: int = Field(ge=1, le=2**31 - 1)


class DeviceRetirement(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


@router.get("/devices", summary="Devices with their transit, battery and last report")
@requires(Role.ADMINISTRATOR)
def devices(unit: UnitDep) -> list[DeviceStatus]:
    return [
        DeviceStatus(
            device_id=d.device.device_id,
            kind=d.device.kind,
            protocol=d.device.protocol,
            label=d.device.label,
            retired=d.device.disabled,
            transit_id=d.transit_id,
            transit_reference=d.transit_reference,
            transit_status=d.transit_status,
            last_report_at=d.last_report_at,
            last_received_at=d.last_received_at,
            battery_level=d.battery_level,
            latitude=d.latitude,
            longitude=d.longitude,
        )
        for d in device_overview(unit.session)
    ]


class AssignmentPublic(BaseModel):
    transit_id: int
    reference: str
    device_id: str


@router.post(
    "/devices/{device_id}/assign",
    summary="Make the device the seal of a transit not armed yet",
    description="409 when the device is retired, seals another transit that is not over, or "
    "the transit is armed already; 422 naming `transit_id` when there is no such transit.",
)
@requires(Role.ADMINISTRATOR)
def assign(
    device_id: DeviceId, body: DeviceAssignment, unit: UnitDep, principal: CurrentPrincipal
) -> AssignmentPublic:
    row = assign_device(unit, device_id, body.transit_id, actor=principal.username)
    return AssignmentPublic(transit_id=row.id, reference=row.reference, device_id=row.device_id)


@router.post(
    "/devices/{device_id}/retire",
    summary="Retire a device: its reports are no longer taken",
    description="409 while it seals a transit that is not over, or when retired already.",
)
@requires(Role.ADMINISTRATOR)
def retire(
    device_id: DeviceId, body: DeviceRetirement, unit: UnitDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    row = retire_device(unit, device_id, actor=principal.username, reason=body.reason)
    return {"device_id": row.device_id, "retired": row.disabled}


class CorridorSummary(BaseModel):
    code: str
    name: str
    buffer_m: int
    length_km: float
    thresholds: dict[str, Any]
    imported_at: datetime
    imported_by: str


class CorridorList(BaseModel):
    corridors: list[CorridorSummary]
    zones: int


@router.get("/corridors", summary="Corridors with their buffer, length and thresholds")
@requires(Role.ADMINISTRATOR)
def corridors(unit: UnitDep) -> CorridorList:
    rows = unit.session.scalars(select(CorridorRow).order_by(CorridorRow.code)).all()
    zones = unit.session.scalar(select(func.count()).select_from(ZoneRow)) or 0
    return CorridorList(
        corridors=[
            CorridorSummary(
                code=c.code,
                name=c.name,
                buffer_m=c.buffer_m,
                length_km=c.length_km,
                thresholds=c.thresholds,
                imported_at=c.imported_at,
                imported_by=c.imported_by,
            )
            for c in rows
        ],
        zones=zones,
    )


class LedgerKey(BaseModel):
    vkey: str
    current: bool


class WitnessedLogPublic(BaseModel):
    origin: str
    size: int
    vkeys: list[str]


class KeysPublic(BaseModel):
    keys: list[LedgerKey] = Field(description="Every key the log has used")
    witnesses: list[str] = Field(description="The witnesses asked to cosign our checkpoints")
    witness_quorum: int | None
    cosigned_by: list[str] = Field(description="Witnesses (name+keyid) that cosigned the latest")
    checkpoint_size: int | None = Field(description="The latest signed checkpoint's tree size")
    quorum_met: bool | None
    witness_vkey: str | None = Field(description="This instance's own witness key")
    witnessed_logs: list[WitnessedLogPublic] = Field(description="Partner logs we witness")
    rotate_command: str


ROTATE_COMMAND = "smartcustoms ledger rotate-key"


def keys_status(request: Request) -> KeysPublic:
    """What the keys page and the API show: read from the ledger and its tables."""
    ctx = context(request)
    ledger = ledger_of(ctx)
    keys = [LedgerKey(vkey=k, current=c) for k, c in ledger.vkeys()]
    checkpoint = ledger.checkpoint()
    cosigned: list[str] = []
    size = quorum_met = None
    if checkpoint is not None:
        size = checkpoint.size
        quorum_met = checkpoint.quorum_met
        cosigned = sorted({c.witness for c in checkpoint.cosignatures})
    try:
        witness_vkey: str | None = ledger.witness_signer().verifier().key_string()
    except PRODUCT_ERRORS:  # no witness key on this instance: nothing to show
        witness_vkey = None
    with ctx.db.engine.connect() as conn:
        logs = list_logs(conn)
    settings = ctx.settings
    return KeysPublic(
        keys=keys,
        witnesses=[w.split("+", 1)[0] for w in settings.ledger_witnesses],
        witness_quorum=settings.ledger_witness_quorum,
        cosigned_by=cosigned,
        checkpoint_size=size,
        quorum_met=quorum_met,
        witness_vkey=witness_vkey,
        witnessed_logs=[
            WitnessedLogPublic(origin=log.origin, size=log.size, vkeys=list(log.vkeys))
            for log in logs
        ],
        rotate_command=ROTATE_COMMAND,
    )


@router.get("/keys", summary="The ledger's keys, its witnesses and the logs it witnesses")
@requires(Role.ADMINISTRATOR)
def keys(request: Request) -> KeysPublic:
    return keys_status(request)


class RotationPublic(BaseModel):
    old: str
    new: str
    vkey: str


@router.post(
    "/keys/rotate",
    summary="Rotate the ledger's signing key (see the runbook: copy it to every replica)",
)
@requires(Role.ADMINISTRATOR)
def rotate(request: Request, principal: CurrentPrincipal) -> RotationPublic:
    return rotate_key(request, principal.username)


def rotate_key(request: Request, actor: str) -> RotationPublic:
    """As ``smartcustoms ledger rotate-key``: the old key kept as retired, the rotation an
    ``admin.action`` record."""
    ctx = context(request)
    ledger = ledger_of(ctx)
    old, new = ledger.rotate_key(actor)
    ctx.record(AdminAction(actor=actor, action="ledger_key_rotated", target=f"{old} -> {new}"))
    return RotationPublic(old=old, new=new, vkey=ledger.vkey())
