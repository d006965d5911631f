"""The filters every report takes: a date range (both ends included, UTC days), and an office
and a corridor where the report has them. Read from query parameters with typed errors naming
the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from smartcustoms.core import clock
from smartcustoms.core.errors import ValidationFailed

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "Filters", "parse_filters"]

DEFAULT_DAYS = 365
MAX_DAYS = 3660  # ten years: beyond, a typo (year 2206) rather than a wish
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date
    office: str | None = None
    corridor: str | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: the first instant after ``date_to``."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, UTC)

    def as_dict(self) -> dict[str, str]:
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.office:
            out["office"] = self.office
        if self.corridor:
            out["corridor"] = self.corridor
        return out


EARLIEST = date(1970, 1, 1)
LATEST = date(2999, 12, 31)  # date.max + 1 day would overflow; no report reaches this far


def _date(value: str, field: str) -> date:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(
            f"{field}: a date as YYYY-MM-DD", details=[{"field": field, "found": value[:40]}]
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise ValidationFailed(
            f"{field}: a date between {EARLIEST} and {LATEST}", details=[{"field": field}]
        )
    return day


def _code(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    if not _CODE.match(value.strip()):
        raise ValidationFailed(
            f"{field}: a code of 1 to 32 letters, digits, '-' or '_'",
            details=[{"field": field}],
        )
    return value.strip()


def parse_filters(params: Mapping[str, str | None]) -> Filters:
    """Filters from query parameters ``from``, ``to``, ``office``, ``corridor``. Without dates,
    the last :data:`DEFAULT_DAYS` days up to today."""
    today = clock.now().astimezone(UTC).date()
    raw_to = params.get("to")
    raw_from = params.get("from")
    date_to = _date(raw_to, "to") if raw_to else today
    date_from = _date(raw_from, "from") if raw_from else date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise ValidationFailed("from: after to", details=[{"field": "from"}])
    if (date_to - date_from).days >= MAX_DAYS:
        raise ValidationFailed(
            f"from: the range may cover at most {MAX_DAYS} days", details=[{"field": "from"}]
        )
    office = _code(params.get("office"), "office")
    return Filters(
        date_from,
        date_to,
        office.upper() if office else None,
        _code(params.get("corridor"), "corridor"),
    )
