"""Scheduled report e-mails, for administrators and supervisors: ``/api/reports/schedules``.

A schedule names a report, its filters (office, corridor), a format (csv, xlsx, pdf), the
recipients and weekly or monthly; :mod:`smartcustoms.interop.notify.report_mail` sends it. A
user schedules only reports their own roles may read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from smartcustoms.core.errors import Forbidden
from smartcustoms.core.roles import Role
from smartcustoms.interop.notify.contacts import parse_email
from smartcustoms.reports import REPORTS, report_kind
from smartcustoms.reports.schedules import (
    ReportScheduleRow,
    ScheduleInput,
    create_schedule,
    list_schedules,
    remove_schedule,
)
from smartcustoms.web.api.schemas import StrictBody
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.i18n import LANGUAGES
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires

__all__ = ["SCHEDULERS", "router"]

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


def public(row: ReportScheduleRow) -> SchedulePublic:
    return SchedulePublic.model_validate(row, from_attributes=True)


@router.get("", summary="Scheduled report e-mails")
@requires(*SCHEDULERS)
def schedules(unit: UnitDep) -> list[SchedulePublic]:
    return [public(r) for r in list_schedules(unit.session)]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Schedule a report e-mail")
@requires(*SCHEDULERS)
def schedule(
    body: ScheduleCreate, unit: UnitDep, principal: CurrentPrincipal, ctx: ContextDep
) -> SchedulePublic:
    if body.report in REPORTS and not principal.has_any(report_kind(body.report).roles):
        raise Forbidden(
            f"your roles do not read the {body.report} report",
            details=[{"field": "report", "problem": "not readable by your roles"}],
        )
    recipients = [parse_email(r, f"recipients[{i}]") for i, r in enumerate(body.recipients)]
    row = create_schedule(
        unit,
        ScheduleInput(
            report=body.report,
            format=body.format,
            period=body.period,
            recipients=recipients,
            language=body.language,
            office=body.office,
            corridor=body.corridor,
        ),
        actor=principal.username,
        reports=list(REPORTS),
        languages=list(LANGUAGES),
        zone=ZoneInfo(ctx.settings.time_zone),
    )
    return public(row)


@router.delete(
    "/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Stop a scheduled report e-mail",
)
@requires(*SCHEDULERS)
def unschedule(schedule_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> None:
    remove_schedule(unit, schedule_id, actor=principal.username)
