"""The devices page, for administrators: each e-seal, e-lock or tracker with the transit it
seals, its battery and its last report; register one, assign one to a transit not armed yet,
retire one. Each change is a ledger record (``tracking.device_*``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from smartcustoms.core.errors import SmartCustomsError, ValidationFailed
from smartcustoms.core.i18n import N_
from smartcustoms.core.roles import Role
from smartcustoms.tracking.devices import (
    DEVICE_KINDS,
    assign_device,
    device_overview,
    register_device,
    retire_device,
)
from smartcustoms.tracking.protocols import PROTOCOLS
from smartcustoms.tracking.tables import TransitRow
from smartcustoms.tracking.transit_status import TransitStatus
from smartcustoms.web.auth import context
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import render
from smartcustoms.web.ui.routes.admin_forms import FormError, form_error

router = APIRouter(prefix="/admin/devices", include_in_schema=False)

DeviceId = Annotated[str, Path(min_length=1, max_length=32)]
_EMPTY = {"device_id": "", "kind": "e-seal", "protocol": "", "label": ""}

#: The device kinds' names on the page (the stored values are codes).
KIND_LABELS = {"e-seal": N_("e-seal"), "e-lock": N_("e-lock"), "tracker": N_("tracker")}


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    error: FormError | None = None,
    row_error: tuple[str, FormError] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with context(request).db.read_session() as session:
        devices = [
            {
                "device_id": d.device.device_id,
                "kind": d.device.kind,
                "protocol": d.device.protocol or "",
                "label": d.device.label or "",
                "retired": d.device.disabled,
                "transit_id": d.transit_id,
                "transit_reference": d.transit_reference,
                "transit_status": d.transit_status,
                "last_report_at": _iso(d.last_report_at),
                "battery": None if d.battery_level is None else round(d.battery_level),
            }
            for d in device_overview(session)
        ]
        # The transits a device can be assigned to: created, not armed yet.
        waiting = [
            {"id": t.id, "reference": t.reference, "device_id": t.device_id}
            for t in session.scalars(
                select(TransitRow)
                .where(TransitRow.status == TransitStatus.CREATED.value)
                .order_by(TransitRow.id.desc())
                .limit(200)
            )
        ]
    return render(
        request,
        "admin_devices.html",
        status_code=status_code,
        devices=devices,
        waiting=waiting,
        kinds=DEVICE_KINDS,
        kind_labels=KIND_LABELS,
        protocols=[*PROTOCOLS, "mqtt"],
        form=form or dict(_EMPTY),
        error=error,
        row_error=row_error,
    )


@router.get("", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
def devices_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("")
@requires(Role.ADMINISTRATOR)
def register(
    request: Request,
    principal: CurrentPrincipal,
    device_id: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=16)] = "e-seal",
    protocol: Annotated[str, Form(max_length=16)] = "",
    label: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    form = {"device_id": device_id, "kind": kind, "protocol": protocol, "label": label}
    try:
        clean = device_id.strip()
        if not 1 <= len(clean) <= 32 or not clean.isprintable():
            raise ValidationFailed(
                "device_id: 1 to 32 characters", details=[{"field": "device_id"}]
            )
        if len(label.strip()) > 120:
            raise ValidationFailed("label: at most 120 characters", details=[{"field": "label"}])
        with context(request).unit() as unit:
            register_device(
                unit,
                clean,
                kind=kind,
                protocol=protocol or None,
                label=label.strip() or None,
                actor=principal.username,
            )
    except SmartCustomsError as exc:
        return _page(
            request, form=form, error=form_error(request, exc), status_code=exc.status_code
        )
    return RedirectResponse("/admin/devices", status_code=303)


@router.post("/{device_id}/assign")
@requires(Role.ADMINISTRATOR)
def assign(
    request: Request,
    device_id: DeviceId,
    principal: CurrentPrincipal,
    transit_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    try:
        if not transit_id.isdigit() or not 1 <= int(transit_id) <= 2**31 - 1:
            raise ValidationFailed(
                "transit_id: choose a transit", details=[{"field": "transit_id"}]
            )
        with context(request).unit() as unit:
            assign_device(unit, device_id, int(transit_id), actor=principal.username)
    except SmartCustomsError as exc:
        return _page(
            request,
            row_error=(device_id, form_error(request, exc)),
            status_code=exc.status_code,
        )
    return RedirectResponse("/admin/devices", status_code=303)


@router.post("/{device_id}/retire")
@requires(Role.ADMINISTRATOR)
def retire(
    request: Request,
    device_id: DeviceId,
    principal: CurrentPrincipal,
    reason: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    try:
        with context(request).unit() as unit:
            retire_device(unit, device_id, actor=principal.username, reason=reason)
    except SmartCustomsError as exc:
        return _page(
            request,
            row_error=(device_id, form_error(request, exc)),
            status_code=exc.status_code,
        )
    return RedirectResponse("/admin/devices", status_code=303)
