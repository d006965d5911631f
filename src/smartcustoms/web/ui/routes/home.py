"""The home page: what each of the user's roles does here, and live system status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from smartcustoms.web.auth import context
from smartcustoms.web.policy import ANY_ROLE, CurrentPrincipal, requires
from smartcustoms.web.status import system_status
from smartcustoms.web.ui.render import render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
@requires(ANY_ROLE)
async def home(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    status = await run_in_threadpool(system_status, context(request))
    return render(request, "home.html", status=status, roles=sorted(principal.roles))


@router.get("/ui/status", response_class=HTMLResponse)
@requires(ANY_ROLE)
async def status_fragment(request: Request) -> HTMLResponse:
    """The status panel alone; the home page polls it with HTMX."""
    status = await run_in_threadpool(system_status, context(request))
    return render(request, "_status.html", status=status)
