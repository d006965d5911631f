"""Transit hand-over across a border, between two instances.

Origin side (the administration that armed the seal):

* :class:`HandoverRecorder`, a recorder on the event bus (like the ledger's), sees
  ``tracking.transit_handed_over`` inside the transaction that hands the transit over — from
  the API, the page or the command line alike — and, when the administration named is a
  partner in the directory that receives transits, queues ``transit.handover`` in the outbox
  through the same connection: the consignment (declaration, container, vehicle, seal, the
  corridor's geometry and thresholds, the zones named, the track so far, open alerts) and a
  ``federation_forwarding`` row (the device followed, and to which partner).
* Its positions stored from then on are queued for the partner by their writer, in the
  transaction that stores them, and packed into ``transit.positions`` messages by the deliverer
  (:mod:`.forwarding`: nothing is lost whatever order concurrent writers commit in).
* The partner's ``transit.accepted`` adds an "accepted" step to our transit (by the partner) and
  a ``federation.transit_accepted`` record to our ledger; its ``transit.discharged`` closes our
  transit (discharged, by the partner) and releases its guarantee.

Partner side: the inbox handlers below create the transit here (declaration and corridor
stored here, monitored at once so our own rules judge its positions and our map shows it,
pending acceptance by an officer, or accepted at once with
``SMARTCUSTOMS_FEDERATION_AUTO_ACCEPT``; the origin's open alerts raised again here as the
origin's, :mod:`.handed_in`, whose sweep also runs our clock rules on it), tell the origin when
it is accepted (``transit.accepted``), store forwarded positions through our tracking
pipeline in the inbox's transaction (so a position acknowledged to the origin is stored, and
a redelivered batch is answered from the inbox, never stored twice), and when our officer
discharges it, :class:`HandoverRecorder` queues ``transit.discharged`` back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.model import Declaration
from smartcustoms.declarations.store import get_declaration, store_declarations
from smartcustoms.federation.events import GuaranteeReleased, TransitAccepted, TransitHandedIn
from smartcustoms.federation.forwarding import (
    FIELDS,
    POSITIONS,
    forward_positions,
    freeze_positions,
    iso,
    stage_positions,
    wire,
)
from smartcustoms.federation.handed_in import PIPELINE, recreate_alerts
from smartcustoms.federation.inbox import Incoming, handler
from smartcustoms.federation.outbox import enqueue
from smartcustoms.federation.tables import ACTIVE, ForwardingRow, PartnerRow
from smartcustoms.tracking.corridors import import_geojson
from smartcustoms.tracking.pipeline import ARMING_SLACK, process
from smartcustoms.tracking.records import Position, SealEvent, valid_device_id
from smartcustoms.tracking.rules import Report
from smartcustoms.tracking.store import insert_positions, position_rows
from smartcustoms.tracking.tables import (
    AlertRow,
    CorridorRow,
    PositionRow,
    TransitLiveRow,
    TransitRow,
    TransitStepRow,
    ZoneRow,
)
from smartcustoms.tracking.transit_status import MONITORED
from smartcustoms.tracking.transits import (
    HandIn,
    accept_transit,
    discharge_transit,
    get_transit,
    hand_in_transit,
    release_guarantee,
)

__all__ = [
    "ACCEPTED",
    "DISCHARGED",
    "HANDOVER",
    "POSITIONS",
    "HandoverRecorder",
    "accept",
    "forward_positions",
]

log = logging.getLogger("smartcustoms.federation")

HANDOVER: Final = "transit.handover"
DISCHARGED: Final = "transit.discharged"
ACCEPTED: Final = "transit.accepted"
#: The partner kind (on its card and in our directory) that takes transits.
TRANSITS_KIND: Final = "transits"
MAX_TRACK: Final = 20_000
_OPEN_ALERTS: Final = ("open", "acknowledged", "escalated")


# -- origin side: the recorder -----------------------------------------------------------------


def _partner(session: Session, name: str) -> PartnerRow | None:
    row = session.scalars(select(PartnerRow).where(PartnerRow.name == name)).first()
    if row is None or row.state != ACTIVE or TRANSITS_KIND not in row.kinds.split(","):
        return None
    return row


_POSITION_COLUMNS = (
    PositionRow.id,
    PositionRow.time,
    PositionRow.latitude,
    PositionRow.longitude,
    PositionRow.speed_kmh,
    PositionRow.course,
    PositionRow.satellites,
    PositionRow.valid,
    PositionRow.altitude,
    PositionRow.events,
    PositionRow.attributes,
    PositionRow.received_at,
    PositionRow.protocol,
)


def handover_body(session: Session, row: TransitRow, *, border: str, sender: str) -> dict[str, Any]:
    """What the partner receives: the consignment, its corridor, the track so far, open alerts."""
    declaration = get_declaration(session, row.declaration_id)
    assert declaration is not None  # a foreign key
    zones = session.scalars(
        select(ZoneRow).where(ZoneRow.code.in_({row.origin, row.destination, border}))
    ).all()
    start = (row.armed_at or row.created_at) - ARMING_SLACK
    track = session.execute(
        select(*_POSITION_COLUMNS)
        .where(PositionRow.device_id == row.device_id, PositionRow.time >= start)
        .order_by(PositionRow.id.desc())
        .limit(MAX_TRACK)
    ).all()[::-1]
    alerts = session.scalars(
        select(AlertRow).where(AlertRow.transit_id == row.id, AlertRow.status.in_(_OPEN_ALERTS))
    ).all()
    return {
        "from": sender,
        "transit": {
            "id": row.id,
            "reference": row.reference,
            "device_id": row.device_id,
            "seal_number": row.seal_number,
            "vehicle": row.vehicle,
            "containers": list(row.containers),
            "origin": row.origin,
            "destination": row.destination,
            "deadline": iso(row.deadline),
            "armed_at": iso(row.armed_at),
            "border": border,
        },
        "declaration": declaration.document,
        "corridor": _corridor_doc(session, row.corridor_id),
        "zones": [
            {
                "code": z.code,
                "name": z.name,
                "kind": z.kind,
                "geometry": z.geometry,
                "authorised_stop": z.authorised_stop,
                "country": z.country,
            }
            for z in zones
        ],
        "fields": list(FIELDS),
        "track": wire(track),
        "open_alerts": [
            {
                "id": a.id,
                "type": a.type,
                "severity": a.severity,
                "status": a.status,
                "raised_at": iso(a.raised_at),
                "occurred_at": iso(a.occurred_at),
                "details": a.details,
                "latitude": a.latitude,
                "longitude": a.longitude,
                "count": a.count,
            }
            for a in alerts
        ],
    }


_CORRIDORS: dict[tuple[int, datetime], dict[str, Any]] = {}


def _corridor_doc(session: Session, corridor_id: int) -> dict[str, Any]:
    """The corridor as the partner receives it, read (its route parsed) once per import."""
    imported_at = session.scalar(
        select(CorridorRow.imported_at).where(CorridorRow.id == corridor_id)
    )
    assert imported_at is not None  # a foreign key
    key = (corridor_id, imported_at)
    doc = _CORRIDORS.get(key)
    if doc is None:
        corridor = session.get(CorridorRow, corridor_id)
        assert corridor is not None
        if len(_CORRIDORS) > 64:
            _CORRIDORS.clear()
        doc = _CORRIDORS[key] = {
            "code": corridor.code,
            "name": corridor.name,
            "route": corridor.route,
            "buffer_m": corridor.buffer_m,
            "thresholds": corridor.thresholds,
        }
    return doc


class HandoverRecorder:
    """Queues hand-overs and discharges in the transaction that makes them (see the module)."""

    def __init__(self, own_name: str) -> None:
        self._own_name = own_name

    def __call__(self, conn: Connection, events: Sequence[Event]) -> None:
        wanted = [
            e
            for e in events
            if e.type
            in ("tracking.transit_handed_over", "tracking.transit_discharged",
                "tracking.transit_cancelled")
        ]  # fmt: skip
        if not wanted:
            return
        session = Session(bind=conn)
        try:
            for event in wanted:
                self._one(session, conn, event)
        finally:
            session.close()

    def _one(self, session: Session, conn: Connection, event: Event) -> None:
        data = vars(event)
        transit_id = int(data["transit_id"])
        row = session.get(TransitRow, transit_id)
        if row is None:
            return
        now = event.at
        if event.type != "tracking.transit_handed_over":
            # Ended here: stop forwarding; a transit handed in by a partner goes back to it.
            conn.execute(
                update(ForwardingRow)
                .where(ForwardingRow.transit_id == transit_id, ForwardingRow.ended_at.is_(None))
                .values(ended_at=now)
            )
            if event.type == "tracking.transit_discharged" and row.handed_in_from:
                partner = _partner(session, row.handed_in_from)
                if partner is not None and row.origin_transit_id is not None:
                    enqueue(
                        conn,
                        partner.id,
                        DISCHARGED,
                        {
                            "origin_transit_id": row.origin_transit_id,
                            "origin_reference": row.origin_reference,
                            "reference": row.reference,
                            "office": data["office"],
                            "at_destination": bool(data["at_destination"]),
                            "seal_intact": bool(data["seal_intact"]),
                            "discharged_at": iso(now),
                            "by": event.actor,
                        },
                        at=now,
                    )
            return
        partner = _partner(session, str(data["to_administration"]))
        if partner is None:
            return  # handed over on paper to an administration that is not a partner here
        # No position is being stored until this commits: each is in the track below, or
        # queued for forwarding by its writer, which will see the forwarding row (forwarding).
        freeze_positions(conn)
        body = handover_body(session, row, border=str(data["border"]), sender=self._own_name)
        enqueue(conn, partner.id, HANDOVER, body, at=now)
        # For the record only (forwarding follows the queue, not a cursor).
        last = session.scalar(
            select(func.max(PositionRow.id)).where(PositionRow.device_id == row.device_id)
        )
        existing = session.get(ForwardingRow, transit_id)
        if existing is None:
            conn.execute(
                insert(ForwardingRow).values(
                    transit_id=transit_id,
                    partner_id=partner.id,
                    device_id=row.device_id,
                    last_position_id=int(last or 0),
                    forwarded=0,
                    started_at=now,
                )
            )
        else:  # handed over again (onward): forward to the new partner from here
            conn.execute(
                update(ForwardingRow)
                .where(ForwardingRow.transit_id == transit_id)
                .values(partner_id=partner.id, last_position_id=int(last or 0), ended_at=None)
            )


# -- partner side: the inbox handlers ----------------------------------------------------------


def _invalid(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"message: {field}: {problem}", details=[{"field": field}])


def _text(doc: dict[str, Any], key: str, where: str, limit: int, *, optional: bool = False) -> Any:
    value = doc.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
        raise _invalid(f"{where}.{key}", f"text of 1 to {limit} characters")
    return value.strip()


def _time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise _invalid(field, "an ISO 8601 time with its zone")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(field, "an ISO 8601 time with its zone") from None
    if parsed.tzinfo is None:
        raise _invalid(field, "an ISO 8601 time with its zone")
    return parsed.astimezone(UTC)


def _object(doc: dict[str, Any], key: str, where: str = "body") -> dict[str, Any]:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise _invalid(f"{where}.{key}", "an object")
    return value


def _local_corridor(
    unit: Unit, doc: dict[str, Any], zones: list[Any], actor: str
) -> tuple[int, str]:
    """Our corridor of that code (our thresholds), else the partner's geometry imported here;
    the zones the transit names that we lack, likewise."""
    code = _text(doc, "code", "body.corridor", 32)
    features: list[dict[str, Any]] = []
    # Ids only: a corridor row's route and buffer are large JSON documents, parsed on load.
    corridor = unit.session.scalar(select(CorridorRow.id).where(CorridorRow.code == code))
    if corridor is None:
        props = {
            "code": code,
            "name": doc.get("name") or code,
            "buffer_m": doc.get("buffer_m"),
            "thresholds": doc.get("thresholds") or {},
            "source": f"handed over by {actor}"[:200],
        }
        features.append({"type": "Feature", "geometry": doc.get("route"), "properties": props})
    for n, zone in enumerate(zones):
        if not isinstance(zone, dict):
            raise _invalid(f"body.zones[{n}]", "an object")
        zcode = _text(zone, "code", f"body.zones[{n}]", 32)
        if unit.session.scalars(select(ZoneRow.id).where(ZoneRow.code == zcode)).first():
            continue
        props = {
            "code": zcode,
            "name": zone.get("name") or zcode,
            "kind": zone.get("kind"),
            "authorised_stop": zone.get("authorised_stop", True),
            "source": f"handed over by {actor}"[:200],
        }
        if zone.get("country"):
            props["country"] = zone["country"]
        features.append({"type": "Feature", "geometry": zone.get("geometry"), "properties": props})
    if features:
        try:
            import_geojson(unit, {"type": "FeatureCollection", "features": features}, actor=actor)
        except ValidationFailed as exc:
            raise ValidationFailed(
                f"message: body.corridor/zones: {exc.message}", details=exc.details
            ) from None
    found = unit.session.scalar(select(CorridorRow.id).where(CorridorRow.code == code))
    assert found is not None
    return int(found), code


def _local_reference(session: Session, reference: str, country: str) -> str:
    """The origin's reference, unless one of our transits has it already."""
    taken = session.scalars(select(TransitRow.id).where(TransitRow.reference == reference)).first()
    return reference if taken is None else f"{country}/{reference}"[:70]


def _handed_in(session: Session, partner: PartnerRow, origin_transit_id: int) -> TransitRow | None:
    return session.scalars(
        select(TransitRow)
        .where(
            TransitRow.handed_in_from == partner.name,
            TransitRow.origin_transit_id == origin_transit_id,
        )
        .order_by(TransitRow.id.desc())
    ).first()


@handler(HANDOVER)
def _receive_handover(unit: Unit, message: Incoming) -> dict[str, Any]:
    body, partner = message.body, message.partner
    if TRANSITS_KIND not in partner.kinds.split(","):
        raise Conflict(
            f"partner {partner.name!r} is not one we take transits from",
            details=[{"field": "kind"}],
            code="kind_not_allowed",
        )
    transit = _object(body, "transit")
    origin_id = transit.get("id")
    if not isinstance(origin_id, int) or isinstance(origin_id, bool) or not 0 < origin_id < 2**31:
        raise _invalid("body.transit.id", "the origin's transit id, a positive integer")
    existing = _handed_in(unit.session, partner, origin_id)
    if existing is not None and existing.status in MONITORED:
        return {"transit_id": existing.id, "reference": existing.reference, "existing": True}
    actor = f"partner:{partner.name}"[:64]
    device_id = _text(transit, "device_id", "body.transit", 32)
    if not valid_device_id(device_id):
        raise _invalid("body.transit.device_id", "a device id")
    containers = transit.get("containers") or []
    if not isinstance(containers, list) or not all(isinstance(c, str) for c in containers):
        raise _invalid("body.transit.containers", "a list of container numbers")
    try:
        declaration = Declaration.model_validate(_object(body, "declaration"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise _invalid(f"body.declaration.{where}", str(first.get("msg", "invalid"))) from None
    stored = store_declarations(
        unit.session, [declaration], source="federation", submitted_by=actor
    ).stored[0]
    zones = body.get("zones") or []
    if not isinstance(zones, list):
        raise _invalid("body.zones", "a list")
    corridor_id, corridor_code = _local_corridor(unit, _object(body, "corridor"), zones, actor)
    reference = _text(transit, "reference", "body.transit", 70)
    row = hand_in_transit(
        unit,
        HandIn(
            declaration_id=stored.id,
            corridor_id=corridor_id,
            reference=_local_reference(unit.session, reference, partner.country),
            device_id=device_id,
            seal_number=_text(transit, "seal_number", "body.transit", 35, optional=True),
            vehicle=_text(transit, "vehicle", "body.transit", 35),
            containers=[c[:11] for c in containers],
            origin=_text(transit, "origin", "body.transit", 32),
            destination=_text(transit, "destination", "body.transit", 32),
            deadline=_time(transit.get("deadline"), "body.transit.deadline"),
            border=_text(transit, "border", "body.transit", 32),
            from_administration=partner.name,
            origin_reference=reference,
            origin_transit_id=origin_id,
            corridor_code=corridor_code,
        ),
        actor=actor,
    )
    track = body.get("track") or []
    if not isinstance(track, list):
        raise _invalid("body.track", "a list of positions")
    positions = _positions(track, "body.track")
    stored_count = _store_track(unit, row, positions)
    alerts = body.get("open_alerts") or []
    if not isinstance(alerts, list):
        raise _invalid("body.open_alerts", "a list")
    recreate_alerts(unit, row, partner, alerts)
    unit.emit(
        TransitHandedIn(
            actor=actor,
            transit_id=row.id,
            reference=row.reference,
            from_administration=partner.name,
            origin_reference=reference,
            origin_transit_id=origin_id,
            border=_text(transit, "border", "body.transit", 32),
            device_id=device_id,
            track_positions=len(positions),
            open_alerts=tuple(
                f"{a.get('type')}:{a.get('status')}" for a in alerts if isinstance(a, dict)
            )[:50],
        )
    )
    if message.auto_accept:
        accept(unit, row.id, actor="system:federation", administration=message.own_name)
    return {"transit_id": row.id, "reference": row.reference, "track_stored": stored_count}


def _positions(items: list[Any], where: str) -> list[tuple[Position, datetime, str]]:
    found: list[tuple[Position, datetime, str]] = []
    for n, item in enumerate(items):
        if not isinstance(item, list) or len(item) != len(FIELDS):
            raise _invalid(f"{where}[{n}]", f"a list of {len(FIELDS)} values: {', '.join(FIELDS)}")
        (time, lat, lon, speed, course, sats, valid, alt, events, attrs, received, protocol) = item
        try:
            attributes = json.loads(attrs) if isinstance(attrs, str) and attrs != "{}" else {}
            position = Position(
                device_id=None,
                time=_time(time, f"{where}[{n}].time"),
                latitude=_number(lat),
                longitude=_number(lon),
                speed_kmh=_number(speed),
                course=_number(course),
                satellites=sats if isinstance(sats, int) and not isinstance(sats, bool) else None,
                valid=valid is True,
                altitude=_number(alt),
                events=tuple(SealEvent(e) for e in events.split(",") if e)
                if isinstance(events, str)
                else (),
                attributes=attributes if isinstance(attributes, dict) else {},
            )
        except ValueError as exc:
            raise _invalid(f"{where}[{n}]", str(exc)[:200]) from None
        received_at = _time(received, f"{where}[{n}].received_at")
        proto = protocol[:16] if isinstance(protocol, str) and protocol else "federation"
        found.append((position, received_at, proto))
    return found


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def _store_track(
    unit: Unit, row: TransitRow, positions: list[tuple[Position, datetime, str]]
) -> int:
    """The track so far: stored (not judged: it is from before the hand-over here); the live
    row starts at its last located position so our map shows the truck at once."""
    if not positions:
        return 0
    conn = unit.session.connection()
    new = _insert(conn, row.device_id, positions)
    located = [p for p, _, _ in positions if p.latitude is not None and p.longitude is not None]
    if located:
        last = located[-1]
        live = unit.session.get(TransitLiveRow, row.id)
        if live is not None:
            live.latitude, live.longitude = last.latitude, last.longitude
            live.fix_time = last.time
            live.speed_kmh, live.course = last.speed_kmh, last.course
            live.last_seen_at = positions[-1][1]
    return sum(new)


def _insert(
    conn: Connection, device_id: str, positions: list[tuple[Position, datetime, str]]
) -> list[bool]:
    text_times = conn.dialect.name == "sqlite"
    rows: list[tuple[Any, ...]] = []
    # One call per run of positions with the same arrival and protocol (a frame's records).
    start = 0
    for i in range(1, len(positions) + 1):
        if i == len(positions) or positions[i][1:] != positions[start][1:]:
            _, received_at, protocol = positions[start]
            rows += position_rows(
                [p for p, _, _ in positions[start:i]],
                device_id,
                received_at,
                protocol,
                text_times=text_times,
            )
            start = i
    return insert_positions(conn, rows)


@handler(POSITIONS)
def _receive_positions(unit: Unit, message: Incoming) -> dict[str, Any]:
    """Positions of transits the partner handed over to us, stored and judged by our pipeline
    in the inbox's transaction (acknowledged to the partner only once committed)."""
    body, partner = message.body, message.partner
    groups = body.get("transits")
    if not isinstance(groups, list) or not groups:
        raise _invalid("body.transits", "a non-empty list of {origin_transit_id, positions}")
    conn = unit.session.connection()
    unit.session.flush()
    received = stored = 0
    reports: list[Report] = []
    handed: list[TransitRow] = []
    for n, group in enumerate(groups):
        where = f"body.transits[{n}]"
        if not isinstance(group, dict):
            raise _invalid(where, "an object")
        origin_id = group.get("origin_transit_id")
        if not isinstance(origin_id, int) or isinstance(origin_id, bool):
            raise _invalid(f"{where}.origin_transit_id", "the origin's transit id")
        row = _handed_in(unit.session, partner, origin_id)
        if row is None:
            raise Conflict(
                f"no transit {origin_id} was handed over to us by {partner.name}",
                details=[{"field": f"{where}.origin_transit_id", "value": origin_id}],
                code="unknown_transit",
            )
        handed.append(row)
        if group.get("device_id") != row.device_id:
            # A partner feeds only the seal of a transit it handed over to us.
            raise _invalid(f"{where}.device_id", f"the transit's device is {row.device_id}")
        items = group.get("positions")
        if not isinstance(items, list):
            raise _invalid(f"{where}.positions", "a list of positions")
        positions = _positions(items, f"{where}.positions")
        new = _insert(conn, row.device_id, positions)
        received += len(positions)
        stored += sum(new)
        reports += [
            Report(p, row.device_id, received_at, protocol)
            for (p, received_at, protocol), fresh in zip(positions, new, strict=True)
            if fresh
        ]
    if reports:
        # A transit we handed onward to another partner: its positions go on, as our writer's.
        by_device: dict[str, list[Report]] = {}
        for report in reports:
            by_device.setdefault(report.device_id, []).append(report)
        stage_positions(conn, by_device.keys(), lambda device: by_device.get(device, []))
    alerts = 0
    if reports:
        now = clock.now()
        with PIPELINE.lock:
            monitor = PIPELINE.monitor
            try:
                with unit.session.begin_nested():
                    monitor.refresh(conn, now)
                    # Another worker's inbox, or the sweep, may have judged these transits
                    # since: start from the stored live state, not this memory's.
                    for transit_id in {r.id for r in handed}:
                        if (state := monitor.by_id.get(transit_id)) is not None:
                            monitor.reload_live(conn, state)
                    result = process(
                        conn, monitor, reports, now, live_interval=PIPELINE.live_interval
                    )
            except Exception:
                # As the ingest writer: storing must not depend on the rules.
                log.exception("tracking pipeline failed on forwarded positions; stored only")
                monitor.loaded = False
            else:
                for event in result.events:
                    unit.emit(event)
                alerts = result.alerts_raised
    return {"received": received, "stored": stored, "alerts": alerts}


def _handed_over_to(unit: Unit, partner: PartnerRow, origin_id: Any) -> TransitRow:
    """Our transit ``origin_id`` (the message's ``origin_transit_id``), handed over to
    ``partner`` (no other partner may speak for it)."""
    if not isinstance(origin_id, int) or isinstance(origin_id, bool) or not 0 < origin_id < 2**31:
        raise _invalid("body.origin_transit_id", "our transit id")
    row = unit.session.get(TransitRow, origin_id)
    forwarding = unit.session.get(ForwardingRow, origin_id)
    if row is None or forwarding is None or forwarding.partner_id != partner.id:
        raise NotFound(
            f"no transit {origin_id} was handed over to {partner.name}",
            details=[{"field": "body.origin_transit_id", "value": origin_id}],
        )
    return row


@handler(DISCHARGED)
def _receive_discharged(unit: Unit, message: Incoming) -> dict[str, Any]:
    body, partner = message.body, message.partner
    row = _handed_over_to(unit, partner, body.get("origin_transit_id"))
    actor = f"partner:{partner.name}"[:64]
    office = str(body.get("office") or "")[:32]
    if row.status in MONITORED:
        discharge_transit(
            unit,
            row.id,
            actor=actor,
            seal_intact=body.get("seal_intact") is True,
            note=f"discharged by {partner.name} at {office}",
        )
    if row.guarantee_released_at is None:
        release_guarantee(unit, row, actor=actor, by=partner.name)
        unit.emit(
            GuaranteeReleased(
                actor=actor,
                transit_id=row.id,
                reference=row.reference,
                partner=partner.name,
                partner_reference=str(body.get("reference") or "")[:70],
                office=office,
                seal_intact=body.get("seal_intact") is True,
            )
        )
    return {"transit_id": row.id, "status": row.status}


# -- partner side: acceptance -----------------------------------------------------------------


def accept(unit: Unit, transit_id: int, *, actor: str, administration: str) -> TransitRow:
    """Take responsibility for a handed-in transit (an officer, or the automatic rule)."""
    row = get_transit(unit.session, transit_id)
    previous = row.responsible
    accept_transit(unit, transit_id, actor=actor, administration=administration)
    unit.emit(
        TransitAccepted(
            actor=actor,
            transit_id=row.id,
            reference=row.reference,
            from_administration=previous,
            origin_reference=row.origin_reference or "",
        )
    )
    # The origin is told in this transaction (it records the step in its own ledger).
    partner = _partner(unit.session, previous)
    if partner is not None and row.origin_transit_id is not None:
        enqueue(
            unit.session.connection(),
            partner.id,
            ACCEPTED,
            {
                "origin_transit_id": row.origin_transit_id,
                "reference": row.reference,
                "accepted_at": iso(row.accepted_at),
                "by": actor,
            },
        )
    return row


@handler(ACCEPTED)
def _receive_accepted(unit: Unit, message: Incoming) -> dict[str, Any]:
    """The partner took responsibility for a transit we handed over to it: a step of our
    transit and a ``federation.transit_accepted`` record in our ledger, by the partner."""
    body, partner = message.body, message.partner
    row = _handed_over_to(unit, partner, body.get("origin_transit_id"))
    actor = f"partner:{partner.name}"[:64]
    now = clock.now()
    unit.session.add(
        TransitStepRow(
            transit_id=row.id,
            step="accepted",
            at=now,
            actor=actor,
            details={
                "by": partner.name,
                "partner_reference": str(body.get("reference") or "")[:70],
                "accepted_by": str(body.get("by") or "")[:64],
            },
        )
    )
    row.changed_at = now
    unit.emit(
        TransitAccepted(
            actor=actor,
            transit_id=row.id,
            reference=row.reference,
            from_administration=message.own_name,
            origin_reference=row.reference,
        )
    )
    return {"transit_id": row.id, "accepted": True}
