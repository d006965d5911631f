"""The rules: what in a truck's reports (or its silence) is worth an operator's attention.

Two lists, each read top to bottom:

* :data:`REPORT_RULES` run on every new report of a monitored transit, after the pipeline has
  located it (inside the corridor or not, in which zone);
* :data:`CLOCK_RULES` run on a timer for every monitored transit (the sweep): what no report
  can tell, because the trouble is that none arrives.

A rule returns the :class:`Trigger` objects it fires and may update the transit's timers. The
pipeline turns triggers into alerts, one open alert per transit and type (a repeat adds to its
count). Rules with a duration (deviation, long stop, signal loss, low battery) fire once per
episode: ``RuleState.alerted`` remembers it until the episode ends (back inside the corridor,
moving again, heard from again, battery recovered), so resolving an alert does not bring the
same one straight back while the truck is still where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smartcustoms.tracking.geometry import Shape, distance_m
from smartcustoms.tracking.monitor import TransitState, ZoneInfo
from smartcustoms.tracking.records import Position, SealEvent
from smartcustoms.tracking.thresholds import AlertType, Thresholds

__all__ = [
    "CLOCK_RULES",
    "REPORT_RULES",
    "Report",
    "Trigger",
    "evaluate",
    "moving_inside",
    "sweep",
]

_BATTERY_HYSTERESIS = 5.0  # percent above the threshold before a low battery episode ends
_TAMPER_EVENTS = (SealEvent.TAMPER, SealEvent.POWER_CUT, SealEvent.GPS_ANTENNA_CUT)


@dataclass(slots=True)
class Report:
    """One stored record on its way through the pipeline."""

    position: Position
    device_id: str
    received_at: datetime
    protocol: str
    new: bool = True
    transit: TransitState | None = None
    inside_corridor: bool | None = None  # None: no valid fix, or no corridor
    zone: ZoneInfo | None = None
    current: bool = True  # not older than the transit's latest fix (timers may use it)
    route: Shape | None = None  # the corridor, to measure how far off it the report is

    def off_route_m(self) -> float | None:
        """Metres from the route; measured on demand (most reports never need it)."""
        p = self.position
        if self.inside_corridor is not False or self.route is None:
            return None
        assert p.longitude is not None and p.latitude is not None
        return self.route.distance_to_line_m(p.longitude, p.latitude)

    @property
    def located(self) -> bool:
        p = self.position
        return p.valid and p.latitude is not None and p.longitude is not None


@dataclass(frozen=True)
class Trigger:
    transit: TransitState
    type: AlertType
    occurred_at: datetime
    received_at: datetime
    latitude: float | None
    longitude: float | None
    details: dict[str, Any] = field(default_factory=dict)


ReportRule = Callable[[Report, TransitState, Thresholds], list[Trigger]]
ClockRule = Callable[[TransitState, Thresholds, datetime], list[Trigger]]


def _trigger(report: Report, kind: AlertType, **details: Any) -> Trigger:
    assert report.transit is not None
    p = report.position
    where: dict[str, Any] = {"zone": report.zone.code if report.zone else None}
    if not report.located:
        where["position_unknown"] = True
    return Trigger(
        transit=report.transit,
        type=kind,
        occurred_at=p.time if "time" not in p.implausible else report.received_at,
        received_at=report.received_at,
        latitude=p.latitude,
        longitude=p.longitude,
        details={**where, **details},
    )


def _in_authorised_zone(report: Report) -> bool:
    return report.zone is not None and report.zone.authorised_stop


def _attribute(report: Report, name: str) -> bool | None:
    value = report.position.attributes.get(name)
    return value if isinstance(value, bool) else None


# --- rules on reports --------------------------------------------------------------------------


def seal_opened(report: Report, transit: TransitState, t: Thresholds) -> list[Trigger]:
    """Opened or unlocked outside an authorised zone: an event, or the lock state changing."""
    if _in_authorised_zone(report):
        return []
    events = report.position.events
    found = [e.value for e in events if e in (SealEvent.OPENED, SealEvent.UNLOCKED)]
    locked = _attribute(report, "locked")
    door_open = _attribute(report, "door_open")
    if report.current:
        if transit.locked is True and locked is False and SealEvent.UNLOCKED not in events:
            found.append("unlocked_state")
        if transit.door_open is False and door_open is True and SealEvent.OPENED not in events:
            found.append("door_open_state")
    if not found:
        return []
    return [_trigger(report, AlertType.SEAL_OPENED, events=found)]


def cable_cut(report: Report, transit: TransitState, t: Thresholds) -> list[Trigger]:
    found = SealEvent.CABLE_CUT in report.position.events
    inserted = _attribute(report, "cable_inserted")
    pulled = report.current and transit.cable_inserted is True and inserted is False
    if not found and not (pulled and not _in_authorised_zone(report)):
        return []
    return [_trigger(report, AlertType.CABLE_CUT, event="cable_cut" if found else "cable_out")]


def tamper(report: Report, transit: TransitState, t: Thresholds) -> list[Trigger]:
    found = [e.value for e in report.position.events if e in _TAMPER_EVENTS]
    return [_trigger(report, AlertType.TAMPER, events=found)] if found else []


def gps_jamming(report: Report, transit: TransitState, t: Thresholds) -> list[Trigger]:
    if SealEvent.GPS_JAMMING not in report.position.events:
        return []
    return [_trigger(report, AlertType.GPS_JAMMING)]


def low_battery(report: Report, transit: TransitState, t: Thresholds) -> list[Trigger]:
    level = report.position.attributes.get("battery_level")
    level = float(level) if isinstance(level, int | float) and not isinstance(level, bool) else None
    alerted = AlertType.LOW_BATTERY.value in transit.rule.alerted
    if level is not None and level > t.low_battery_percent + _BATTERY_HYSTERESIS:
        transit.rule.alerted.discard(AlertType.LOW_BATTERY.value)
        return []
    low = SealEvent.LOW_BATTERY in report.position.events or (
        level is not None and level <= t.low_battery_percent
    )
    if not low or alerted:
        return []
    transit.rule.alerted.add(AlertType.LOW_BATTERY.value)
    return [_trigger(report, AlertType.LOW_BATTERY, battery_level=level)]


def route_deviation(report: Report, transit: TransitState, t: Thresholds) -> list[Trigger]:
    """Outside the corridor buffer (and no authorised zone) for ``deviation_minutes``."""
    if not report.current or report.inside_corridor is None:
        return []
    rule = transit.rule
    kind = AlertType.ROUTE_DEVIATION.value
    if report.inside_corridor or _in_authorised_zone(report):
        rule.outside_since = None
        rule.alerted.discard(kind)
        return []
    now = report.position.time
    if rule.outside_since is None or rule.outside_since > now:
        rule.outside_since = now
    minutes = (now - rule.outside_since).total_seconds() / 60
    if minutes < t.deviation_minutes or kind in rule.alerted:
        return []
    rule.alerted.add(kind)
    return [
        _trigger(
            report,
            AlertType.ROUTE_DEVIATION,
            off_route_m=round(report.off_route_m() or 0.0),
            outside_since=rule.outside_since.isoformat(),
            minutes=round(minutes, 1),
        )
    ]


def long_stop(report: Report, transit: TransitState, t: Thresholds) -> list[Trigger]:
    """Stopped outside an authorised stop zone for ``long_stop_minutes``."""
    if not report.current or not report.located:
        return []
    p = report.position
    assert p.longitude is not None and p.latitude is not None
    rule = transit.rule
    kind = AlertType.LONG_STOP.value
    moving = p.speed_kmh is not None and p.speed_kmh > t.stop_speed_kmh
    if moving or _in_authorised_zone(report):
        rule.stopped_since = None
        rule.stop_point = None
        rule.alerted.discard(kind)
        return []
    crept = rule.stop_point is not None and (
        distance_m(rule.stop_point[1], rule.stop_point[0], p.latitude, p.longitude)
        > t.stop_radius_m
    )
    if rule.stopped_since is None or rule.stop_point is None or crept:
        rule.stopped_since = p.time
        rule.stop_point = (p.longitude, p.latitude)
        rule.alerted.discard(kind)
        return []
    minutes = (p.time - rule.stopped_since).total_seconds() / 60
    if minutes < t.long_stop_minutes or kind in rule.alerted:
        return []
    rule.alerted.add(kind)
    return [
        _trigger(
            report,
            AlertType.LONG_STOP,
            stopped_since=rule.stopped_since.isoformat(),
            minutes=round(minutes, 1),
        )
    ]


REPORT_RULES: tuple[ReportRule, ...] = (
    seal_opened,
    cable_cut,
    tamper,
    gps_jamming,
    low_battery,
    route_deviation,
    long_stop,
)
#: The rules that can fire on a report with no events and none of the attributes the seal
#: rules read: most reports, so the pipeline runs only these on them (same outcome, less work).
_QUIET_RULES: tuple[ReportRule, ...] = (route_deviation, long_stop)
_SEAL_STATE: frozenset[str] = frozenset({"locked", "door_open", "cable_inserted", "battery_level"})


# --- rules on the clock ------------------------------------------------------------------------


def signal_lost(transit: TransitState, t: Thresholds, now: datetime) -> list[Trigger]:
    kind = AlertType.SIGNAL_LOST.value
    heard = transit.last_seen_at or transit.armed_at
    minutes = (now - heard).total_seconds() / 60
    if minutes < t.signal_lost_minutes or kind in transit.rule.alerted:
        return []
    transit.rule.alerted.add(kind)
    return [
        Trigger(
            transit=transit,
            type=AlertType.SIGNAL_LOST,
            occurred_at=now,
            received_at=now,
            latitude=transit.latitude,
            longitude=transit.longitude,
            details={
                "last_seen_at": transit.last_seen_at.isoformat() if transit.last_seen_at else None,
                "minutes": round(minutes, 1),
            },
        )
    ]


def deadline_passed(transit: TransitState, t: Thresholds, now: datetime) -> list[Trigger]:
    kind = AlertType.DEADLINE_PASSED.value
    if now <= transit.deadline or kind in transit.rule.alerted:
        return []
    transit.rule.alerted.add(kind)
    return [
        Trigger(
            transit=transit,
            type=AlertType.DEADLINE_PASSED,
            occurred_at=now,
            received_at=now,
            latitude=transit.latitude,
            longitude=transit.longitude,
            details={"deadline": transit.deadline.isoformat()},
        )
    ]


CLOCK_RULES: tuple[ClockRule, ...] = (signal_lost, deadline_passed)


def moving_inside(report: Report, thresholds: Thresholds) -> bool:
    """A current report of a truck moving inside its corridor, with no events and none of the
    attributes the seal rules read: every report rule passes on it and only ends episodes
    (deviation: back inside; long stop: moving). The pipeline takes a short cut for these."""
    p = report.position
    speed = p.speed_kmh
    return (
        report.inside_corridor is True  # located, and tested against the corridor
        and report.current
        and not p.events
        and speed is not None
        and speed > thresholds.stop_speed_kmh
        and _SEAL_STATE.isdisjoint(p.attributes)
    )


def evaluate(report: Report, thresholds: Thresholds) -> list[Trigger]:
    """Every report rule on ``report`` (of a monitored transit), in order."""
    transit = report.transit
    assert transit is not None
    p = report.position
    quiet = not p.events and _SEAL_STATE.isdisjoint(p.attributes)
    fired: list[Trigger] = []
    for rule in _QUIET_RULES if quiet else REPORT_RULES:
        fired.extend(rule(report, transit, thresholds))
    return fired


def sweep(transit: TransitState, thresholds: Thresholds, now: datetime) -> list[Trigger]:
    fired: list[Trigger] = []
    for rule in CLOCK_RULES:
        fired.extend(rule(transit, thresholds, now))
    return fired
