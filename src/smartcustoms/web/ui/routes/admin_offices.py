"""The customs offices page, for administrators: each office's name, UN/LOCODE, time zone and
capacity for physical examinations a day; add one or change one (the form keeps what was typed
when a field is refused, and names it)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.roles import Role
from smartcustoms.reference.offices import OfficeInput, list_offices, save_office
from smartcustoms.reference.unlocode import location
from smartcustoms.web.auth import context
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import render
from smartcustoms.web.ui.routes.admin_forms import FormError, form_error

router = APIRouter(prefix="/admin/offices", include_in_schema=False)

_EMPTY = {"code": "", "name": "", "time_zone": "", "examination_capacity": ""}


def _page(
    request: Request,
    *,
    form: dict[str, Any] | None = None,
    error: FormError | None = None,
    saved: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with context(request).db.read_session() as session:
        offices = [
            {
                "code": o.code,
                "name": o.name,
                "time_zone": o.time_zone,
                "examination_capacity": o.examination_capacity,
                "point": (p.name if (p := location(o.code)) else ""),
                "changed_at": o.changed_at.isoformat(timespec="minutes"),
                "changed_by": o.changed_by,
            }
            for o in list_offices(session)
        ]
    return render(
        request,
        "admin_offices.html",
        status_code=status_code,
        offices=offices,
        form=form or dict(_EMPTY),
        error=error,
        saved=saved,
        time_zones=_time_zones(),
    )


@cache
def _time_zones() -> list[str]:
    """The IANA names offered while typing (the field takes any the tz database knows)."""
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


@router.get("", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
def offices_page(
    request: Request,
    code: Annotated[str | None, Query(max_length=6)] = None,
    saved: Annotated[str | None, Query(pattern="^[A-Z0-9]{5}$")] = None,
) -> HTMLResponse:
    form = None
    if code:  # "change": the form filled with the stored office
        with context(request).db.read_session() as session:
            for office in list_offices(session):
                if office.code == code.upper():
                    form = {
                        "code": office.code,
                        "name": office.name,
                        "time_zone": office.time_zone,
                        "examination_capacity": str(office.examination_capacity),
                    }
    return _page(request, form=form, saved=saved)


@router.post("")
@requires(Role.ADMINISTRATOR)
def save(
    request: Request,
    principal: CurrentPrincipal,
    code: Annotated[str, Form(max_length=16)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    time_zone: Annotated[str, Form(max_length=100)] = "",
    examination_capacity: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = {
        "code": code,
        "name": name,
        "time_zone": time_zone,
        "examination_capacity": examination_capacity,
    }
    try:
        with context(request).unit() as unit:
            row = save_office(
                unit,
                OfficeInput(
                    code=code,
                    name=name,
                    time_zone=time_zone,
                    examination_capacity=examination_capacity,
                ),
                actor=principal.username,
            )
            saved = row.code
    except SmartCustomsError as exc:
        return _page(
            request, form=form, error=form_error(request, exc), status_code=exc.status_code
        )
    return RedirectResponse(f"/admin/offices?saved={saved}", status_code=303)
