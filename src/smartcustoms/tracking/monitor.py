"""What the pipeline keeps in memory: corridors and zones as prepared shapes, and the state of
every monitored transit (last fix, rule timers), keyed by device.

The pipeline is the only writer of ``tracking_transit_live``; its memory is the working copy and
the table the durable one, written in the same transaction as the positions that changed it.
Lifecycle changes (arming, discharge) happen in web processes: :meth:`Monitor.refresh` picks them
up by polling ``tracking_transits.changed_at``. When a device's reports move to another ingest
worker (it reconnected elsewhere), that worker reloads the transit's state from the table
before using it (:data:`STALE_AFTER`), so timers carry over.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Connection, Select, func, select
from sqlalchemy.orm import Session

from smartcustoms.tracking.geometry import Shape, circle, line_shape, polygon_shape
from smartcustoms.tracking.tables import (
    CorridorRow,
    TransitLiveRow,
    TransitRow,
    ZoneRow,
)
from smartcustoms.tracking.thresholds import Thresholds
from smartcustoms.tracking.transit_status import MONITORED

__all__ = ["STALE_AFTER", "CorridorInfo", "Monitor", "RuleState", "TransitState", "ZoneInfo"]

#: A transit this worker has not updated for this long is reloaded from the table before use.
STALE_AFTER = 30.0  # seconds
_REFRESH_OVERLAP = timedelta(seconds=5)
T = TypeVar("T")  # re-read changes this far back (clock skew, commits)
_ROW = 8192.0  # ZoneIndex cell keys: column * _ROW + row (rows of 0.05° span ±1,800 cells)


@dataclass(frozen=True)
class CorridorInfo:
    id: int
    code: str
    name: str
    shape: Shape
    thresholds: Thresholds


@dataclass(frozen=True)
class ZoneInfo:
    code: str
    name: str
    kind: str
    authorised_stop: bool
    shape: Shape


class ZoneIndex:
    """Zones by location. Overlapping zones: an authorised stop zone wins.

    A grid of 0.05° cells (about 5 km) maps each cell to the zones whose bounding box touches
    it, so the usual answer ("no zone here") is one dictionary lookup, not a geometry test.
    """

    CELL = 0.05

    def __init__(self, zones: Iterable[ZoneInfo]) -> None:
        self.zones = sorted(zones, key=lambda z: (not z.authorised_stop, z.code))
        self.by_code = {z.code: z for z in self.zones}
        self._grid: dict[tuple[int, int], list[ZoneInfo]] = {}
        for zone in self.zones:
            minx, miny, maxx, maxy = zone.shape.area.bounds
            for i in range(math.floor(minx / self.CELL), math.floor(maxx / self.CELL) + 1):
                for j in range(math.floor(miny / self.CELL), math.floor(maxy / self.CELL) + 1):
                    self._grid.setdefault((i, j), []).append(zone)
        self._keys = np.array([i * _ROW + j for i, j in self._grid], dtype=np.float64)

    def find(self, longitude: float, latitude: float) -> ZoneInfo | None:
        cell = (math.floor(longitude / self.CELL), math.floor(latitude / self.CELL))
        for zone in self._grid.get(cell, ()):
            if zone.shape.contains(longitude, latitude):
                return zone
        return None

    def find_many(
        self, longitudes: Sequence[float], latitudes: Sequence[float]
    ) -> list[ZoneInfo | None]:
        """:meth:`find` for many points: the cells in numpy, :meth:`find` only for the few
        points in a cell that has a zone."""
        found: list[ZoneInfo | None] = [None] * len(longitudes)
        if not self._grid or not found:
            return found
        xs = np.floor(np.asarray(longitudes, dtype=np.float64) / self.CELL)
        ys = np.floor(np.asarray(latitudes, dtype=np.float64) / self.CELL)
        keys = xs * _ROW + ys  # exact in float64 for every cell on the globe
        for k in np.flatnonzero(np.isin(keys, self._keys)).tolist():
            found[k] = self.find(longitudes[k], latitudes[k])
        return found


@dataclass
class RuleState:
    """Timers and the alerts already raised for the current episode (see ``rules``)."""

    outside_since: datetime | None = None
    stopped_since: datetime | None = None
    stop_point: tuple[float, float] | None = None  # longitude, latitude
    alerted: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {
            "outside_since": _iso(self.outside_since),
            "stopped_since": _iso(self.stopped_since),
            "stop_point": list(self.stop_point) if self.stop_point else None,
            "alerted": sorted(self.alerted),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> RuleState:
        data = data or {}
        point = data.get("stop_point")
        return cls(
            outside_since=_parse(data.get("outside_since")),
            stopped_since=_parse(data.get("stopped_since")),
            stop_point=(float(point[0]), float(point[1])) if point else None,
            alerted=set(data.get("alerted") or ()),
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(eq=False)
class TransitState:
    id: int
    reference: str
    device_id: str
    corridor_id: int
    status: str
    deadline: datetime
    armed_at: datetime
    destination: str
    # Handed over to us by a partner: its positions come through the federation inbox, whose
    # sweep judges its clocks (this worker's memory of it is not fed).
    handed_in: bool = False
    # Live state, as in tracking_transit_live.
    last_seen_at: datetime | None = None
    fix_time: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    speed_kmh: float | None = None
    course: float | None = None
    inside_corridor: bool | None = None
    off_route_m: float | None = None
    zone: str | None = None
    battery_level: float | None = None
    locked: bool | None = None
    door_open: bool | None = None
    cable_inserted: bool | None = None
    rule: RuleState = field(default_factory=RuleState)
    off_route_shape: Shape | None = None  # the corridor, while off_route_m waits to be measured
    feed_at: datetime | None = None  # last live position sent to the feed
    touched_at: float = 0.0  # time.monotonic() of this worker's last update

    def load_live(self, row: TransitLiveRow | None) -> None:
        if row is None:
            return
        self.last_seen_at = row.last_seen_at
        self.fix_time = row.fix_time
        self.latitude = row.latitude
        self.longitude = row.longitude
        self.speed_kmh = row.speed_kmh
        self.course = row.course
        self.inside_corridor = row.inside_corridor
        self.off_route_m = row.off_route_m
        self.zone = row.zone
        self.battery_level = row.battery_level
        self.locked = row.locked
        rule = dict(row.rule_state or {})
        self.door_open = rule.get("door_open")
        self.cable_inserted = rule.get("cable_inserted")
        self.rule = RuleState.from_json(rule)

    def live_row(self, now: datetime) -> dict[str, Any]:
        rule = self.rule.as_json()
        rule["door_open"] = self.door_open
        rule["cable_inserted"] = self.cable_inserted
        return {
            "transit_id": self.id,
            "last_seen_at": self.last_seen_at,
            "fix_time": self.fix_time,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "speed_kmh": self.speed_kmh,
            "course": self.course,
            "inside_corridor": self.inside_corridor,
            "off_route_m": self.off_route_m,
            "zone": self.zone,
            "battery_level": self.battery_level,
            "locked": self.locked,
            "rule_state": rule,
            "updated_at": now,
        }


class Monitor:
    """Corridors, zones and monitored transits of one ingest worker."""

    def __init__(self) -> None:
        self.corridors: dict[int, CorridorInfo] = {}
        self.zones = ZoneIndex(())
        self.by_device: dict[str, TransitState] = {}
        self.by_id: dict[int, TransitState] = {}
        self._changed_since: datetime | None = None
        self._geometry_mark: tuple[Any, ...] | None = None
        self.loaded = False

    # -- loading -------------------------------------------------------------------------------

    def load(self, conn: Connection, now: datetime) -> None:
        """Everything, from scratch (start-up, or after a failed write left memory unsure)."""
        self._load_geometry(conn)
        self.by_device.clear()
        self.by_id.clear()
        self._adopt(conn, _all(conn, select(TransitRow).where(TransitRow.status.in_(MONITORED))))
        self._changed_since = now
        self.loaded = True

    def refresh(self, conn: Connection, now: datetime) -> None:
        """Pick up lifecycle changes and new corridors since the last refresh."""
        if not self.loaded or self._changed_since is None:
            self.load(conn, now)
            return
        self._load_geometry(conn)
        since = self._changed_since - _REFRESH_OVERLAP
        rows = _all(conn, select(TransitRow).where(TransitRow.changed_at >= since))
        self._changed_since = now
        keep = []
        for row in rows:
            current = self.by_id.get(row.id)
            if row.status not in MONITORED:
                if current is not None:
                    self._forget(current)
            elif current is None or current.status != row.status:
                keep.append(row)
        if keep:
            self._adopt(conn, keep)

    def reload_live(self, conn: Connection, state: TransitState) -> None:
        rows = _all(conn, select(TransitLiveRow).where(TransitLiveRow.transit_id == state.id))
        state.load_live(rows[0] if rows else None)
        state.feed_at = None

    def _adopt(self, conn: Connection, rows: list[TransitRow]) -> None:
        ids = [r.id for r in rows]
        live: dict[int, TransitLiveRow] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for live_row in _all(
                conn, select(TransitLiveRow).where(TransitLiveRow.transit_id.in_(chunk))
            ):
                live[live_row.transit_id] = live_row
        for row in rows:
            old = self.by_id.get(row.id)
            if old is not None:
                self._forget(old)
            state = TransitState(
                id=row.id,
                reference=row.reference,
                device_id=row.device_id,
                corridor_id=row.corridor_id,
                status=row.status,
                deadline=row.deadline,
                armed_at=row.armed_at or row.created_at,
                destination=row.destination,
                handed_in=row.handed_in_from is not None,
            )
            state.load_live(live.get(row.id))
            state.touched_at = time.monotonic()
            self.by_device[row.device_id] = state
            self.by_id[row.id] = state

    def _forget(self, state: TransitState) -> None:
        self.by_id.pop(state.id, None)
        if self.by_device.get(state.device_id) is state:
            del self.by_device[state.device_id]

    def _load_geometry(self, conn: Connection) -> None:
        # Corridors and zones change rarely (imports): rebuild only when the tables changed.
        mark = (
            tuple(conn.execute(select(func.count(), func.max(CorridorRow.imported_at))).one()),
            tuple(conn.execute(select(func.count(), func.max(ZoneRow.imported_at))).one()),
        )
        if mark == self._geometry_mark:
            return
        corridors = {}
        for row in _all(conn, select(CorridorRow)):
            corridors[row.id] = CorridorInfo(
                id=row.id,
                code=row.code,
                name=row.name,
                shape=line_shape(row.route, row.buffer_m),
                thresholds=Thresholds.parse(row.thresholds),
            )
        zones = []
        for zone in _all(conn, select(ZoneRow)):
            shape = (
                circle(zone.longitude, zone.latitude, zone.radius_m)
                if zone.radius_m
                else polygon_shape(zone.geometry)
            )
            zones.append(ZoneInfo(zone.code, zone.name, zone.kind, zone.authorised_stop, shape))
        self.corridors = corridors
        self.zones = ZoneIndex(zones)
        self._geometry_mark = mark


def _all(conn: Connection, statement: Select[T]) -> list[T]:
    """ORM objects of ``statement``, read on ``conn`` (in its transaction), detached."""
    with Session(bind=conn) as session:
        return list(session.scalars(statement))
