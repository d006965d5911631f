"""The processing pipeline: what happens to positions once they are stored.

The ingest writer stores a batch of positions, then runs :data:`PIPELINE` on it in the same
transaction, so that the positions and everything they caused (alerts, the transits' live
state, feed entries) commit together or not at all; the devices get their acknowledgements
after that commit. Read it top to bottom:
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from smartcustoms.core.events import Event
from smartcustoms.tracking.events import AlertRaised
from smartcustoms.tracking.feed import alert_payload, append_feed
from smartcustoms.tracking.monitor import STALE_AFTER, Monitor, TransitState
from smartcustoms.tracking.rules import Report, Trigger, evaluate, moving_inside, sweep
from smartcustoms.tracking.tables import AlertRow, AlertStepRow, TransitLiveRow
from smartcustoms.tracking.thresholds import AlertType, Thresholds

__all__ = [
    "ARMING_SLACK",
    "PIPELINE",
    "POSITIONS_WRITTEN",
    "SYSTEM_ACTOR",
    "Batch",
    "PositionsStored",
    "PositionsWritten",
    "on_positions_stored",
    "positions_stored",
    "process",
    "run_clock_rules",
]

log = logging.getLogger("smartcustoms.tracking")

SYSTEM_ACTOR = "system:tracking"
# Records this much older than the arming belong to before the journey (a device flushing its
# memory): stored, but not judged.
ARMING_SLACK = timedelta(minutes=1)


@dataclass
class Batch:
    """One pipeline run: the reports, and what the handlers produce for the transaction."""

    conn: Connection
    monitor: Monitor
    now: datetime
    reports: list[Report]
    live_interval: timedelta = timedelta(seconds=2)
    triggers: list[Trigger] = field(default_factory=list)
    touched: dict[int, TransitState] = field(default_factory=dict)
    feed: list[tuple[str, int | None, dict[str, Any]]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    alerts_raised: int = 0

    def thresholds(self, transit: TransitState) -> Thresholds:
        corridor = self.monitor.corridors.get(transit.corridor_id)
        return corridor.thresholds if corridor else Thresholds()


# --- the handlers, in order --------------------------------------------------------------------


def deduplicate(batch: Batch) -> None:
    """Drop retransmissions: records the store found already stored (same device, time, data)."""
    batch.reports = [r for r in batch.reports if r.new]


def match_transit(batch: Batch) -> None:
    """Attach each report to its device's monitored transit, if any (others are only stored)."""
    monitor = batch.monitor
    by_device = monitor.by_device
    now_m = time.monotonic()
    stale = now_m - STALE_AFTER
    # A frame's reports come together: the transit is looked up once per run of a device.
    device_id: str | None = None
    transit: TransitState | None = None
    since = datetime.min.replace(tzinfo=UTC)
    fix_time: datetime | None = None
    checked = False
    for report in batch.reports:
        if report.device_id != device_id:
            device_id = report.device_id
            transit = by_device.get(device_id)
            if transit is not None:
                since = transit.armed_at - ARMING_SLACK
                checked = False
        if transit is None:
            continue
        t = report.position.time
        if t < since:
            continue
        if not checked:
            if transit.touched_at < stale:
                monitor.reload_live(batch.conn, transit)  # another worker may have moved it on
            transit.touched_at = now_m
            fix_time = transit.fix_time
            checked = True
        report.transit = transit
        report.current = fix_time is None or t >= fix_time


def locate(batch: Batch) -> None:
    """Inside the corridor buffer or not (how far off the route), and in which zone."""
    monitor = batch.monitor
    by_corridor: dict[int, list[Report]] = {}
    for report in batch.reports:
        transit = report.transit
        if transit is None:
            continue
        p = report.position
        if not p.valid or p.latitude is None or p.longitude is None:  # not report.located
            continue
        reports = by_corridor.get(transit.corridor_id)
        if reports is None:
            reports = by_corridor[transit.corridor_id] = []
        reports.append(report)
    for corridor_id, reports in by_corridor.items():
        # One vectorised test per corridor and batch, not one call per position.
        xs: list[float] = [r.position.longitude for r in reports]  # type: ignore[misc]
        ys: list[float] = [r.position.latitude for r in reports]  # type: ignore[misc]
        zones = monitor.zones.find_many(xs, ys)
        corridor = monitor.corridors.get(corridor_id)
        if corridor is None:
            for report, zone in zip(reports, zones, strict=True):
                report.zone = zone
            continue
        shape = corridor.shape
        inside = shape.contains_many(xs, ys)
        for report, zone, within in zip(reports, zones, inside, strict=True):
            report.zone = zone
            report.inside_corridor = within
            report.route = shape


def apply_rules(batch: Batch) -> None:
    """Run the rules (``rules.REPORT_RULES``), then move each transit's live state on.

    Most reports are of a truck moving inside its corridor, with no events and no seal state
    (:func:`.rules.moving_inside`): on those every rule only ends an episode, and the transit
    takes the report's position. Of a run of them only the last position stays, so they are
    applied once per run (:func:`_advance_moving`) — the same outcome as one by one.
    """
    touched = batch.touched
    triggers = batch.triggers
    corridors = batch.monitor.corridors
    thresholds: dict[int, Thresholds] = {}
    pending: dict[int, list[Any]] = {}  # transit id: [last moving report, latest arrival]
    for report in batch.reports:
        transit = report.transit
        if transit is None:
            continue
        t = thresholds.get(transit.corridor_id)
        if t is None:
            corridor = corridors.get(transit.corridor_id)
            t = thresholds[transit.corridor_id] = corridor.thresholds if corridor else Thresholds()
        if moving_inside(report, t):
            run = pending.get(transit.id)
            if run is None:
                pending[transit.id] = [report, report.received_at]
            else:
                run[0] = report
                if report.received_at > run[1]:
                    run[1] = report.received_at
        else:
            run = pending.pop(transit.id, None)
            if run is not None:
                _advance_moving(transit, run[0], run[1])
            triggers.extend(evaluate(report, t))
            _advance(transit, report)
        touched[transit.id] = transit
    for last, latest in pending.values():
        assert last.transit is not None
        _advance_moving(last.transit, last, latest)


def raise_alerts(batch: Batch) -> None:
    """One open alert per transit and type: a new one, or a repeat counted on the open one."""
    for trigger in batch.triggers:
        _raise(batch, trigger)


def publish_live(batch: Batch) -> None:
    """Write the live state of each transit touched, and feed the command centre's map."""
    if not batch.touched:
        return
    for transit in batch.touched.values():
        shape = transit.off_route_shape
        if transit.inside_corridor is False and shape is not None and transit.off_route_m is None:
            assert transit.longitude is not None and transit.latitude is not None
            transit.off_route_m = round(
                shape.distance_to_line_m(transit.longitude, transit.latitude) or 0
            )
    rows = [t.live_row(batch.now) for t in batch.touched.values()]
    batch.conn.execute(_upsert_live(batch.conn), rows)
    for transit in batch.touched.values():
        if transit.latitude is None or transit.fix_time is None:
            continue
        due = transit.feed_at is None or batch.now - transit.feed_at >= batch.live_interval
        if due:
            transit.feed_at = batch.now
            batch.feed.append(("position", transit.id, _position_payload(transit)))
    append_feed(batch.conn, batch.feed, batch.now)


Handler = Callable[[Batch], None]

#: The pipeline, in order. Storing the positions (and finding which were new) comes before it.
PIPELINE: tuple[Handler, ...] = (
    deduplicate,
    match_transit,
    locate,
    apply_rules,
    raise_alerts,
    publish_live,
)


def process(
    conn: Connection,
    monitor: Monitor,
    reports: Sequence[Report],
    now: datetime,
    *,
    live_interval: timedelta = timedelta(seconds=2),
) -> Batch:
    """Run :data:`PIPELINE` over freshly stored reports, in the caller's transaction."""
    batch = Batch(conn, monitor, now, list(reports), live_interval)
    for handler in PIPELINE:
        handler(batch)
    return batch


# --- after the commit ----------------------------------------------------------------------------

#: A callback told, once per committed batch, the new positions of each monitored transit in it
#: (transit id: its reports, in arrival order). Called after the commit, on the ingest writer's
#: publishing thread (never delaying acknowledgements), in batch order; an exception is logged.
#: Read the reports' positions and arrival, not ``report.transit``: that live state belongs to
#: the writer thread, which may have moved it on by then.
PositionsStored = Callable[[dict[int, list[Report]]], None]

_STORED_HOOKS: list[PositionsStored] = []


def on_positions_stored(callback: PositionsStored) -> Callable[[], None]:
    """Register ``callback`` (see :data:`PositionsStored`); returns what unregisters it.

    For what follows a transit's positions out of the process (handing them to a partner
    administration): the positions are durable when it runs. Batches whose rules failed
    (the pipeline's savepoint rolled back) are not reported.
    """
    _STORED_HOOKS.append(callback)

    def remove() -> None:
        if callback in _STORED_HOOKS:
            _STORED_HOOKS.remove(callback)

    return remove


def positions_stored(batch: Batch) -> dict[int, list[Report]] | None:
    """What the hooks are told about ``batch``; ``None`` when no hook listens or nothing
    of a monitored transit was in it (so the writer does no work for them)."""
    if not _STORED_HOOKS:
        return None
    out: dict[int, list[Report]] = {}
    for report in batch.reports:
        if report.transit is not None:
            out.setdefault(report.transit.id, []).append(report)
    return out or None


def call_stored_hooks(stored: dict[int, list[Report]]) -> None:
    """Tell every hook (:func:`on_positions_stored`) about one committed batch."""
    for hook in list(_STORED_HOOKS):
        try:
            hook(stored)
        except Exception:
            log.exception("a positions-stored hook failed")


#: A callback run *inside* the transaction that stores positions, before it commits, whatever
#: the rules did: the connection, the devices with new positions in the batch, and a function
#: giving one device's new positions (built only for the devices asked about). What must follow
#: positions out of the process and never miss one (a transit handed over to a partner
#: administration) queues it here: it commits with the positions or not at all, whatever the
#: order in which concurrent writers commit. An exception fails the batch (not acknowledged:
#: the devices send it again).
PositionsWritten = Callable[[Connection, Collection[str], Callable[[str], list[Report]]], None]

#: Where the :data:`PositionsWritten` hooks are: a list in ``AppContext.services`` under this
#: key, so that a package above tracking (federation) adds its hook when it attaches to a
#: context without loading tracking, and each context's writer runs its own.
POSITIONS_WRITTEN = "tracking.positions_written"


def call_written_hooks(
    services: Mapping[str, Any],
    conn: Connection,
    devices: Collection[str],
    new_of: Callable[[str], list[Report]],
) -> None:
    """Run the context's :data:`PositionsWritten` hooks in the storing transaction."""
    for hook in services.get(POSITIONS_WRITTEN) or ():
        hook(conn, devices, new_of)


def run_clock_rules(
    conn: Connection, monitor: Monitor, now: datetime, *, handed_in: bool = False
) -> Batch:
    """The sweep: clock rules (signal lost, deadline) for every monitored transit whose
    positions this writer stores; with ``handed_in``, for those handed over to us by a partner
    instead (the federation inbox stores theirs), their live state read again first."""
    batch = Batch(conn, monitor, now, [])
    for transit in list(monitor.by_id.values()):
        if transit.handed_in != handed_in:
            continue
        if handed_in:
            monitor.reload_live(conn, transit)
        fired = sweep(transit, batch.thresholds(transit), now)
        if fired:
            batch.triggers.extend(fired)
            batch.touched[transit.id] = transit
    raise_alerts(batch)
    if batch.touched:
        rows = [t.live_row(now) for t in batch.touched.values()]
        conn.execute(_upsert_live(conn), rows)
    append_feed(conn, batch.feed, now)
    return batch


# --- helpers -----------------------------------------------------------------------------------


_SIGNAL_LOST = AlertType.SIGNAL_LOST.value
_ROUTE_DEVIATION = AlertType.ROUTE_DEVIATION.value
_LONG_STOP = AlertType.LONG_STOP.value


def _advance_moving(transit: TransitState, report: Report, latest: datetime) -> None:
    """:func:`.rules.evaluate` then :func:`_advance`, for a report that is
    :func:`.rules.moving_inside` (the last of a run; ``latest`` the run's latest arrival)."""
    if transit.last_seen_at is None or latest > transit.last_seen_at:
        transit.last_seen_at = latest
    rule = transit.rule
    rule.outside_since = None  # route_deviation: inside the corridor
    rule.stopped_since = None  # long_stop: moving
    rule.stop_point = None
    alerted = rule.alerted
    if alerted:
        alerted.discard(_ROUTE_DEVIATION)
        alerted.discard(_LONG_STOP)
        alerted.discard(_SIGNAL_LOST)
    p = report.position
    transit.fix_time = p.time
    transit.latitude = p.latitude
    transit.longitude = p.longitude
    transit.speed_kmh = p.speed_kmh
    transit.course = p.course
    transit.inside_corridor = True
    transit.off_route_m = None
    transit.off_route_shape = report.route
    transit.zone = report.zone.code if report.zone else None


def _advance(transit: TransitState, report: Report) -> None:
    p = report.position
    if transit.last_seen_at is None or report.received_at > transit.last_seen_at:
        transit.last_seen_at = report.received_at
    transit.rule.alerted.discard(_SIGNAL_LOST)
    if not report.current:
        return
    attributes = p.attributes
    level = attributes.get("battery_level")
    if isinstance(level, int | float) and not isinstance(level, bool):
        transit.battery_level = float(level)
    for name in ("locked", "door_open", "cable_inserted"):
        value = attributes.get(name)
        if isinstance(value, bool):
            setattr(transit, name, value)
    transit.fix_time = p.time
    if report.located:
        transit.latitude = p.latitude
        transit.longitude = p.longitude
        transit.speed_kmh = p.speed_kmh
        transit.course = p.course
        transit.inside_corridor = report.inside_corridor
        transit.off_route_m = None  # measured once per batch, in publish_live
        transit.off_route_shape = report.route
        transit.zone = report.zone.code if report.zone else None


def _position_payload(transit: TransitState) -> dict[str, Any]:
    assert transit.fix_time is not None
    return {
        "transit_id": transit.id,
        "reference": transit.reference,
        "device_id": transit.device_id,
        "latitude": transit.latitude,
        "longitude": transit.longitude,
        "speed_kmh": transit.speed_kmh,
        "course": transit.course,
        "time": transit.fix_time.isoformat().replace("+00:00", "Z"),
        "status": transit.status,
        "inside_corridor": transit.inside_corridor,
        "zone": transit.zone,
    }


def _dialect_insert(conn: Connection) -> Any:
    return sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert


_UPSERT_LIVE: dict[str, Any] = {}  # per dialect: built once, not per batch


def _upsert_live(conn: Connection) -> Any:
    name = conn.dialect.name
    cached = _UPSERT_LIVE.get(name)
    if cached is not None:
        return cached
    stmt = _dialect_insert(conn)(TransitLiveRow)
    columns = [c.name for c in TransitLiveRow.__table__.columns if c.name != "transit_id"]
    cached = _UPSERT_LIVE[name] = stmt.on_conflict_do_update(
        index_elements=["transit_id"], set_={c: stmt.excluded[c] for c in columns}
    )
    return cached


def _raise(batch: Batch, trigger: Trigger) -> None:
    conn = batch.conn
    transit = trigger.transit
    key = f"{transit.id}:{trigger.type.value}"
    for _ in range(3):  # another worker may insert or resolve it between our two statements
        repeat = conn.execute(
            update(AlertRow)
            .where(AlertRow.open_key == key)
            .values(count=AlertRow.count + 1, last_occurred_at=trigger.occurred_at)
            .returning(AlertRow.id)
        ).first()
        if repeat is not None:
            return
        severity = batch.thresholds(transit).severity_of(trigger.type).value
        values: dict[str, Any] = {
            "transit_id": transit.id,
            "device_id": transit.device_id,
            "type": trigger.type.value,
            "severity": severity,
            "status": "open",
            "open_key": key,
            "raised_at": batch.now,
            "received_at": trigger.received_at,
            "occurred_at": trigger.occurred_at,
            "last_occurred_at": trigger.occurred_at,
            "count": 1,
            "latitude": trigger.latitude,
            "longitude": trigger.longitude,
            "details": trigger.details,
        }
        stmt = _dialect_insert(conn)(AlertRow).values(**values)
        created = conn.execute(
            stmt.on_conflict_do_nothing(index_elements=["open_key"]).returning(AlertRow.id)
        ).first()
        if created is None:
            continue
        alert_id = int(created[0])
        conn.execute(
            insert(AlertStepRow).values(
                alert_id=alert_id,
                action="raised",
                at=batch.now,
                actor=SYSTEM_ACTOR,
                elapsed_s=0.0,
                value=severity,
            )
        )
        row = AlertRow(id=alert_id, acknowledged_at=None, resolved_at=None, **values)
        row.assignee = row.team = row.outcome = None
        batch.feed.append(("alert", transit.id, alert_payload(row, transit.reference)))
        batch.alerts_raised += 1
        batch.events.append(
            AlertRaised(
                actor=SYSTEM_ACTOR,
                at=batch.now,
                alert_id=alert_id,
                transit_id=transit.id,
                reference=transit.reference,
                device_id=transit.device_id,
                alert_type=trigger.type.value,
                severity=severity,
                occurred_at=trigger.occurred_at.isoformat(),
            )
        )
        return
    log.error("could not raise %s for transit %s: the open alert kept changing", key, transit.id)
