"""Simulated trucks: driving along a corridor's route, some of them misbehaving.

A truck starts somewhere along its route and drives it at a steady speed (with a little
noise), ``speedup`` times faster than real time so a demonstration shows movement; the reports'
times are real. Incidents happen at random (``incidents_per_hour`` per truck, each lasting
``incident_minutes`` of real time) or on request (:meth:`Truck.start_incident`):

``opening``      one report with the seal opened, away from any zone
``tamper``, ``cable_cut``, ``jamming``   one report with that event
``low_battery``  the battery drops to 10 % and stays there
``deviation``    the truck leaves the road: reports 25 km to the side of the route
``long_stop``    the truck stands still
``signal_loss``  the device goes silent
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from smartcustoms.tracking.geometry import distance_m
from smartcustoms.tracking.records import Position, SealEvent

__all__ = ["INCIDENTS", "Route", "Truck"]

INCIDENTS: Final = (
    "opening",
    "tamper",
    "cable_cut",
    "jamming",
    "low_battery",
    "deviation",
    "long_stop",
    "signal_loss",
)
_ONE_SHOT: Final = {
    "opening": SealEvent.OPENED,
    "tamper": SealEvent.TAMPER,
    "cable_cut": SealEvent.CABLE_CUT,
    "jamming": SealEvent.GPS_JAMMING,
}
_DEVIATION_M: Final = 25_000.0  # farther than any corridor buffer
_EARTH_M_PER_DEGREE: Final = 111_320.0


class Route:
    """A polyline of (longitude, latitude) with cumulative distances along it."""

    def __init__(self, points: Sequence[tuple[float, float]]) -> None:
        if len(points) < 2:
            raise ValueError("a route needs two points")
        self.points = list(points)
        self.cumulative = [0.0]
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            self.cumulative.append(self.cumulative[-1] + distance_m(y1, x1, y2, x2))
        self.length_m = self.cumulative[-1]

    def distance_m(self, longitude: float, latitude: float) -> float:
        """Roughly how far the point is from the route (flat Earth around the point)."""
        kx = _EARTH_M_PER_DEGREE * math.cos(math.radians(latitude))
        best = math.inf
        for (x1, y1), (x2, y2) in itertools.pairwise(self.points):
            ax, ay = (x1 - longitude) * kx, (y1 - latitude) * _EARTH_M_PER_DEGREE
            bx, by = (x2 - longitude) * kx, (y2 - latitude) * _EARTH_M_PER_DEGREE
            dx, dy = bx - ax, by - ay
            span = dx * dx + dy * dy
            t = 0.0 if span == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / span))
            best = min(best, math.hypot(ax + t * dx, ay + t * dy))
        return best

    def aside(
        self, longitude: float, latitude: float, course: float, metres: float
    ) -> tuple[float, float]:
        """A point at least ``metres`` off the route, beside (longitude, latitude): to the right
        of the direction of travel, or to the left where the road bends back that way."""
        best = (longitude, latitude)
        for step in (1.0, 1.5, 2.0, 3.0):
            for side in (90.0, -90.0):
                angle = math.radians(course + side)
                lat = latitude + metres * step * math.cos(angle) / _EARTH_M_PER_DEGREE
                lon = longitude + metres * step * math.sin(angle) / (
                    _EARTH_M_PER_DEGREE * math.cos(math.radians(latitude))
                )
                best = (lon, lat)
                if self.distance_m(lon, lat) >= metres:
                    return best
        return best

    def at(self, along_m: float) -> tuple[float, float, float]:
        """Longitude, latitude and course (degrees) ``along_m`` metres from the start."""
        along = min(max(along_m, 0.0), self.length_m)
        lo, hi = 0, len(self.cumulative) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.cumulative[mid] <= along:
                lo = mid
            else:
                hi = mid
        (x1, y1), (x2, y2) = self.points[lo], self.points[lo + 1]
        span = self.cumulative[lo + 1] - self.cumulative[lo] or 1.0
        f = (along - self.cumulative[lo]) / span
        x, y = x1 + (x2 - x1) * f, y1 + (y2 - y1) * f
        course = math.degrees(math.atan2((x2 - x1) * math.cos(math.radians(y)), y2 - y1)) % 360
        return x, y, course


@dataclass
class Truck:
    device_id: str
    route: Route
    along_m: float = 0.0
    speed_kmh: float = 60.0
    battery: float = 95.0
    incident: str | None = None
    incident_left_s: float = 0.0
    pending_event: SealEvent | None = None
    rng: random.Random = field(default_factory=random.Random)

    def start_incident(self, kind: str, seconds: float) -> None:
        if kind not in INCIDENTS:
            raise ValueError(f"unknown incident {kind!r}; known: {', '.join(INCIDENTS)}")
        if kind in _ONE_SHOT:
            self.pending_event = _ONE_SHOT[kind]
            return
        if kind == "low_battery":
            self.battery = 10.0
            return
        self.incident = kind
        self.incident_left_s = seconds

    def advance(self, seconds: float, speedup: float) -> None:
        """Move on by ``seconds`` of real time; incidents run out."""
        if self.incident is not None:
            self.incident_left_s -= seconds
            if self.incident_left_s <= 0:
                self.incident = None
        if self.incident != "long_stop":
            step = self.speed_kmh / 3.6 * seconds * speedup
            self.along_m += step
            if self.along_m >= self.route.length_m:  # arrived: start over (a new trip)
                self.along_m = 0.0
        if self.battery > 12:
            self.battery = max(12.0, self.battery - 0.0005 * seconds * speedup)

    @property
    def silent(self) -> bool:
        return self.incident == "signal_loss"

    def report(self, now: datetime) -> Position:
        longitude, latitude, course = self.route.at(self.along_m)
        if self.incident == "deviation":
            longitude, latitude = self.route.aside(longitude, latitude, course, _DEVIATION_M)
        stopped = self.incident == "long_stop"
        speed = 0.0 if stopped else max(0.0, self.speed_kmh + self.rng.uniform(-5, 5))
        events: tuple[SealEvent, ...] = ()
        if self.pending_event is not None:
            events = (self.pending_event,)
            self.pending_event = None
        if self.battery <= 15 and SealEvent.LOW_BATTERY not in events:
            events = (*events, SealEvent.LOW_BATTERY)
        return Position(
            device_id=self.device_id,
            time=now.replace(microsecond=0),
            latitude=round(latitude, 6),
            longitude=round(longitude, 6),
            speed_kmh=round(speed, 1),
            course=round(course),
            satellites=self.rng.randint(7, 12),
            valid=True,
            altitude=1200.0,
            events=events,
            attributes={"battery_level": round(self.battery)},
        )
