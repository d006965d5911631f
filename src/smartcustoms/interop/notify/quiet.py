"""Quiet hours: when a person is not to be disturbed, and when they end.

Each contact may set a daily quiet period in their own time zone (``22:00``–``06:00`` crosses
midnight). During it a notification that can wait (a rule approval, a scan re-check) is held
until the period ends; an urgent one (a critical alert, its escalation chain, an escalated
alert) is sent at once — the person on duty at night must be woken for a cut seal. The rule
lives in :data:`.triggers.URGENT`, so it is decided in one place.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smartcustoms.core.errors import ValidationFailed

__all__ = ["parse_clock", "parse_zone", "quiet_until"]

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_clock(value: str, field: str) -> str:
    """``HH:MM`` (24 h), or ValidationFailed naming ``field``."""
    if not _CLOCK.match(value):
        raise ValidationFailed(
            f"{field}: a time of day as HH:MM (24 h), got {value[:20]!r}",
            details=[{"field": field, "found": value[:20]}],
        )
    return value


def parse_zone(value: str, field: str = "timezone") -> str:
    """An IANA time zone name (``Africa/Nairobi``), or ValidationFailed naming ``field``."""
    try:
        if len(value) > 64 or not value:
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"{field}: an IANA time zone such as Africa/Nairobi, got {value[:64]!r}",
            details=[{"field": field, "found": value[:64]}],
        ) from None
    return value


def _at(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, start: str | None, end: str | None, zone: str) -> datetime | None:
    """If ``now`` falls in the quiet period ``start``–``end`` (local times in ``zone``), the
    moment it ends (aware, in UTC's terms); otherwise None. An empty or zero-length period is
    never quiet."""
    if not start or not end or start == end:
        return None
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    begin, finish = _at(start), _at(end)
    clock = local.time().replace(second=0, microsecond=0)
    today = local.date()
    if begin < finish:  # the same day, e.g. 12:00-14:00
        inside = begin <= clock < finish
        ends_on = today
    else:  # across midnight, e.g. 22:00-06:00
        inside = clock >= begin or clock < finish
        ends_on = today + timedelta(days=1) if clock >= begin else today
    if not inside:
        return None
    # Built from the wall clock in the zone: a period ending at 06:00 ends at 06:00 local,
    # whatever daylight-saving change happened overnight.
    return datetime.combine(ends_on, finish, tzinfo=tz)
