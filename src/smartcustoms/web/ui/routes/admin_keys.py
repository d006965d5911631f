"""The keys page, for administrators: the ledger's signing keys (current and retired), the
witnesses asked to cosign its checkpoints and whether the latest met the quorum, this
instance's own witness key and the partner logs it witnesses; and the key rotation, as
``smartcustoms ledger rotate-key`` does it (the old key kept as retired, an ``admin.action``
record), with what the runbook says to do next."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.ledger.errors import PRODUCT_ERRORS
from smartcustoms.web.api.routes.admin import RotationPublic, keys_status, rotate_key
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import render
from smartcustoms.web.ui.routes.admin_forms import form_error

router = APIRouter(prefix="/admin/keys", include_in_schema=False)


def _page(
    request: Request,
    *,
    rotated: RotationPublic | None = None,
    error: object = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin_keys.html",
        status_code=status_code,
        keys=keys_status(request),
        rotated=rotated,
        error=error,
    )


@router.get("", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
async def keys_page(request: Request) -> HTMLResponse:
    return await run_in_threadpool(_page, request)


@router.post("/rotate", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
async def rotate(
    request: Request,
    principal: CurrentPrincipal,
    confirm: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    if not confirm:
        error = ValidationFailed(
            "confirm: tick the box to rotate the key", details=[{"field": "confirm"}]
        )
        return await run_in_threadpool(
            lambda: _page(request, error=form_error(request, error), status_code=422)
        )
    try:
        rotated = await run_in_threadpool(rotate_key, request, principal.username)
    except PRODUCT_ERRORS as exc:
        problem = form_error(request, exc)
        status = exc.status_code
        return await run_in_threadpool(lambda: _page(request, error=problem, status_code=status))
    return await run_in_threadpool(lambda: _page(request, rotated=rotated))
