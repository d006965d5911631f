"""Scheduled report e-mails, for administrators and supervisors: ``/api/reports/schedules``.

A schedule names a report, its filters (office, corridor), a format (csv, xlsx, pdf), the
recipients and weekly or monthly; :mod:`smartcustoms.interop.notify.report_mail` sends it. A
user schedules only reports their own roles may read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Forbidden
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
)
from smartcustoms.web.api.schemas import StrictBody
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.i18n import LANGUAGES
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires

__all__ = ["SCHEDULERS", "router", "save_schedule"]

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


@router.get("", summary="Scheduled report e-mails")
@requires(*SCHEDULERS)
def schedules(unit: UnitDep) -> list[SchedulePublic]:
    return [public(r) for r in list_schedules(unit.session)]


def save_schedule(
    unit: Unit,
    principal: Principal,
    ctx: AppContext,
    data: ScheduleInput,
) -> ReportScheduleRow:
    """Store ``data`` for ``principal``: only a report their roles read, each recipient an
    address (named ``recipients[i]`` when refused); the use case checks the rest."""
    if data.report in REPORTS and not principal.has_any(report_kind(data.report).roles):
        raise Forbidden(
            f"your roles do not read the {data.report} report",
            details=[{"field": "report", "problem": "not readable by your roles"}],
        )
    recipients: Sequence[str] = [
        parse_email(r, f"recipients[{i}]") for i, r in enumerate(data.recipients)
    ]
    return create_schedule(
        unit,
        ScheduleInput(
            report=data.report,
            format=data.format,
            period=data.period,
            recipients=recipients,
            language=data.language,
            office=data.office,
            corridor=data.corridor,
        ),
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
