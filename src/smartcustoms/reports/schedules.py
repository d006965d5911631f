"""Reports sent by e-mail on a schedule: which report, with which filters, in which format, to
whom, weekly or monthly.

Administrators and supervisors create, edit, pause, resume and remove schedules
(``reports.schedule_saved``, ``reports.schedule_updated``, ``reports.schedule_paused``,
``reports.schedule_resumed``, ``reports.schedule_removed`` in the ledger); a paused schedule
is never due. A background job (:mod:`smartcustoms.interop.notify.report_mail`) sends each one
when it is due: it *claims* the schedule first (a compare-and-set on ``next_send_at``, so two
web workers never both send it), then records each send as ``reports.sent``. A failed send is
tried again at the next tick after :data:`RETRY_AFTER`, and its error is kept on the schedule
for the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from smartcustoms.core import clock
from smartcustoms.core.errors import NotFound, ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime
from smartcustoms.core.unit import Unit
from smartcustoms.reports.filters import Filters, parse_filters
from smartcustoms.reports.schedule_periods import Period, covered, next_send

__all__ = [
    "FORMATS",
    "MAX_RECIPIENTS",
    "RETRY_AFTER",
    "ReportScheduleRow",
    "ReportSent",
    "ScheduleInput",
    "SchedulePaused",
    "ScheduleRemoved",
    "ScheduleResumed",
    "ScheduleSaved",
    "ScheduleUpdated",
    "claim",
    "create_schedule",
    "days_for",
    "due_schedules",
    "list_schedules",
    "pause_schedule",
    "record_failure",
    "record_sent",
    "remove_schedule",
    "resume_schedule",
    "update_schedule",
]

FORMATS: Final = ("csv", "xlsx", "pdf")
MAX_RECIPIENTS: Final = 20
#: How long a claimed send is left to its worker, and how long a failed one waits to retry.
RETRY_AFTER: Final = timedelta(minutes=15)


class ReportScheduleRow(Base):
    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(8))
    period: Mapped[str] = mapped_column(String(16))  # weekly, monthly
    office: Mapped[str | None] = mapped_column(String(32))
    corridor: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))  # the attachment's and the mail's
    recipients: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_send_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: running


@dataclass(frozen=True, kw_only=True)
class ScheduleSaved(Event):
    type: ClassVar[str] = "reports.schedule_saved"
    schedule_id: int
    report: str
    format: str
    period: str
    office: str | None
    corridor: str | None
    recipients: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ScheduleUpdated(Event):
    """A schedule edited: what it is now, and which of its fields changed."""

    type: ClassVar[str] = "reports.schedule_updated"
    schedule_id: int
    report: str
    format: str
    period: str
    office: str | None
    corridor: str | None
    language: str
    recipients: tuple[str, ...]
    changed: tuple[str, ...]
    next_send_at: str


@dataclass(frozen=True, kw_only=True)
class ScheduleRemoved(Event):
    type: ClassVar[str] = "reports.schedule_removed"
    schedule_id: int
    report: str


@dataclass(frozen=True, kw_only=True)
class SchedulePaused(Event):
    type: ClassVar[str] = "reports.schedule_paused"
    schedule_id: int
    report: str


@dataclass(frozen=True, kw_only=True)
class ScheduleResumed(Event):
    type: ClassVar[str] = "reports.schedule_resumed"
    schedule_id: int
    report: str
    next_send_at: str


@dataclass(frozen=True, kw_only=True)
class ReportSent(Event):
    """One scheduled report sent: to whom, which days, in which format."""

    type: ClassVar[str] = "reports.sent"
    schedule_id: int
    report: str
    format: str
    date_from: str
    date_to: str
    office: str | None
    corridor: str | None
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class ScheduleInput:
    """What an administrator or supervisor asks for. ``recipients`` are checked addresses
    (the web layer reads them with the notification contacts' rule, naming each field)."""

    report: str
    format: str
    period: str
    recipients: Sequence[str]
    language: str = "en"
    office: str | None = None
    corridor: str | None = None


def _invalid(field: str, message: str, **detail: Any) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", details=[{"field": field, **detail}])


def _checked(data: ScheduleInput, reports: Sequence[str], languages: Sequence[str]) -> Filters:
    if data.report not in reports:
        raise _invalid("report", f"one of {', '.join(reports)}", found=data.report[:40])
    if data.format not in FORMATS:
        raise _invalid("format", f"one of {', '.join(FORMATS)}", found=data.format[:40])
    if data.period not in {p.value for p in Period}:
        raise _invalid("period", "weekly or monthly", found=data.period[:40])
    if data.language not in languages:
        raise _invalid("language", f"one of {', '.join(languages)}", found=data.language[:8])
    if not 1 <= len(data.recipients) <= MAX_RECIPIENTS:
        raise _invalid("recipients", f"1 to {MAX_RECIPIENTS} e-mail addresses")
    # The office and corridor are checked as every report's filters are.
    return parse_filters({"office": data.office, "corridor": data.corridor})


def create_schedule(
    unit: Unit,
    data: ScheduleInput,
    *,
    actor: str,
    reports: Sequence[str],
    languages: Sequence[str],
    zone: ZoneInfo,
) -> ReportScheduleRow:
    """Store a schedule; its first send is the next period's start (``zone``'s send hour)."""
    filters = _checked(data, reports, languages)
    now = clock.now()
    recipients = sorted({r.strip().lower() for r in data.recipients})
    row = ReportScheduleRow(
        report=data.report,
        format=data.format,
        period=data.period,
        office=filters.office,
        corridor=filters.corridor,
        language=data.language,
        recipients=recipients,
        created_by=actor,
        created_at=now,
        next_send_at=next_send(Period(data.period), now, zone),
    )
    unit.session.add(row)
    unit.session.flush()
    unit.emit(ScheduleSaved(actor=actor, **_described(row)))
    return row


def _described(row: ReportScheduleRow) -> dict[str, Any]:
    """What both a schedule's events record of it."""
    return {
        "schedule_id": row.id,
        "report": row.report,
        "format": row.format,
        "period": row.period,
        "office": row.office,
        "corridor": row.corridor,
        "recipients": tuple(row.recipients),
    }


def update_schedule(
    unit: Unit,
    schedule_id: int,
    data: ScheduleInput,
    *,
    actor: str,
    reports: Sequence[str],
    languages: Sequence[str],
    zone: ZoneInfo,
) -> ReportScheduleRow:
    """Replace what a schedule sends, to whom and how often, checked as when it was created.

    The same values again change nothing and record nothing (a form sent twice is not a
    second decision). A new period sets the next send to that period's next start; otherwise
    the next send stays as it was (a paused schedule stays paused)."""
    filters = _checked(data, reports, languages)
    row = _stored(unit, schedule_id)
    recipients = sorted({r.strip().lower() for r in data.recipients})
    wanted = {
        "report": data.report,
        "format": data.format,
        "period": data.period,
        "office": filters.office,
        "corridor": filters.corridor,
        "language": data.language,
        "recipients": recipients,
    }
    changed = tuple(name for name, value in wanted.items() if getattr(row, name) != value)
    if not changed:
        return row
    for name in changed:
        setattr(row, name, wanted[name])
    if "period" in changed:
        row.next_send_at = next_send(Period(row.period), clock.now(), zone)
    unit.session.flush()
    unit.emit(
        ScheduleUpdated(
            actor=actor,
            **_described(row),
            language=row.language,
            changed=changed,
            next_send_at=row.next_send_at.isoformat(),
        )
    )
    return row


def list_schedules(session: Session) -> Sequence[ReportScheduleRow]:
    return session.scalars(select(ReportScheduleRow).order_by(ReportScheduleRow.id)).all()


def _stored(unit: Unit, schedule_id: int) -> ReportScheduleRow:
    row = unit.session.get(ReportScheduleRow, schedule_id)
    if row is None:
        raise NotFound(f"no report schedule {schedule_id}", details=[{"field": "schedule_id"}])
    return row


def pause_schedule(unit: Unit, schedule_id: int, *, actor: str) -> ReportScheduleRow:
    """Stop sending until resumed; pausing a paused schedule changes nothing and records
    nothing (a double click is not a second decision)."""
    row = _stored(unit, schedule_id)
    if row.paused_at is None:
        row.paused_at = clock.now()
        unit.session.flush()
        unit.emit(SchedulePaused(actor=actor, schedule_id=row.id, report=row.report))
    return row


def resume_schedule(
    unit: Unit, schedule_id: int, *, actor: str, zone: ZoneInfo
) -> ReportScheduleRow:
    """Send again from the next period on: the sends missed while paused are not made up (a
    pile of old reports at once would bury the one that matters)."""
    row = _stored(unit, schedule_id)
    if row.paused_at is not None:
        now = clock.now()
        row.paused_at = None
        if row.next_send_at <= now:
            row.next_send_at = next_send(Period(row.period), now, zone)
        unit.session.flush()
        unit.emit(
            ScheduleResumed(
                actor=actor,
                schedule_id=row.id,
                report=row.report,
                next_send_at=row.next_send_at.isoformat(),
            )
        )
    return row


def remove_schedule(unit: Unit, schedule_id: int, *, actor: str) -> None:
    row = _stored(unit, schedule_id)
    unit.session.delete(row)
    unit.session.flush()
    unit.emit(ScheduleRemoved(actor=actor, schedule_id=schedule_id, report=row.report))


def due_schedules(session: Session, now: datetime) -> list[tuple[int, datetime]]:
    """(id, the send time it is due for) of every schedule due at ``now`` and not paused."""
    query = select(ReportScheduleRow.id, ReportScheduleRow.next_send_at).where(
        ReportScheduleRow.next_send_at <= now, ReportScheduleRow.paused_at.is_(None)
    )
    return [(id_, due) for id_, due in session.execute(query.order_by(ReportScheduleRow.id))]


def claim(session: Session, schedule_id: int, due: datetime, now: datetime) -> bool:
    """Take the send due at ``due`` for this worker: move ``next_send_at`` past the time a send
    takes, only if nobody moved it first. False: another worker has it, or it was paused
    since it was found due."""
    moved = session.execute(
        update(ReportScheduleRow)
        .where(
            ReportScheduleRow.id == schedule_id,
            ReportScheduleRow.next_send_at == due,
            ReportScheduleRow.paused_at.is_(None),
        )
        .values(next_send_at=now + RETRY_AFTER)
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def days_for(row: ReportScheduleRow, due: datetime, zone: ZoneInfo) -> Filters:
    """The filters of the send due at ``due``: the period before it, the schedule's codes."""
    days = covered(Period(row.period), due, zone)
    return Filters(days.date_from, days.date_to, row.office, row.corridor)


def record_sent(
    unit: Unit, sent: ReportScheduleRow, filters: Filters, *, sent_at: datetime, zone: ZoneInfo
) -> None:
    """Record the send of ``sent`` (the schedule as it was sent) and set the next one. A
    schedule removed meanwhile is still recorded as sent: the mail has gone."""
    stored = unit.session.get(ReportScheduleRow, sent.id)
    if stored is not None:
        stored.last_sent_at = sent_at
        stored.last_error = None
        stored.next_send_at = next_send(Period(stored.period), sent_at, zone)
    unit.emit(
        ReportSent(
            actor="system:report-mail",
            schedule_id=sent.id,
            report=sent.report,
            format=sent.format,
            date_from=filters.date_from.isoformat(),
            date_to=filters.date_to.isoformat(),
            office=filters.office,
            corridor=filters.corridor,
            recipients=tuple(sent.recipients),
        )
    )


def record_failure(session: Session, schedule_id: int, error: str) -> None:
    """Keep the error for the page; the claim already put the next try :data:`RETRY_AFTER`
    later, and that try covers the period before it, as the failed one would have."""
    row = session.get(ReportScheduleRow, schedule_id)
    if row is not None:
        row.last_error = error[:300]
