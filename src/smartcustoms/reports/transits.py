"""Transits per corridor and month (of creation): how many, how long on the road, long stops,
time spent at border posts and time from arrival at destination to discharge.

Everything is summed in SQL, one row per corridor and month; positions are read there too,
never brought into Python. Where a truck was is judged from its stored positions against the
zones' areas (circles; a polygon zone by its bounding box): border dwell is, per border post,
the time from the first to the last position inside it while the transit was monitored, and
arrival is the first position inside the destination zone.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from smartcustoms.core.i18n import N_
from smartcustoms.reports.filters import Filters
from smartcustoms.reports.model import Bar, Chart, Column, Report, Table, hours
from smartcustoms.reports.sql import month_of, seconds_between
from smartcustoms.tracking.tables import AlertRow, CorridorRow, PositionRow, TransitRow, ZoneRow

__all__ = ["transits_report"]

_M_PER_DEG = 111_320.0  # metres per degree of latitude (and of longitude at the equator)

COLUMNS = (
    Column("corridor", N_("Corridor")),
    Column("month", N_("Month")),
    Column("transits", N_("Transits"), "count"),
    Column("discharged", N_("Discharged"), "count"),
    Column("cancelled", N_("Cancelled"), "count"),
    Column("duration_h", N_("Average duration (hours)"), "decimal"),
    Column("long_stops", N_("Long stops"), "count"),
    Column("border_dwell_h", N_("Average border dwell (hours)"), "decimal"),
    Column("to_discharge_h", N_("Average time to discharge (hours)"), "decimal"),
)


def _in_zone(position: Any, zone: ZoneRow) -> ColumnElement[bool]:
    """Whether a position lies in ``zone``: inside its circle, or its polygon's bounding box."""
    lat, lon = position.latitude, position.longitude
    if zone.radius_m:
        ky = _M_PER_DEG
        kx = _M_PER_DEG * math.cos(math.radians(zone.latitude))
        r = float(zone.radius_m)
        dy = (lat - zone.latitude) * ky
        dx = (lon - zone.longitude) * kx
        box = and_(
            lat.between(zone.latitude - r / ky, zone.latitude + r / ky),
            lon.between(zone.longitude - r / kx, zone.longitude + r / kx),
        )
        return and_(box, dx * dx + dy * dy <= r * r)
    points = _points(zone.geometry.get("coordinates", []))
    if not points:
        return literal(False)
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return and_(lat.between(min(lats), max(lats)), lon.between(min(lons), max(lons)))


def _points(coordinates: Any) -> list[tuple[float, float]]:
    if (
        isinstance(coordinates, list)
        and len(coordinates) >= 2
        and all(isinstance(c, int | float) for c in coordinates[:2])
    ):
        return [(float(coordinates[0]), float(coordinates[1]))]
    out: list[tuple[float, float]] = []
    for part in coordinates if isinstance(coordinates, list) else []:
        out.extend(_points(part))
    return out


def transits_report(session: Session, filters: Filters) -> Report:
    dialect = session.get_bind().dialect.name
    t = TransitRow
    p = aliased(PositionRow)
    zones = list(session.scalars(select(ZoneRow)))
    borders = [z for z in zones if z.kind == "border_post"]
    monitored = and_(p.device_id == t.device_id, p.time >= t.armed_at, p.time <= t.ended_at)
    dwell: ColumnElement[Any] = literal(0.0)
    for zone in borders:
        per_zone = (
            select(seconds_between(func.min(p.time), func.max(p.time), dialect))
            .where(monitored, _in_zone(p, zone))
            .correlate(t)
            .scalar_subquery()
        )
        dwell = dwell + func.coalesce(per_zone, 0.0)
    # A transit ends at a port, an office or a border post (tracking.transits checks it).
    ends = [z for z in zones if z.kind in ("port", "office", "border_post")]
    arrived_in = [and_(t.destination == z.code, _in_zone(p, z)) for z in ends]
    arrival = (
        select(func.min(p.time))
        .where(monitored, or_(*arrived_in) if arrived_in else literal(False))
        .correlate(t)
        .scalar_subquery()
    )
    stops = (
        select(func.count(AlertRow.id))
        .where(AlertRow.transit_id == t.id, AlertRow.type == "long_stop")
        .correlate(t)
        .scalar_subquery()
    )
    done = t.status == "discharged"
    per_transit = (
        select(
            CorridorRow.code.label("corridor"),
            month_of(t.created_at, dialect).label("month"),
            case((done, 1), else_=0).label("discharged"),
            case((t.status == "cancelled", 1), else_=0).label("cancelled"),
            case((done, seconds_between(t.armed_at, t.ended_at, dialect))).label("duration"),
            stops.label("stops"),
            case((done, dwell)).label("dwell"),
            case((done, seconds_between(arrival, t.ended_at, dialect))).label("to_discharge"),
        )
        .join(CorridorRow, CorridorRow.id == t.corridor_id)
        .where(t.created_at >= filters.start, t.created_at < filters.end)
    )
    if filters.corridor:
        per_transit = per_transit.where(CorridorRow.code == filters.corridor)
    if filters.office:
        per_transit = per_transit.where(
            or_(t.origin == filters.office, t.destination == filters.office)
        )
    sub = per_transit.subquery()
    grouped = session.execute(
        select(
            sub.c.corridor,
            sub.c.month,
            func.count(),
            func.sum(sub.c.discharged),
            func.sum(sub.c.cancelled),
            func.sum(sub.c.duration),
            func.sum(sub.c.stops),
            func.sum(sub.c.dwell),
            func.sum(sub.c.to_discharge),
            func.count(sub.c.to_discharge),
        )
        .group_by(sub.c.corridor, sub.c.month)
        .order_by(sub.c.corridor, sub.c.month)
    ).all()
    rows = []
    per_month: dict[str, int] = {}
    per_corridor: dict[str, list[float]] = {}
    for (
        corridor,
        month,
        n,
        discharged,
        cancelled,
        duration,
        n_stops,
        dwell_s,
        wait,
        waited,
    ) in grouped:
        discharged = int(discharged or 0)
        rows.append(
            (
                corridor,
                month,
                int(n),
                discharged,
                int(cancelled or 0),
                hours(duration / discharged) if discharged and duration is not None else None,
                int(n_stops or 0),
                hours(dwell_s / discharged) if discharged and dwell_s is not None else None,
                hours(wait / waited) if waited else None,
            )
        )
        per_month[month] = per_month.get(month, 0) + int(n)
        if discharged and duration is not None:
            entry = per_corridor.setdefault(corridor, [0.0, 0.0])
            entry[0] += float(duration)
            entry[1] += discharged
    report = Report("transits", N_("Transits"))
    report.tables.append(
        Table("by_corridor_month", N_("Transits per corridor and month"), COLUMNS, rows)
    )
    report.charts.append(
        Chart(
            "per_month",
            N_("Transits created per month"),
            "count",
            tuple(Bar(m, v) for m, v in sorted(per_month.items())),
        )
    )
    report.charts.append(
        Chart(
            "duration",
            N_("Average duration per corridor (hours)"),
            "decimal",
            tuple(Bar(c, hours(s / k) or 0.0) for c, (s, k) in sorted(per_corridor.items())),
        )
    )
    return report
