"""Plausibility checks every decoder applies, after traccar's shared filters.

Two kinds of wrong, two answers:

* coordinates outside the globe cannot be a position at all, so the frame is rejected with a
  :class:`FrameError` at the coordinate's offset (traccar's ``Position`` refuses them too);
* a time or speed that is merely absurd (a device clock reset to 2000, 900 km/h) is a report
  that something is off, not a reason to drop the frame: the record is kept and its
  ``implausible`` names the field, so the device still gets its acknowledgement and stops
  retransmitting, and the pipeline decides what to trust.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartcustoms.tracking.errors import FrameError

__all__ = [
    "EARLIEST_TIME",
    "FUTURE_SLACK",
    "MAX_SPEED_KMH",
    "check_coordinates",
    "implausible",
]

# Devices with an unset clock report 2000-01-01 or the GPS epoch; nothing in service predates this.
EARLIEST_TIME = datetime(2010, 1, 1, tzinfo=UTC)
# Device clocks drift and time zones get misconfigured; beyond a day ahead it is wrong.
FUTURE_SLACK = timedelta(days=1)
# Road cargo; anything faster is a decoding or GNSS fault.
MAX_SPEED_KMH = 350.0


def check_coordinates(latitude: float, longitude: float, offset: int) -> None:
    """Raise :class:`FrameError` at ``offset`` unless the point is on the globe (NaN is not)."""
    if not -90.0 <= latitude <= 90.0:
        raise FrameError(offset, "latitude within ±90°", f"{latitude!r}")
    if not -180.0 <= longitude <= 180.0:
        raise FrameError(offset, "longitude within ±180°", f"{longitude!r}")


def implausible(
    time: datetime,
    speed_kmh: float | None,
    course: float | None,
    received_at: datetime,
) -> tuple[str, ...]:
    """Names of the fields that fail the checks, in a fixed order; empty when all pass."""
    found: list[str] = []
    if time < EARLIEST_TIME or time > received_at + FUTURE_SLACK:
        found.append("time")
    if speed_kmh is not None and not 0.0 <= speed_kmh <= MAX_SPEED_KMH:
        found.append("speed")
    if course is not None and not 0.0 <= course <= 360.0:
        found.append("course")
    return tuple(found)
