"""Scheduled report e-mails, for administrators and supervisors: ``/api/reports/schedules``.

A schedule names a report, its filters (office, corridor), a format (csv, xlsx, pdf), the
recipients and weekly or monthly; :mod:`smartcustoms.interop.notify.report_mail` sends it. A
user schedules only reports their own roles may read, and edits only a schedule of such a
report (``PUT`` replaces every field, ``PATCH`` the fields given): otherwise an administrator
could send themselves a report only supervisors read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace as replace_fields
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Forbidden, NotFound, ValidationFailed
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import Role
from smartcustoms.core.unit import Unit
from smartcustoms.interop.notify.contacts import parse_email
from smartcustoms.reports import REPORTS, report_kind
from smartcustoms.reports.schedules import (
    ReportScheduleRow,
    ScheduleInput,
    create_schedule,
    list_schedules,
    pause_schedule,
    remove_schedule,
    resume_schedule,
    update_schedule,
)
from smartcustoms.web.api.schemas import StrictBody
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.i18n import LANGUAGES
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires

__all__ = ["SCHEDULERS", "edit_schedule", "router", "save_schedule", "stored_input"]

router = APIRouter(prefix="/api/reports/schedules", tags=["reports"])

#: Who may schedule reports (each only the reports their roles may read).
SCHEDULERS = (Role.ADMINISTRATOR, Role.SUPERVISOR)


class ScheduleCreate(StrictBody):
    report: str = Field(max_length=32, description="transits, alerts, selectivity or scans")
    format: Literal["csv", "xlsx", "pdf"]
    period: Literal["weekly", "monthly"]
    recipients: list[Annotated[str, Field(max_length=254)]] = Field(max_length=20)
    language: Literal["en", "fr", "ar"] = "en"
    office: str | None = Field(None, max_length=32)
    corridor: str | None = Field(None, max_length=32)


class ScheduleChange(StrictBody):
    """The fields to change; those left out keep their value. ``office`` or ``corridor`` given
    as null means every office or every corridor."""

    report: str | None = Field(None, max_length=32)
    format: Literal["csv", "xlsx", "pdf"] | None = None
    period: Literal["weekly", "monthly"] | None = None
    recipients: list[Annotated[str, Field(max_length=254)]] | None = Field(None, max_length=20)
    language: Literal["en", "fr", "ar"] | None = None
    office: str | None = Field(None, max_length=32)
    corridor: str | None = Field(None, max_length=32)


class SchedulePublic(BaseModel):
    id: int
    report: str
    format: str
    period: str
    office: str | None
    corridor: str | None
    language: str
    recipients: list[str]
    created_by: str
    created_at: datetime
    next_send_at: datetime
    last_sent_at: datetime | None
    last_error: str | None
    paused_at: datetime | None


def public(row: ReportScheduleRow) -> SchedulePublic:
    return SchedulePublic.model_validate(row, from_attributes=True)


def stored_input(unit: Unit, principal: Principal, schedule_id: int) -> ScheduleInput:
    """What schedule ``schedule_id`` holds now, as an edit starts from it; refused when
    ``principal``'s roles do not read the report it sends (they may pause or remove it, not
    redirect it)."""
    row = unit.session.get(ReportScheduleRow, schedule_id)
    if row is None:
        raise NotFound(f"no report schedule {schedule_id}", details=[{"field": "schedule_id"}])
    if row.report in REPORTS and not principal.has_any(report_kind(row.report).roles):
        raise Forbidden(
            f"your roles do not read the {row.report} report this schedule sends",
            details=[{"field": "schedule_id", "problem": "not readable by your roles"}],
        )
    return ScheduleInput(
        report=row.report,
        format=row.format,
        period=row.period,
        recipients=list(row.recipients),
        language=row.language,
        office=row.office,
        corridor=row.corridor,
    )


def edit_schedule(
    unit: Unit,
    principal: Principal,
    ctx: AppContext,
    schedule_id: int,
    data: ScheduleInput,
) -> ReportScheduleRow:
    """Replace schedule ``schedule_id`` with ``data``: the stored report and the new one must
    both be readable by ``principal``; the rest is checked as when saving."""
    stored_input(unit, principal, schedule_id)
    return update_schedule(
        unit,
        schedule_id,
        _readable_input(principal, data),
        actor=principal.username,
        reports=list(REPORTS),
        languages=list(LANGUAGES),
        zone=ZoneInfo(ctx.settings.time_zone),
    )


@router.get("", summary="Scheduled report e-mails")
@requires(*SCHEDULERS)
def schedules(unit: UnitDep) -> list[SchedulePublic]:
    return [public(r) for r in list_schedules(unit.session)]


def _readable_input(principal: Principal, data: ScheduleInput) -> ScheduleInput:
    """``data`` with each recipient read as an address (named ``recipients[i]`` when
    refused), refused if ``principal``'s roles do not read its report."""
    if data.report in REPORTS and not principal.has_any(report_kind(data.report).roles):
        raise Forbidden(
            f"your roles do not read the {data.report} report",
            details=[{"field": "report", "problem": "not readable by your roles"}],
        )
    recipients: Sequence[str] = [
        parse_email(r, f"recipients[{i}]") for i, r in enumerate(data.recipients)
    ]
    return ScheduleInput(
        report=data.report,
        format=data.format,
        period=data.period,
        recipients=recipients,
        language=data.language,
        office=data.office,
        corridor=data.corridor,
    )


def save_schedule(
    unit: Unit,
    principal: Principal,
    ctx: AppContext,
    data: ScheduleInput,
) -> ReportScheduleRow:
    """Store ``data`` for ``principal``: only a report their roles read, each recipient an
    address (named ``recipients[i]`` when refused); the use case checks the rest."""
    return create_schedule(
        unit,
        _readable_input(principal, data),
        actor=principal.username,
        reports=list(REPORTS),
        languages=list(LANGUAGES),
        zone=ZoneInfo(ctx.settings.time_zone),
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Schedule a report e-mail")
@requires(*SCHEDULERS)
def schedule(
    body: ScheduleCreate, unit: UnitDep, principal: CurrentPrincipal, ctx: ContextDep
) -> SchedulePublic:
    data = ScheduleInput(**body.model_dump())
    return public(save_schedule(unit, principal, ctx, data))


@router.put("/{schedule_id}", summary="Replace a scheduled report e-mail's every field")
@requires(*SCHEDULERS)
def replace(
    schedule_id: RowId,
    body: ScheduleCreate,
    unit: UnitDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> SchedulePublic:
    data = ScheduleInput(**body.model_dump())
    return public(edit_schedule(unit, principal, ctx, schedule_id, data))


@router.patch("/{schedule_id}", summary="Change some fields of a scheduled report e-mail")
@requires(*SCHEDULERS)
def change(
    schedule_id: RowId,
    body: ScheduleChange,
    unit: UnitDep,
    principal: CurrentPrincipal,
    ctx: ContextDep,
) -> SchedulePublic:
    # Only the fields the caller sent: a null office (every office) is not an office left out.
    given = body.model_dump(exclude_unset=True)
    for name in ("report", "format", "period", "recipients", "language"):
        if name in given and given[name] is None:
            raise ValidationFailed(
                f"{name}: may be left out, not null", details=[{"field": name, "found": None}]
            )
    data = replace_fields(stored_input(unit, principal, schedule_id), **given)
    return public(edit_schedule(unit, principal, ctx, schedule_id, data))


@router.post("/{schedule_id}/pause", summary="Pause a scheduled report e-mail")
@requires(*SCHEDULERS)
def pause(schedule_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> SchedulePublic:
    return public(pause_schedule(unit, schedule_id, actor=principal.username))


@router.post("/{schedule_id}/resume", summary="Resume a paused report e-mail")
@requires(*SCHEDULERS)
def resume(
    schedule_id: RowId, unit: UnitDep, principal: CurrentPrincipal, ctx: ContextDep
) -> SchedulePublic:
    zone = ZoneInfo(ctx.settings.time_zone)
    return public(resume_schedule(unit, schedule_id, actor=principal.username, zone=zone))


@router.delete(
    "/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Stop a scheduled report e-mail",
)
@requires(*SCHEDULERS)
def unschedule(schedule_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> None:
    remove_schedule(unit, schedule_id, actor=principal.username)
