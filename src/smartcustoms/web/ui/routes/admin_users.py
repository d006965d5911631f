"""User administration pages: add users, change roles, disable and enable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartcustoms.core import users as user_service
from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.roles import Role
from smartcustoms.web.auth import context
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import render

router = APIRouter(prefix="/admin/users", include_in_schema=False)


def _page(request: Request, *, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    with context(request).db.session() as session:
        users = list(user_service.list_users(session))
    return render(
        request,
        "admin_users.html",
        status_code=status_code,
        users=users,
        all_roles=list(Role),
        error=error,
    )


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
        return _page(request, error=exc.message, status_code=exc.status_code)
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
        return _page(request, error=exc.message, status_code=exc.status_code)
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
        return _page(request, error=exc.message, status_code=exc.status_code)
    return RedirectResponse("/admin/users", status_code=303)
