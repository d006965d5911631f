"""This administration's customs offices: name, UN/LOCODE, time zone, examination capacity.

Declarations, transits and scans carry an office as its UN/LOCODE (``KEMBA``). People read
names, and an officer reads times in the office's own time zone: :func:`office_name` and
:func:`office_names` are the lookups any page or report uses to show an office (a code no
office is registered under falls back to the packaged UN/LOCODE name, then to the code
itself, so nothing shows blank). The capacity — physical examinations the office can carry out
a day — is what the risk engine's selectivity and the reports compare red lanes against.

Administrators create and change offices (:func:`save_office`); each change is an
``admin.office_saved`` record in the ledger with the values before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from smartcustoms.core import clock
from smartcustoms.core.errors import NotFound, ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime
from smartcustoms.core.unit import Unit
from smartcustoms.reference.unlocode import location

__all__ = [
    "MAX_CAPACITY",
    "OfficeInput",
    "OfficeRow",
    "OfficeSaved",
    "get_office",
    "list_offices",
    "office_name",
    "office_names",
    "office_time_zone",
    "save_office",
]

#: A generous ceiling: the busiest ports examine a few thousand containers a day.
MAX_CAPACITY: Final = 100_000


class OfficeRow(Base):
    """A customs office of this administration, keyed by its UN/LOCODE."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(5), unique=True)  # UN/LOCODE, no space
    name: Mapped[str] = mapped_column(String(120))
    time_zone: Mapped[str] = mapped_column(String(64))  # IANA, e.g. Africa/Nairobi
    examination_capacity: Mapped[int] = mapped_column(Integer)  # physical examinations a day
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True, kw_only=True)
class OfficeSaved(Event):
    """An office created (``before`` empty) or changed."""

    type: ClassVar[str] = "admin.office_saved"
    code: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class OfficeInput:
    """What an administrator types; checked by :func:`save_office`."""

    code: str
    name: str
    time_zone: str
    examination_capacity: int | str


def _invalid(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {problem}", details=[{"field": field, "problem": problem}])


def _values(data: OfficeInput) -> dict[str, Any]:
    """The clean values, or the first field that is wrong, named."""
    code = data.code.replace(" ", "").upper()
    if len(code) != 5 or location(code) is None:
        raise _invalid("code", "a UN/LOCODE of the packaged customs points (e.g. KEMBA)")
    name = " ".join(data.name.split())
    if not 1 <= len(name) <= 120:
        raise _invalid("name", "the office's name, 1 to 120 characters")
    zone = data.time_zone.strip()
    try:
        # Only a name the tz database knows: ZoneInfo also opens a path-like key, refuse those.
        if not zone or zone.startswith(("/", ".")) or ".." in zone:
            raise ValueError(zone)
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _invalid("time_zone", "an IANA time zone (e.g. Africa/Nairobi)") from None
    capacity = data.examination_capacity
    if isinstance(capacity, str):
        text = capacity.strip()
        if not text.lstrip("-").isdigit():
            raise _invalid("examination_capacity", f"a whole number from 0 to {MAX_CAPACITY}")
        capacity = int(text)
    if isinstance(capacity, bool) or not 0 <= capacity <= MAX_CAPACITY:
        raise _invalid("examination_capacity", f"a whole number from 0 to {MAX_CAPACITY}")
    return {
        "code": code,
        "name": name,
        "time_zone": zone,
        "examination_capacity": capacity,
    }


def _snapshot(row: OfficeRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "time_zone": row.time_zone,
        "examination_capacity": row.examination_capacity,
    }


def save_office(unit: Unit, data: OfficeInput, *, actor: str) -> OfficeRow:
    """Create the office with this UN/LOCODE, or change it; recorded with before and after."""
    values = _values(data)
    now = clock.now()
    row = unit.session.scalars(select(OfficeRow).where(OfficeRow.code == values["code"])).first()
    before: dict[str, Any] = {}
    if row is None:
        row = OfficeRow(code=values["code"], created_at=now, created_by=actor)
        unit.session.add(row)
    else:
        before = _snapshot(row)
    row.name = values["name"]
    row.time_zone = values["time_zone"]
    row.examination_capacity = values["examination_capacity"]
    row.changed_at = now
    row.changed_by = actor
    unit.session.flush()
    after = _snapshot(row)
    if before != after:
        unit.emit(OfficeSaved(actor=actor, code=row.code, before=before, after=after))
    return row


def get_office(session: Session, code: str) -> OfficeRow:
    row = session.scalars(
        select(OfficeRow).where(OfficeRow.code == code.replace(" ", "").upper())
    ).first()
    if row is None:
        raise NotFound(f"no office {code}", details=[{"field": "code"}])
    return row


def list_offices(session: Session) -> Sequence[OfficeRow]:
    return session.scalars(select(OfficeRow).order_by(OfficeRow.name, OfficeRow.code)).all()


def office_names(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """The name to show for each code: the registered office's, else the packaged UN/LOCODE
    point's, else the code itself. One query whatever the number of codes."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    keys = {c: c.replace(" ", "").upper() for c in wanted}
    stored: Mapping[str, str] = {
        code: name
        for code, name in session.execute(
            select(OfficeRow.code, OfficeRow.name).where(OfficeRow.code.in_(set(keys.values())))
        )
    }
    names = {}
    for code, key in keys.items():
        packaged = location(key)
        names[code] = stored.get(key) or (packaged.name if packaged else code)
    return names


def office_name(session: Session, code: str | None) -> str:
    """The name to show for one office code (see :func:`office_names`); "" for no code."""
    return office_names(session, [code]).get(code or "", "")


def office_time_zone(session: Session, code: str | None) -> ZoneInfo | None:
    """The registered office's time zone, or None when the code names no registered office."""
    if not code:
        return None
    zone = session.scalar(
        select(OfficeRow.time_zone).where(OfficeRow.code == code.replace(" ", "").upper())
    )
    return ZoneInfo(zone) if zone else None
