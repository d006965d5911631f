"""Registered devices: the e-seals, e-locks and trackers the administration owns or accepts.

Transits register their seal on creation. With ``tracking_accept_unknown_devices`` off, the
listeners take reports only from registered devices that are not disabled.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.tracking.events import DeviceRegistered
from smartcustoms.tracking.protocols import PROTOCOLS
from smartcustoms.tracking.tables import DeviceRow

__all__ = ["DEVICE_KINDS", "list_devices", "register_device"]

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
