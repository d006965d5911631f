"""Device timestamps to aware UTC datetimes, with impossible dates as FrameErrors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartcustoms.tracking.errors import FrameError

__all__ = ["from_epoch_ms", "from_fields"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant datetime can hold


def from_fields(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    *,
    offset: int,
    utc_offset: timedelta = timedelta(0),
) -> datetime:
    """The UTC instant of a wall-clock time the device wrote at ``utc_offset`` from UTC.

    ``offset`` is where the date began in the frame, for the error when the date is impossible.
    """
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        found = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
        raise FrameError(offset, "a valid date and time", found) from None
    if utc_offset:
        try:
            return local - utc_offset
        except OverflowError:
            raise FrameError(offset, "a date within years 1–9999", str(local)) from None
    return local


def from_epoch_ms(ms: int, *, offset: int) -> datetime:
    """The instant ``ms`` milliseconds after the Unix epoch."""
    if not 0 <= ms <= _MAX_MS:
        raise FrameError(offset, "milliseconds since 1970 before year 10000", str(ms))
    return _EPOCH + timedelta(milliseconds=ms)
