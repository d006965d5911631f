"""The binary location block Jointech devices share: JT701 ``$`` frames and JT/T 808 0x5501.

17 bytes: date-time 6B BCD (ddmmyyhhmmss, UTC), latitude 4B BCD (ddmm.mmmm), longitude 4½B BCD
(dddmm.mmmm) and a flag nibble (bit 0 valid fix, bit 1 north, bit 2 east), speed 1B BCD,
course 1B in 2° steps. The speed is read as knots, as traccar does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.plausibility import check_coordinates, implausible
from smartcustoms.tracking.protocols.datetimes import from_fields
from smartcustoms.tracking.protocols.reader import Reader
from smartcustoms.tracking.records import Attributes, Position, SealEvent, events

__all__ = ["Fix", "read_fix"]

_KNOTS: Final = 1.852  # km/h per knot


@dataclass(frozen=True, slots=True)
class Fix:
    time: datetime
    latitude: float
    longitude: float
    speed_kmh: float
    course: float
    valid: bool

    def position(
        self,
        device_id: str,
        received_at: datetime,
        *,
        satellites: int | None,
        attributes: Attributes,
        found: Sequence[SealEvent],
    ) -> Position:
        return Position(
            device_id=device_id,
            time=self.time,
            latitude=self.latitude,
            longitude=self.longitude,
            speed_kmh=self.speed_kmh,
            course=self.course,
            satellites=satellites,
            valid=self.valid,
            events=events(found) if found else (),
            attributes=attributes,
            implausible=implausible(self.time, self.speed_kmh, self.course, received_at),
        )


def read_fix(r: Reader) -> Fix:
    start = r.pos
    r.need(17, "time, latitude, longitude, flags, speed and course")
    stamp = r.bcd(6, "date and time ddmmyyhhmmss")  # date and time, BCD
    day, month, year, hour, minute, second = (int(stamp[i : i + 2]) for i in range(0, 12, 2))
    time = from_fields(2000 + year, month, day, hour, minute, second, offset=start)
    latitude = _degrees(int(r.bcd(4, "latitude ddmm.mmmm")))  # latitude, BCD ddmm.mmmm
    lon_at = r.pos
    lon_field = r.take(5).hex()  # longitude dddmm.mmmm in 9 BCD digits, then a flag nibble
    if not lon_field[:9].isdigit():
        raise FrameError(lon_at, "BCD digits (longitude dddmm.mmmm)", lon_field)
    longitude = _degrees(int(lon_field[:9]))
    flags = int(lon_field[9], 16)  # bit 0 valid fix, bit 1 north, bit 2 east
    speed = int(r.bcd(1, "speed")) * _KNOTS  # speed, BCD knots
    course = r.u8() * 2.0  # course, 2° steps
    if not flags & 0x2:
        latitude = -latitude
    if not flags & 0x4:
        longitude = -longitude
    check_coordinates(latitude, longitude, start + 6)
    return Fix(time, latitude, longitude, speed, course, bool(flags & 0x1))


def _degrees(raw: int) -> float:
    """(d)ddmm.mmmm packed as an integer of 10⁻⁴ minutes, to degrees."""
    return raw // 1_000_000 + (raw % 1_000_000) / 10_000 / 60
