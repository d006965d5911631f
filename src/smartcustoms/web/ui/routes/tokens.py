"""The user's own API tokens: create one (shown once) and revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartcustoms.core import tokens as token_service
from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.tables import User
from smartcustoms.web.auth import context
from smartcustoms.web.policy import ANY_ROLE, CurrentPrincipal, requires
from smartcustoms.web.ui.render import render

router = APIRouter(prefix="/tokens", include_in_schema=False)


def _page(
    request: Request,
    principal_id: int,
    *,
    new_token: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = context(request)
    with ctx.db.session() as session:
        tokens = list(token_service.list_tokens(session, principal_id))
    return render(
        request,
        "tokens.html",
        status_code=status_code,
        tokens=tokens,
        new_token=new_token,
        error=error,
        default_days=ctx.settings.token_default_days,
        max_days=ctx.settings.token_max_days,
    )


@router.get("", response_class=HTMLResponse)
@requires(ANY_ROLE)
def tokens_page(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    return _page(request, principal.user_id)


@router.post("", response_class=HTMLResponse)
@requires(ANY_ROLE)
def create(
    request: Request,
    principal: CurrentPrincipal,
    name: Annotated[str, Form(max_length=120)],
    days: Annotated[int, Form(ge=1, le=3650)],
) -> HTMLResponse:
    ctx = context(request)
    try:
        with ctx.unit() as unit:
            user = unit.session.get(User, principal.user_id)
            assert user is not None
            new = token_service.create_token(
                unit,
                user,
                name=name,
                days=days,
                max_days=ctx.settings.token_max_days,
                actor=principal.username,
            )
    except SmartCustomsError as exc:
        return _page(request, principal.user_id, error=exc.message, status_code=exc.status_code)
    return _page(request, principal.user_id, new_token=new.secret)


@router.post("/{token_id}/revoke")
@requires(ANY_ROLE)
def revoke(request: Request, token_id: str, principal: CurrentPrincipal) -> Response:
    with context(request).unit() as unit:
        token_service.revoke_token(
            unit, token_id, actor=principal.username, owner_id=principal.user_id
        )
    return RedirectResponse("/tokens", status_code=303)
