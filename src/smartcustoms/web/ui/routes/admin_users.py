"""User administration pages: add users, change roles, disable and enable, set a temporary
password (every session of the user ends; the user must choose their own at next login), and
bind declarants to the trader identities (declarant IDs) they act for. Each change is an
``admin.*`` ledger record; a refused form is shown again with what was typed (passwords
excepted) and the field named."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from smartcustoms.core import password_change
from smartcustoms.core import traders as trader_service
from smartcustoms.core import users as user_service
from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.passwords import MIN_PASSWORD_LENGTH
from smartcustoms.core.roles import Role
from smartcustoms.core.tables import UserTrader
from smartcustoms.web.auth import context
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import render
from smartcustoms.web.ui.routes.admin_forms import FormError, form_error

router = APIRouter(prefix="/admin/users", include_in_schema=False)

_EMPTY_FORM: dict[str, Any] = {"username": "", "display_name": "", "roles": []}


def _page(
    request: Request,
    *,
    error: str | None = None,
    form_problem: FormError | None = None,
    row_error: tuple[str, FormError] | None = None,
    form: dict[str, Any] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with context(request).db.session() as session:
        users = list(user_service.list_users(session))
        bound: dict[int, list[str]] = {}
        for user_id, declarant_id in session.execute(
            select(UserTrader.user_id, UserTrader.declarant_id).order_by(UserTrader.declarant_id)
        ):
            bound.setdefault(user_id, []).append(declarant_id)
    return render(
        request,
        "admin_users.html",
        status_code=status_code,
        users=users,
        traders=bound,
        all_roles=list(Role),
        error=error,
        form_problem=form_problem,
        row_error=row_error,
        form=form or dict(_EMPTY_FORM),
        done=done,
        min_password=MIN_PASSWORD_LENGTH,
    )


def _row_refused(request: Request, username: str, exc: SmartCustomsError) -> HTMLResponse:
    problem = form_error(request, exc, min=MIN_PASSWORD_LENGTH)
    return _page(request, row_error=(username, problem), status_code=exc.status_code)


@router.get("", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
def users_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("")
@requires(Role.ADMINISTRATOR)
def add_user(
    request: Request,
    principal: CurrentPrincipal,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    display_name: Annotated[str, Form(max_length=120)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    form = {"username": username, "display_name": display_name, "roles": roles or []}
    try:
        with context(request).unit() as unit:
            user_service.create_user(
                unit,
                username=username,
                password=password,
                roles=user_service.parse_roles(roles or []),
                display_name=display_name or None,
                actor=principal.username,
            )
    except SmartCustomsError as exc:
        return _page(
            request,
            form_problem=form_error(request, exc, min=MIN_PASSWORD_LENGTH),
            form=form,
            status_code=exc.status_code,
        )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/{username}/roles")
@requires(Role.ADMINISTRATOR)
def change_roles(
    request: Request,
    username: str,
    principal: CurrentPrincipal,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    try:
        with context(request).unit() as unit:
            user_service.set_roles(
                unit, username, user_service.parse_roles(roles or []), actor=principal.username
            )
    except SmartCustomsError as exc:
        return _row_refused(request, username, exc)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/{username}/disabled")
@requires(Role.ADMINISTRATOR)
def set_disabled(
    request: Request,
    username: str,
    principal: CurrentPrincipal,
    disabled: Annotated[bool, Form()],
) -> Response:
    try:
        with context(request).unit() as unit:
            user_service.set_disabled(unit, username, disabled, actor=principal.username)
    except SmartCustomsError as exc:
        return _row_refused(request, username, exc)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/{username}/password")
@requires(Role.ADMINISTRATOR)
def reset_password(
    request: Request,
    username: str,
    principal: CurrentPrincipal,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Set a temporary password the administrator hands over: every session of the user ends
    and the user must choose their own at next login (``admin.password_reset``)."""
    try:
        with context(request).unit() as unit:
            user = password_change.reset_password(
                unit, username, password, actor=principal.username
            )
            name = user.username
    except SmartCustomsError as exc:
        return _row_refused(request, username, exc)
    return _page(request, done=name)


@router.post("/{username}/traders")
@requires(Role.ADMINISTRATOR)
def grant(
    request: Request,
    username: str,
    principal: CurrentPrincipal,
    declarant_ids: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Bind the user to the declarant IDs typed (blank- or comma-separated)."""
    wanted = [d for d in declarant_ids.replace(",", " ").split() if d]
    try:
        with context(request).unit() as unit:
            trader_service.grant_traders(unit, username, wanted or [""], actor=principal.username)
    except SmartCustomsError as exc:
        return _row_refused(request, username, exc)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/{username}/traders/revoke")
@requires(Role.ADMINISTRATOR)
def revoke(
    request: Request,
    username: str,
    principal: CurrentPrincipal,
    declarant_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    try:
        with context(request).unit() as unit:
            trader_service.revoke_traders(unit, username, [declarant_id], actor=principal.username)
    except SmartCustomsError as exc:
        return _row_refused(request, username, exc)
    return RedirectResponse("/admin/users", status_code=303)
