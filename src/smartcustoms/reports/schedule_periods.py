"""When a scheduled report is sent and which days it covers.

A weekly report goes out on Monday and covers the week before (Monday to Sunday); a monthly
one on the 1st and covers the month before. The send time is :data:`SEND_HOUR` in the
instance's ``time_zone``, before the working day starts; the days covered are report days
(UTC, as every report's filters count them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from smartcustoms.reports.filters import Filters

__all__ = ["SEND_HOUR", "Period", "covered", "next_send"]

SEND_HOUR = 6


class Period(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def _start_of_period(period: Period, day: date) -> date:
    """The first day of the period ``day`` falls in."""
    if period is Period.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_start(period: Period, start: date) -> date:
    if period is Period.WEEKLY:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def next_send(period: Period, after: datetime, zone: ZoneInfo) -> datetime:
    """The first send time (UTC) strictly after ``after``."""
    local = after.astimezone(zone)
    start = _start_of_period(period, local.date())
    while True:
        moment = datetime.combine(start, time(SEND_HOUR), zone).astimezone(UTC)
        if moment > after:
            return moment
        start = _next_start(period, start)


def covered(period: Period, send_at: datetime, zone: ZoneInfo) -> Filters:
    """The days a report sent at ``send_at`` covers: the whole period before it."""
    this_start = _start_of_period(period, send_at.astimezone(zone).date())
    previous = this_start - timedelta(days=1)
    return Filters(_start_of_period(period, previous), previous)
