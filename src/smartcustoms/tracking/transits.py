"""The transit lifecycle: created from a declaration, armed at origin, handed over at borders,
discharged at destination (see :mod:`.transit_status` for the states).

Every step is one transaction that writes the transit, a step row (who, when, what), a live feed
entry, and publishes a typed event after the commit (the ledger records it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.store import get_declaration
from smartcustoms.reference.container_numbers import container_problem, normalise_container
from smartcustoms.tracking.events import (
    TransitArmed,
    TransitCancelled,
    TransitCreated,
    TransitDischarged,
    TransitHandedOver,
)
from smartcustoms.tracking.feed import append_feed
from smartcustoms.tracking.geometry import Shape, line_shape
from smartcustoms.tracking.tables import (
    CorridorRow,
    DeviceRow,
    TransitLiveRow,
    TransitRow,
    TransitStepRow,
    ZoneRow,
)
from smartcustoms.tracking.transit_status import MONITORED, TransitStatus

__all__ = [
    "HandIn",
    "TransitRequest",
    "accept_transit",
    "arm_transit",
    "cancel_transit",
    "create_transit",
    "discharge_transit",
    "get_transit",
    "hand_in_transit",
    "hand_over_transit",
    "release_guarantee",
]

_OPEN = (TransitStatus.CREATED.value, *MONITORED)
_OFFICE_KINDS = ("port", "office", "border_post")


@dataclass(frozen=True)
class TransitRequest:
    """What a transit is created with; containers default to the declaration's."""

    declaration_id: int
    device_id: str
    vehicle: str
    corridor: str
    origin: str
    destination: str
    deadline: datetime
    seal_number: str | None = None
    containers: Sequence[str] | None = None
    reference: str | None = None


def _invalid(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {problem}", details=[{"field": field, "problem": problem}])


def get_transit(session: Session, transit_id: int) -> TransitRow:
    row = session.get(TransitRow, transit_id)
    if row is None:
        raise NotFound(f"no transit {transit_id}", details=[{"transit_id": transit_id}])
    return row


def _zone(session: Session, code: str, field: str, kinds: Sequence[str]) -> ZoneRow:
    zone = session.scalars(select(ZoneRow).where(ZoneRow.code == code)).first()
    if zone is None:
        raise _invalid(field, f"no zone {code!r}; import it with the corridors")
    if zone.kind not in kinds:
        raise _invalid(field, f"zone {code!r} is a {zone.kind}, expected one of {list(kinds)}")
    return zone


def _step(
    unit: Unit, row: TransitRow, step: str, actor: str, now: datetime, **details: Any
) -> None:
    unit.session.add(
        TransitStepRow(transit_id=row.id, step=step, at=now, actor=actor, details=details)
    )
    row.changed_at = now
    append_feed(
        unit.session,
        [
            (
                "transit",
                row.id,
                {
                    "transit_id": row.id,
                    "reference": row.reference,
                    "status": row.status,
                    "device_id": row.device_id,
                    "step": step,
                },
            )
        ],
        now,
    )


def create_transit(
    unit: Unit, request: TransitRequest, *, actor: str, administration: str
) -> TransitRow:
    """A transit for a stored declaration; its seal not yet armed."""
    session = unit.session
    now = clock.now()
    declaration = get_declaration(session, request.declaration_id)
    if declaration is None:
        raise _invalid("declaration_id", f"no declaration {request.declaration_id}")
    document = declaration.document
    reference = (
        request.reference or declaration.mrn or f"{declaration.declarant_id}-{declaration.lrn}"
    )
    if session.scalars(select(TransitRow.id).where(TransitRow.reference == reference)).first():
        raise Conflict(f"a transit {reference!r} exists already", details=[{"field": "reference"}])
    if request.containers is None:
        containers = [e["container_id"] for e in document.get("transport_equipment", [])]
    else:
        containers = list(request.containers)
    clean = []
    for n, number in enumerate(containers):
        problem = container_problem(number)
        if problem:
            raise _invalid(f"containers[{n}]", f"{number!r}: {problem}")
        clean.append(normalise_container(number))
    vehicle = request.vehicle.strip()
    if not 1 <= len(vehicle) <= 35:
        raise _invalid("vehicle", "the vehicle's registration, 1 to 35 characters")
    device_id = request.device_id.strip()
    if not 1 <= len(device_id) <= 32:
        raise _invalid("device_id", "the seal's device ID, 1 to 32 characters")
    corridor = session.scalars(
        select(CorridorRow).where(CorridorRow.code == request.corridor)
    ).first()
    if corridor is None:
        raise _invalid("corridor", f"no corridor {request.corridor!r}")
    area = _corridor_area(corridor)
    for field, code in (("origin", request.origin), ("destination", request.destination)):
        zone = _zone(session, code, field, _OFFICE_KINDS)
        if not shapely.intersects(area.area, shapely.Point(zone.longitude, zone.latitude)):
            raise _invalid(field, f"{code!r} is not on corridor {corridor.code!r}")
    if request.origin == request.destination:
        raise _invalid("destination", "the destination is the origin")
    if request.deadline <= now:
        raise _invalid("deadline", "the deadline has passed already")
    busy = session.scalars(
        select(TransitRow.reference).where(
            TransitRow.device_id == device_id, TransitRow.status.in_(_OPEN)
        )
    ).first()
    if busy is not None:
        raise Conflict(
            f"device {device_id} seals transit {busy}, which is not over",
            details=[{"field": "device_id", "transit": busy}],
        )
    if session.get(DeviceRow, device_id) is None:
        session.add(
            DeviceRow(
                device_id=device_id,
                kind="e-seal",
                registered_at=now,
                registered_by=actor,
                disabled=False,
            )
        )
    row = TransitRow(
        reference=reference,
        declaration_id=declaration.id,
        device_id=device_id,
        seal_number=request.seal_number,
        vehicle=vehicle,
        containers=clean,
        corridor_id=corridor.id,
        origin=request.origin,
        destination=request.destination,
        deadline=request.deadline,
        status=TransitStatus.CREATED.value,
        responsible=administration,
        created_at=now,
        created_by=actor,
        changed_at=now,
    )
    session.add(row)
    session.flush()
    _step(unit, row, "created", actor, now, declaration_id=declaration.id)
    unit.emit(
        TransitCreated(
            actor=actor,
            at=now,
            transit_id=row.id,
            reference=reference,
            declaration_id=declaration.id,
            device_id=device_id,
            seal_number=request.seal_number,
            vehicle=vehicle,
            containers=tuple(clean),
            corridor=corridor.code,
            origin=request.origin,
            destination=request.destination,
            deadline=request.deadline.isoformat(),
        )
    )
    return row


_AREAS: dict[tuple[int, datetime, int], Shape] = {}


def _corridor_area(corridor: CorridorRow) -> Shape:
    """The corridor's buffer, computed once per import (it takes tens of milliseconds)."""
    key = (corridor.id, corridor.imported_at, corridor.buffer_m)
    area = _AREAS.get(key)
    if area is None:
        if len(_AREAS) > 64:
            _AREAS.clear()
        area = _AREAS[key] = line_shape(corridor.route, corridor.buffer_m)
    return area


def _require(row: TransitRow, allowed: Sequence[str], action: str) -> None:
    if row.status not in allowed:
        raise Conflict(
            f"transit {row.reference} is {row.status}: it cannot be {action}",
            details=[{"status": row.status, "allowed": list(allowed)}],
        )


def arm_transit(unit: Unit, transit_id: int, *, actor: str) -> TransitRow:
    """The officer at the office of departure arms the seal: monitoring starts now."""
    row = get_transit(unit.session, transit_id)
    _require(row, (TransitStatus.CREATED.value,), "armed")
    now = clock.now()
    row.status = TransitStatus.ARMED.value
    row.armed_at = now
    live = unit.session.get(TransitLiveRow, row.id)
    if live is None:
        unit.session.add(TransitLiveRow(transit_id=row.id, rule_state={}, updated_at=now))
    _step(unit, row, "armed", actor, now, office=row.origin)
    unit.emit(
        TransitArmed(
            actor=actor,
            at=now,
            transit_id=row.id,
            reference=row.reference,
            device_id=row.device_id,
            office=row.origin,
        )
    )
    return row


def hand_over_transit(
    unit: Unit, transit_id: int, *, actor: str, border: str, to_administration: str
) -> TransitRow:
    """At a border post the partner administration takes responsibility; monitoring goes on."""
    row = get_transit(unit.session, transit_id)
    _require(row, tuple(MONITORED), "handed over")
    _zone(unit.session, border, "border", ("border_post",))
    partner = to_administration.strip()
    if not 1 <= len(partner) <= 120:
        raise _invalid(
            "to_administration", "the partner administration's name, 1 to 120 characters"
        )
    now = clock.now()
    previous = row.responsible
    row.status = TransitStatus.HANDED_OVER.value
    row.responsible = partner
    _step(unit, row, "handed_over", actor, now, border=border, to=partner, by=previous)
    unit.emit(
        TransitHandedOver(
            actor=actor,
            at=now,
            transit_id=row.id,
            reference=row.reference,
            border=border,
            to_administration=partner,
            from_administration=previous,
        )
    )
    return row


@dataclass(frozen=True)
class HandIn:
    """A transit a partner administration handed over to us (federation), as its message
    said; the declaration and corridor already stored here."""

    declaration_id: int
    corridor_id: int
    reference: str
    device_id: str
    seal_number: str | None
    vehicle: str
    containers: Sequence[str]
    origin: str
    destination: str
    deadline: datetime
    border: str
    from_administration: str
    origin_reference: str
    origin_transit_id: int
    corridor_code: str


def hand_in_transit(unit: Unit, hand_in: HandIn, *, actor: str) -> TransitRow:
    """Our side of a partner's hand-over: the transit exists here from now, monitored at once
    (its positions are judged by our rules), pending our acceptance; the partner stays
    responsible until then. Recorded as created and armed (at the border) here."""
    session = unit.session
    busy = session.scalars(
        select(TransitRow.reference).where(
            TransitRow.device_id == hand_in.device_id, TransitRow.status.in_(_OPEN)
        )
    ).first()
    if busy is not None:
        raise Conflict(
            f"device {hand_in.device_id} seals transit {busy} here, which is not over",
            details=[{"field": "transit.device_id", "transit": busy}],
        )
    if session.get(DeviceRow, hand_in.device_id) is None:
        session.add(
            DeviceRow(
                device_id=hand_in.device_id,
                kind="e-seal",
                registered_at=clock.now(),
                registered_by=actor[:64],
                disabled=False,
            )
        )
    now = clock.now()
    row = TransitRow(
        reference=hand_in.reference,
        declaration_id=hand_in.declaration_id,
        device_id=hand_in.device_id,
        seal_number=hand_in.seal_number,
        vehicle=hand_in.vehicle,
        containers=list(hand_in.containers),
        corridor_id=hand_in.corridor_id,
        origin=hand_in.origin,
        destination=hand_in.destination,
        deadline=hand_in.deadline,
        status=TransitStatus.ARMED.value,
        responsible=hand_in.from_administration,
        created_at=now,
        created_by=actor[:64],
        armed_at=now,
        changed_at=now,
        handed_in_from=hand_in.from_administration,
        origin_reference=hand_in.origin_reference,
        origin_transit_id=hand_in.origin_transit_id,
    )
    session.add(row)
    session.flush()
    session.add(TransitLiveRow(transit_id=row.id, rule_state={}, updated_at=now))
    _step(
        unit,
        row,
        "handed_in",
        actor,
        now,
        border=hand_in.border,
        by=hand_in.from_administration,
        origin_reference=hand_in.origin_reference,
    )
    unit.emit(
        TransitCreated(
            actor=actor,
            at=now,
            transit_id=row.id,
            reference=row.reference,
            declaration_id=row.declaration_id,
            device_id=row.device_id,
            seal_number=row.seal_number,
            vehicle=row.vehicle,
            containers=tuple(row.containers),
            corridor=hand_in.corridor_code,
            origin=row.origin,
            destination=row.destination,
            deadline=row.deadline.isoformat(),
        )
    )
    unit.emit(
        TransitArmed(
            actor=actor,
            at=now,
            transit_id=row.id,
            reference=row.reference,
            device_id=row.device_id,
            office=hand_in.border,
        )
    )
    return row


def accept_transit(unit: Unit, transit_id: int, *, actor: str, administration: str) -> TransitRow:
    """Our officer (or the automatic rule) takes responsibility for a handed-in transit."""
    row = get_transit(unit.session, transit_id)
    if row.handed_in_from is None:
        raise Conflict(
            f"transit {row.reference} was not handed over to us by a partner",
            details=[{"field": "transit_id"}],
        )
    if row.accepted_at is not None:
        raise Conflict(
            f"transit {row.reference} was accepted already",
            details=[{"accepted_by": row.accepted_by}],
        )
    _require(row, tuple(MONITORED), "accepted")
    now = clock.now()
    row.accepted_at = now
    row.accepted_by = actor[:64]
    previous = row.responsible
    row.responsible = administration
    _step(unit, row, "accepted", actor, now, by=previous, to=administration)
    return row


def release_guarantee(unit: Unit, row: TransitRow, *, actor: str, by: str) -> None:
    """The partner discharged a transit we handed over: its guarantee is released here."""
    now = clock.now()
    row.guarantee_released_at = now
    _step(unit, row, "released", actor, now, by=by)


def discharge_transit(
    unit: Unit, transit_id: int, *, actor: str, seal_intact: bool, note: str = ""
) -> TransitRow:
    """The officer at destination disarms the seal: the transit ends."""
    row = get_transit(unit.session, transit_id)
    _require(row, tuple(MONITORED), "discharged")
    now = clock.now()
    live = unit.session.get(TransitLiveRow, row.id)
    at_destination = live is not None and live.zone == row.destination
    row.status = TransitStatus.DISCHARGED.value
    row.ended_at = now
    _step(
        unit,
        row,
        "discharged",
        actor,
        now,
        office=row.destination,
        at_destination=at_destination,
        seal_intact=seal_intact,
        note=note[:500],
    )
    unit.emit(
        TransitDischarged(
            actor=actor,
            at=now,
            transit_id=row.id,
            reference=row.reference,
            office=row.destination,
            at_destination=at_destination,
            seal_intact=seal_intact,
        )
    )
    return row


def cancel_transit(unit: Unit, transit_id: int, *, actor: str, reason: str) -> TransitRow:
    row = get_transit(unit.session, transit_id)
    _require(row, _OPEN, "cancelled")
    reason = reason.strip()
    if not 1 <= len(reason) <= 500:
        raise _invalid("reason", "why the transit is cancelled, 1 to 500 characters")
    now = clock.now()
    row.status = TransitStatus.CANCELLED.value
    row.ended_at = now
    _step(unit, row, "cancelled", actor, now, reason=reason)
    unit.emit(
        TransitCancelled(
            actor=actor, at=now, transit_id=row.id, reference=row.reference, reason=reason
        )
    )
    return row


def default_deadline(hours: float, now: datetime | None = None) -> datetime:
    return (now or clock.now()) + timedelta(hours=hours)
