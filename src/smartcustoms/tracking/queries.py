"""What the command centre, the officers and the API read: transits, tracks, alerts, the map."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.tracking.feed import alert_payload
from smartcustoms.tracking.pipeline import ARMING_SLACK
from smartcustoms.tracking.tables import (
    AlertRow,
    AlertStepRow,
    CorridorRow,
    FeedRow,
    PositionRow,
    TransitLiveRow,
    TransitRow,
    TransitStepRow,
    ZoneRow,
)
from smartcustoms.tracking.thresholds import Severity
from smartcustoms.tracking.transit_status import MONITORED

__all__ = [
    "ACTIVE_ALERTS",
    "alert_steps",
    "alerts",
    "live_snapshot",
    "map_layers",
    "track",
    "transit_public",
    "transit_timeline",
    "transits",
]

ACTIVE_ALERTS: Final = ("open", "acknowledged", "escalated")
MAX_TRACK: Final = 50_000


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def transit_public(row: TransitRow, corridor: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "reference": row.reference,
        "declaration_id": row.declaration_id,
        "device_id": row.device_id,
        "seal_number": row.seal_number,
        "vehicle": row.vehicle,
        "containers": list(row.containers),
        "corridor": corridor,
        "origin": row.origin,
        "destination": row.destination,
        "deadline": _iso(row.deadline),
        "status": row.status,
        "responsible": row.responsible,
        "created_at": _iso(row.created_at),
        "created_by": row.created_by,
        "armed_at": _iso(row.armed_at),
        "ended_at": _iso(row.ended_at),
    }


def _of_declarants(query: Any, declarant_ids: Collection[str] | None) -> Any:
    if declarant_ids is None:
        return query
    return query.join(DeclarationRow, DeclarationRow.id == TransitRow.declaration_id).where(
        DeclarationRow.declarant_id.in_(sorted(declarant_ids))
    )


def transits(
    session: Session,
    *,
    status: str | None = None,
    declarant_ids: Collection[str] | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Newest first. ``declarant_ids`` keeps only transits of declarations those declarants
    lodged (None: every transit; empty: none)."""
    query = (
        select(TransitRow, CorridorRow.code)
        .join(CorridorRow, CorridorRow.id == TransitRow.corridor_id)
        .order_by(TransitRow.id.desc())
        .limit(limit)
    )
    if status == "active":
        query = query.where(TransitRow.status.in_(["created", *MONITORED]))
    elif status:
        query = query.where(TransitRow.status == status)
    query = _of_declarants(query, declarant_ids)
    return [transit_public(row, code) for row, code in session.execute(query)]


def declarant_of(session: Session, row: TransitRow) -> str | None:
    """The declarant of the transit's declaration (a declarant sees only its traders')."""
    return session.scalars(
        select(DeclarationRow.declarant_id).where(DeclarationRow.id == row.declaration_id)
    ).first()


def live_public(live: TransitLiveRow | None) -> dict[str, Any] | None:
    if live is None:
        return None
    return {
        "last_seen_at": _iso(live.last_seen_at),
        "fix_time": _iso(live.fix_time),
        "latitude": live.latitude,
        "longitude": live.longitude,
        "speed_kmh": live.speed_kmh,
        "course": live.course,
        "inside_corridor": live.inside_corridor,
        "off_route_m": live.off_route_m,
        "zone": live.zone,
        "battery_level": live.battery_level,
        "locked": live.locked,
    }


def transit_timeline(session: Session, transit_id: int) -> list[dict[str, Any]]:
    """Lifecycle steps and alert workflow steps, in time order."""
    items: list[dict[str, Any]] = []
    for step in session.scalars(
        select(TransitStepRow).where(TransitStepRow.transit_id == transit_id)
    ):
        items.append(
            {
                "at": _iso(step.at),
                "kind": "transit",
                "action": step.step,
                "actor": step.actor,
                "details": step.details,
            }
        )
    rows = session.execute(
        select(AlertStepRow, AlertRow.type, AlertRow.id)
        .join(AlertRow, AlertRow.id == AlertStepRow.alert_id)
        .where(AlertRow.transit_id == transit_id)
    )
    for alert_step, alert_type, alert_id in rows:
        items.append(
            {
                "at": _iso(alert_step.at),
                "kind": "alert",
                "alert_id": alert_id,
                "alert_type": alert_type,
                "action": alert_step.action,
                "actor": alert_step.actor,
                "value": alert_step.value,
                "note": alert_step.note,
                "elapsed_s": alert_step.elapsed_s,
            }
        )
    items.sort(key=lambda item: item["at"] or "")
    return items


def track(session: Session, row: TransitRow, *, limit: int = MAX_TRACK) -> list[dict[str, Any]]:
    """The device's positions from arming (or creation) to the end of the transit."""
    start = (row.armed_at or row.created_at) - ARMING_SLACK
    end = row.ended_at or clock.now()
    query = (
        select(
            PositionRow.time,
            PositionRow.latitude,
            PositionRow.longitude,
            PositionRow.speed_kmh,
            PositionRow.course,
            PositionRow.valid,
            PositionRow.events,
            PositionRow.attributes,
        )
        .where(
            PositionRow.device_id == row.device_id,
            PositionRow.time >= start,
            PositionRow.time <= end,
            PositionRow.latitude.is_not(None),
        )
        .order_by(PositionRow.time)
        .limit(limit)
    )
    points = []
    for time, lat, lon, speed, course, valid, events, attributes in session.execute(query):
        attrs = json.loads(attributes)
        points.append(
            {
                "time": _iso(time),
                "latitude": lat,
                "longitude": lon,
                "speed_kmh": speed,
                "course": course,
                "valid": valid,
                "events": events.split(",") if events else [],
                "battery_level": attrs.get("battery_level"),
            }
        )
    return points


def alerts(
    session: Session,
    *,
    status: str = "active",
    transit_id: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Alerts with their transit's reference; ``active`` = not resolved. Worst first."""
    query = select(AlertRow, TransitRow.reference).join(
        TransitRow, TransitRow.id == AlertRow.transit_id
    )
    if status == "active":
        query = query.where(AlertRow.status.in_(ACTIVE_ALERTS))
    elif status != "all":
        query = query.where(AlertRow.status == status)
    if transit_id is not None:
        query = query.where(AlertRow.transit_id == transit_id)
    query = query.order_by(AlertRow.raised_at.desc()).limit(limit)
    found = [alert_payload(row, reference) for row, reference in session.execute(query)]
    if status == "active":
        found.sort(key=lambda a: Severity(a["severity"]).rank)  # stable: newest first within
    return found


def alert_steps(session: Session, alert_id: int) -> list[dict[str, Any]]:
    return [
        {
            "action": s.action,
            "at": _iso(s.at),
            "actor": s.actor,
            "elapsed_s": s.elapsed_s,
            "value": s.value,
            "note": s.note,
        }
        for s in session.scalars(
            select(AlertStepRow).where(AlertStepRow.alert_id == alert_id).order_by(AlertStepRow.id)
        )
    ]


def live_snapshot(session: Session) -> dict[str, Any]:
    """Monitored transits with their last position and worst open alert, and the feed id to
    follow the live stream from (``?after=``), so nothing falls between snapshot and stream."""
    feed_id = session.scalar(select(func.coalesce(func.max(FeedRow.id), 0)))
    rows = session.execute(
        select(TransitRow, TransitLiveRow, CorridorRow.code)
        .join(CorridorRow, CorridorRow.id == TransitRow.corridor_id)
        .outerjoin(TransitLiveRow, TransitLiveRow.transit_id == TransitRow.id)
        .where(TransitRow.status.in_(MONITORED))
    )
    worst: dict[int, list[dict[str, Any]]] = {}
    for alert_id, transit_id, severity, alert_type, status in session.execute(
        select(AlertRow.id, AlertRow.transit_id, AlertRow.severity, AlertRow.type, AlertRow.status)
        .join(TransitRow, TransitRow.id == AlertRow.transit_id)
        .where(AlertRow.status.in_(ACTIVE_ALERTS), TransitRow.status.in_(MONITORED))
    ):
        worst.setdefault(transit_id, []).append(
            {"id": alert_id, "severity": severity, "type": alert_type, "status": status}
        )
    trucks = []
    for transit, live, corridor in rows:
        item = transit_public(transit, corridor)
        item["live"] = live_public(live)
        item["open_alerts"] = worst.get(transit.id, [])
        trucks.append(item)
    return {"feed_id": int(feed_id or 0), "transits": trucks}


def map_layers(session: Session) -> dict[str, Any]:
    """Corridors (route and buffer) and zones as GeoJSON, for the map."""
    corridors = []
    for c in session.scalars(select(CorridorRow).order_by(CorridorRow.code)):
        props = {"code": c.code, "name": c.name, "buffer_m": c.buffer_m, "length_km": c.length_km}
        corridors.append(
            {"type": "Feature", "geometry": c.buffer, "properties": {**props, "part": "buffer"}}
        )
        corridors.append(
            {"type": "Feature", "geometry": c.route, "properties": {**props, "part": "route"}}
        )
    zones = [
        {
            "type": "Feature",
            "geometry": z.geometry,
            "properties": {
                "code": z.code,
                "name": z.name,
                "kind": z.kind,
                "authorised_stop": z.authorised_stop,
                "office": z.office,
            },
        }
        for z in session.scalars(select(ZoneRow).order_by(ZoneRow.code))
    ]
    return {
        "corridors": {"type": "FeatureCollection", "features": corridors},
        "zones": {"type": "FeatureCollection", "features": zones},
    }
