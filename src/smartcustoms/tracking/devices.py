"""Registered devices: the e-seals, e-locks and trackers the administration owns or accepts.

Transits register their seal on creation. With ``tracking_accept_unknown_devices`` off, the
listeners take reports only from registered devices that are not disabled.

Administrators also assign a device to a transit that is not armed yet (the seal is swapped
before departure: once armed, the seal on the truck is the one monitored), and retire a device
(it is disabled: its reports are no longer taken, it can seal no new transit). A device seals
at most one transit that is not over. Each change is a ledger record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.tracking.events import DeviceAssigned, DeviceRegistered, DeviceRetired
from smartcustoms.tracking.feed import append_feed
from smartcustoms.tracking.protocols import PROTOCOLS
from smartcustoms.tracking.tables import DeviceRow, PositionRow, TransitRow, TransitStepRow
from smartcustoms.tracking.transit_status import MONITORED, TransitStatus

__all__ = [
    "DEVICE_KINDS",
    "DeviceOverview",
    "assign_device",
    "device_overview",
    "list_devices",
    "register_device",
    "retire_device",
]

#: Statuses of a transit that is not over: its seal belongs to it.
_OPEN = (TransitStatus.CREATED.value, *MONITORED)

DEVICE_KINDS = ("e-seal", "e-lock", "tracker")


def register_device(
    unit: Unit,
    device_id: str,
    *,
    kind: str,
    protocol: str | None,
    label: str | None,
    actor: str,
) -> DeviceRow:
    if kind not in DEVICE_KINDS:
        raise ValidationFailed(
            f"kind: one of {', '.join(DEVICE_KINDS)}", details=[{"field": "kind"}]
        )
    if protocol is not None and protocol not in PROTOCOLS and protocol != "mqtt":
        raise ValidationFailed(
            f"protocol: one of {', '.join(PROTOCOLS)} or mqtt", details=[{"field": "protocol"}]
        )
    if unit.session.get(DeviceRow, device_id) is not None:
        raise Conflict(
            f"device {device_id} is registered already", details=[{"field": "device_id"}]
        )
    row = DeviceRow(
        device_id=device_id,
        kind=kind,
        protocol=protocol,
        label=label,
        registered_at=clock.now(),
        registered_by=actor,
        disabled=False,
    )
    unit.session.add(row)
    unit.emit(DeviceRegistered(actor=actor, device_id=device_id, kind=kind, protocol=protocol))
    return row


def list_devices(session: Session, limit: int = 1000) -> Sequence[DeviceRow]:
    return session.scalars(select(DeviceRow).order_by(DeviceRow.device_id).limit(limit)).all()


@dataclass(frozen=True)
class DeviceOverview:
    """A device as the administration page shows it: its transit, its last report."""

    device: DeviceRow
    transit_id: int | None  # the transit it seals that is not over
    transit_reference: str | None
    transit_status: str | None
    last_report_at: datetime | None  # device time of its latest stored position
    last_received_at: datetime | None
    battery_level: float | None  # percent, from the latest report that carried it
    latitude: float | None
    longitude: float | None


def _battery(attributes: str) -> float | None:
    try:
        value = json.loads(attributes).get("battery_level")
    except (ValueError, AttributeError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


# Only the latest few reports are read for the battery: not every protocol sends it in every
# frame, and a device's history can be millions of rows (the unique index on (device_id, time,
# digest) serves "latest first" without a sort).
_BATTERY_LOOKBACK = 20


def device_overview(session: Session, limit: int = 500) -> list[DeviceOverview]:
    """Registered devices with the open transit each seals and its latest report."""
    devices = list_devices(session, limit)
    ids = [d.device_id for d in devices]
    busy: dict[str, tuple[int, str, str]] = {}
    if ids:
        for transit_id, device_id, reference, status in session.execute(
            select(TransitRow.id, TransitRow.device_id, TransitRow.reference, TransitRow.status)
            .where(TransitRow.device_id.in_(ids), TransitRow.status.in_(_OPEN))
            .order_by(TransitRow.id)
        ):
            busy[device_id] = (transit_id, reference, status)
    result = []
    for device in devices:
        latest = session.execute(
            select(
                PositionRow.time,
                PositionRow.received_at,
                PositionRow.latitude,
                PositionRow.longitude,
                PositionRow.attributes,
            )
            .where(PositionRow.device_id == device.device_id)
            .order_by(PositionRow.time.desc())
            .limit(_BATTERY_LOOKBACK)
        ).all()
        battery = next((b for b in (_battery(r.attributes) for r in latest) if b is not None), None)
        first = latest[0] if latest else None
        transit = busy.get(device.device_id)
        result.append(
            DeviceOverview(
                device=device,
                transit_id=transit[0] if transit else None,
                transit_reference=transit[1] if transit else None,
                transit_status=transit[2] if transit else None,
                last_report_at=first.time if first else None,
                last_received_at=first.received_at if first else None,
                battery_level=battery,
                latitude=first.latitude if first else None,
                longitude=first.longitude if first else None,
            )
        )
    return result


def _device(session: Session, device_id: str) -> DeviceRow:
    row = session.get(DeviceRow, device_id)
    if row is None:
        raise NotFound(f"no device {device_id}", details=[{"field": "device_id"}])
    return row


def _sealing(session: Session, device_id: str, other_than: int | None = None) -> str | None:
    query = select(TransitRow.reference).where(
        TransitRow.device_id == device_id, TransitRow.status.in_(_OPEN)
    )
    if other_than is not None:
        query = query.where(TransitRow.id != other_than)
    return session.scalars(query).first()


def assign_device(unit: Unit, device_id: str, transit_id: int, *, actor: str) -> TransitRow:
    """Make ``device_id`` the seal of transit ``transit_id``, which must not be armed yet."""
    session = unit.session
    device = _device(session, device_id)
    if device.disabled:
        raise Conflict(
            f"device {device_id} is retired", details=[{"field": "device_id", "problem": "retired"}]
        )
    transit = session.get(TransitRow, transit_id, with_for_update=True)
    if transit is None:
        raise ValidationFailed(
            f"transit_id: no transit {transit_id}",
            details=[{"field": "transit_id", "problem": "not found"}],
        )
    if transit.status != TransitStatus.CREATED.value:
        raise Conflict(
            f"transit {transit.reference} is {transit.status}: only a transit not armed yet "
            "takes another device",
            details=[{"field": "transit_id", "status": transit.status}],
        )
    busy = _sealing(session, device_id, other_than=transit.id)
    if busy is not None:
        raise Conflict(
            f"device {device_id} seals transit {busy}, which is not over",
            details=[{"field": "device_id", "transit": busy}],
        )
    previous = transit.device_id
    if previous == device_id:
        return transit
    now = clock.now()
    transit.device_id = device_id
    transit.changed_at = now  # ingest workers reload transits whose lifecycle changed
    session.add(
        TransitStepRow(
            transit_id=transit.id,
            step="device_assigned",
            at=now,
            actor=actor,
            details={"device_id": device_id, "previous": previous},
        )
    )
    payload: dict[str, Any] = {
        "transit_id": transit.id,
        "reference": transit.reference,
        "status": transit.status,
        "device_id": device_id,
        "step": "device_assigned",
    }
    append_feed(session, [("transit", transit.id, payload)], now)
    session.flush()
    unit.emit(
        DeviceAssigned(
            actor=actor,
            at=now,
            transit_id=transit.id,
            reference=transit.reference,
            declaration_id=transit.declaration_id,
            device_id=device_id,
            previous_device_id=previous,
        )
    )
    return transit


def retire_device(unit: Unit, device_id: str, *, actor: str, reason: str) -> DeviceRow:
    """Disable a device for good: refused while it seals a transit that is not over."""
    session = unit.session
    reason = " ".join(reason.split())
    if not 1 <= len(reason) <= 500:
        raise ValidationFailed(
            "reason: why the device is retired, 1 to 500 characters",
            details=[{"field": "reason", "problem": "1 to 500 characters"}],
        )
    device = _device(session, device_id)
    if device.disabled:
        raise Conflict(
            f"device {device_id} is retired already",
            details=[{"field": "device_id", "problem": "retired"}],
        )
    busy = _sealing(session, device_id)
    if busy is not None:
        raise Conflict(
            f"device {device_id} seals transit {busy}, which is not over",
            details=[{"field": "device_id", "transit": busy}],
        )
    device.disabled = True
    session.flush()
    unit.emit(DeviceRetired(actor=actor, device_id=device_id, reason=reason))
    return device
