"""The report schedules page, for the roles the API admits (administrators and supervisors):
the reports e-mailed weekly or monthly, each with its last and next send; schedule one (only a
report the user's roles read), edit one (``?edit=<id>`` opens its form, filled with what it
holds), pause, resume or remove one. The same calls as ``/api/reports/schedules``, so the same
checks and the same ledger records; a refused field is named in a sentence and the form keeps
what was typed."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.i18n import N_
from smartcustoms.core.principal import Principal
from smartcustoms.core.unit import Unit
from smartcustoms.reports import REPORTS
from smartcustoms.reports.schedules import (
    FORMATS,
    MAX_RECIPIENTS,
    ScheduleInput,
    list_schedules,
    pause_schedule,
    remove_schedule,
    resume_schedule,
)
from smartcustoms.tracking.tables import CorridorRow
from smartcustoms.web.api.routes.report_schedules import (
    SCHEDULERS,
    edit_schedule,
    save_schedule,
    stored_input,
)
from smartcustoms.web.auth import context
from smartcustoms.web.i18n import LANGUAGES, translations
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import language_of, render
from smartcustoms.web.ui.routes.admin_forms import FormError, form_error

__all__ = ["router"]

router = APIRouter(prefix="/reports/schedules", include_in_schema=False)

PERIODS = (("weekly", N_("Weekly, on Monday")), ("monthly", N_("Monthly, on the 1st")))
#: Addresses are typed one per line; commas and semicolons separate them too (as pasted from
#: a mail client). Not blanks: "not an address" is refused whole, as it was typed.
_SEPARATORS = re.compile(r"[\r\n,;]+")

# (error code, field) → the sentence shown; %(name)s placeholders come from the error's details.
_MESSAGES: Mapping[tuple[str, str], str] = {
    ("validation_failed", "report"): N_("Report: choose one of the reports listed."),
    ("forbidden", "report"): N_("Report: your roles do not read this report."),
    ("validation_failed", "format"): N_("Format: CSV, XLSX or PDF."),
    ("validation_failed", "period"): N_("Period: weekly or monthly."),
    ("validation_failed", "language"): N_("Language: English, French or Arabic."),
    ("validation_failed", "recipients"): N_(
        "Recipients: 1 to %(max)s e-mail addresses, one per line."
    ),
    ("validation_failed", "recipients[]"): N_(
        "Recipients: “%(found)s” is not an e-mail address such as officer@customs.example."
    ),
    ("validation_failed", "office"): N_(
        "Office: a code of 1 to 32 letters, digits, '-' or '_', or nothing for every office."
    ),
    ("validation_failed", "corridor"): N_(
        "Corridor: a code of 1 to 32 letters, digits, '-' or '_', or every corridor."
    ),
    ("not_found", "schedule_id"): N_("This schedule no longer exists: someone removed it."),
    ("forbidden", "schedule_id"): N_(
        "Your roles do not read the report this schedule sends: you may pause or remove it, "
        "not change it."
    ),
}
_EMPTY = {
    "report": "",
    "format": "pdf",
    "period": "weekly",
    "language": "",
    "office": "",
    "corridor": "",
    "recipients": "",
}


def _error(request: Request, error: SmartCustomsError) -> FormError:
    """The refusal as a sentence naming the field (the generic one for a field not above)."""
    field = next(
        (d["field"] for d in error.details if isinstance(d.get("field"), str)),
        "",
    )
    base = field.split("[", 1)[0]
    key = f"{base}[]" if "[" in field else base
    message = _MESSAGES.get((error.code, key))
    if message is None:
        return form_error(request, error)
    found = next((str(d["found"]) for d in error.details if "found" in d), "")
    text = translations(language_of(request)).gettext(message)
    if "%(" in text:
        text = text % {"max": MAX_RECIPIENTS, "found": found}
    return FormError(field=base, text=text, code=error.code)


def _readable(principal: Principal) -> list[Any]:
    """The reports this user may schedule: those their roles read."""
    return [k for k in REPORTS.values() if principal.has_any(k.roles)]


def _page(
    request: Request,
    principal: Principal,
    *,
    form: dict[str, str] | None = None,
    error: FormError | None = None,
    done: str | None = None,
    editing: int | None = None,
    edit_form: dict[str, str] | None = None,
    edit_error: FormError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page; with ``editing``, the form that changes that schedule, filled with
    ``edit_form`` and marked by ``edit_error`` (the form below creates another one)."""
    with context(request).db.read_session() as session:
        schedules = list(list_schedules(session))
        corridors = list(session.scalars(select(CorridorRow.code).order_by(CorridorRow.code)))
        session.expunge_all()  # rendered after the read ends (and rolls back)
    return render(
        request,
        "reports_schedules.html",
        status_code=status_code,
        schedules=schedules,
        kinds=REPORTS,
        readable=_readable(principal),
        readable_names={k.name for k in _readable(principal)},
        formats=FORMATS,
        periods=PERIODS,
        languages=LANGUAGES,  # each in its own language, as the language switch shows them
        corridors=corridors,
        form=form or {**_EMPTY, "language": language_of(request)},
        error=error,
        done=done,
        editing=editing,
        edit_form=edit_form,
        edit_error=edit_error,
        max_recipients=MAX_RECIPIENTS,
    )


@router.get("", response_class=HTMLResponse)
@requires(*SCHEDULERS)
def schedules_page(
    request: Request,
    principal: CurrentPrincipal,
    done: Annotated[str | None, Query(pattern="^(saved|updated|paused|resumed|removed)$")] = None,
    edit: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    if edit is None:
        return _page(request, principal, done=done)
    try:
        with context(request).unit() as unit:
            held = stored_input(unit, principal, edit)
    except SmartCustomsError as exc:
        return _page(
            request, principal, edit_error=_error(request, exc), status_code=exc.status_code
        )
    form = {
        "report": held.report,
        "format": held.format,
        "period": held.period,
        "language": held.language,
        "office": held.office or "",
        "corridor": held.corridor or "",
        "recipients": "\n".join(held.recipients),
    }
    return _page(request, principal, done=done, editing=edit, edit_form=form)


class ScheduleForm(BaseModel):
    """The schedule form's fields, as typed (each bounded: a form is no place for a megabyte);
    the same for creating and editing."""

    report: str = Field("", max_length=64)
    format: str = Field("", max_length=16)
    period: str = Field("", max_length=16)
    language: str = Field("", max_length=8)
    office: str = Field("", max_length=64)
    corridor: str = Field("", max_length=64)
    recipients: str = Field("", max_length=8000)

    def typed(self) -> ScheduleInput:
        return ScheduleInput(
            report=self.report,
            format=self.format,
            period=self.period,
            recipients=[r.strip() for r in _SEPARATORS.split(self.recipients) if r.strip()],
            language=self.language,
            office=self.office or None,
            corridor=self.corridor or None,
        )


ScheduleFormData = Annotated[ScheduleForm, Form()]


@router.post("", response_class=HTMLResponse)
@requires(*SCHEDULERS)
def create(request: Request, principal: CurrentPrincipal, form: ScheduleFormData) -> Response:
    ctx = context(request)
    try:
        with ctx.unit() as unit:
            save_schedule(unit, principal, ctx, form.typed())
    except SmartCustomsError as exc:
        return _page(
            request,
            principal,
            form=form.model_dump(),
            error=_error(request, exc),
            status_code=exc.status_code,
        )
    return RedirectResponse("/reports/schedules?done=saved", status_code=303)


@router.post("/{schedule_id}/edit", response_class=HTMLResponse)
@requires(*SCHEDULERS)
def edit(
    request: Request, schedule_id: RowId, principal: CurrentPrincipal, form: ScheduleFormData
) -> Response:
    """Change a schedule: every field as the form sends it, checked as when creating; refused,
    nothing is changed and the form comes back with what was typed."""
    ctx = context(request)
    try:
        with ctx.unit() as unit:
            edit_schedule(unit, principal, ctx, schedule_id, form.typed())
    except SmartCustomsError as exc:
        return _page(
            request,
            principal,
            editing=schedule_id,
            edit_form=form.model_dump(),
            edit_error=_error(request, exc),
            status_code=exc.status_code,
        )
    return RedirectResponse("/reports/schedules?done=updated", status_code=303)


def _act(
    request: Request, principal: Principal, done: str, action: Callable[[Unit], object]
) -> Response:
    try:
        with context(request).unit() as unit:
            action(unit)
    except SmartCustomsError as exc:
        return _page(request, principal, error=_error(request, exc), status_code=exc.status_code)
    return RedirectResponse(f"/reports/schedules?done={done}", status_code=303)


@router.post("/{schedule_id}/pause")
@requires(*SCHEDULERS)
def pause(request: Request, schedule_id: RowId, principal: CurrentPrincipal) -> Response:
    return _act(
        request,
        principal,
        "paused",
        lambda unit: pause_schedule(unit, schedule_id, actor=principal.username),
    )


@router.post("/{schedule_id}/resume")
@requires(*SCHEDULERS)
def resume(request: Request, schedule_id: RowId, principal: CurrentPrincipal) -> Response:
    zone = ZoneInfo(context(request).settings.time_zone)
    return _act(
        request,
        principal,
        "resumed",
        lambda unit: resume_schedule(unit, schedule_id, actor=principal.username, zone=zone),
    )


@router.post("/{schedule_id}/delete")
@requires(*SCHEDULERS)
def delete(request: Request, schedule_id: RowId, principal: CurrentPrincipal) -> Response:
    return _act(
        request,
        principal,
        "removed",
        lambda unit: remove_schedule(unit, schedule_id, actor=principal.username),
    )
