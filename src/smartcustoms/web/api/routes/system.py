"""Health, identity and system status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi import status as status_codes
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.context import AppContext
from smartcustoms.core.password_change import change_own_password
from smartcustoms.core.roles import Role
from smartcustoms.ledger.service import Ledger
from smartcustoms.web.api.schemas import MePublic, StrictBody
from smartcustoms.web.auth import open_while_password_must_change
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.policy import ANY_ROLE, CurrentPrincipal, requires
from smartcustoms.web.status import SystemHealth, SystemStatus, system_status

router = APIRouter()


@router.get("/health", tags=["system"], summary="Liveness and database reachability")
def health(ctx: ContextDep) -> dict[str, str]:
    """Public: for load balancers and monitors. Says nothing about users or data.

    ``{"status": "ok"}``; or, still 200 (the instance serves and stores), ``{"status":
    "degraded", "ledger": "signing_held", "reason": …}`` while the ledger signs no checkpoint
    because its database is behind what it published (`smartcustoms ledger status` says more).
    """
    try:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        from smartcustoms.core.errors import ServiceUnavailable

        raise ServiceUnavailable("database unreachable") from None
    hold = _signing_hold(ctx)
    if hold is not None:
        return {"status": "degraded", "ledger": "signing_held", "reason": hold}
    return {"status": "ok"}


def _signing_hold(ctx: AppContext) -> str | None:
    """The code of the ledger's hold on signing, if it has one."""
    ledger = ctx.services.get("ledger")
    if not isinstance(ledger, Ledger):
        return None
    try:
        hold = ledger.guard.current(ctx.db)
    except Exception:  # health must answer; the ledger's own log says what failed
        return None
    return None if hold is None else hold.code


@router.get("/api/me", tags=["system"], summary="Who am I")
@requires(ANY_ROLE)
@open_while_password_must_change
def me(principal: CurrentPrincipal) -> MePublic:
    return MePublic(
        username=principal.username,
        display_name=principal.display_name,
        roles=sorted(principal.roles),
        via=principal.via,
        language=principal.language,
    )


@router.get(
    "/api/system/status", tags=["system"], summary="Version, database; counts for administrators"
)
@requires(ANY_ROLE)
def status(ctx: ContextDep, principal: CurrentPrincipal) -> SystemHealth | SystemStatus:
    """Health for every role; the account counts (``accounts``) for administrators only."""
    if principal.has_any(frozenset({Role.ADMINISTRATOR})):
        return system_status(ctx, accounts=True)
    return SystemHealth.model_validate(system_status(ctx).model_dump(exclude={"accounts"}))


class PasswordChange(StrictBody):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


@router.post(
    "/api/me/password",
    tags=["system"],
    summary="Change your own password",
    status_code=status_codes.HTTP_204_NO_CONTENT,
    response_class=Response,
)
@requires(ANY_ROLE)
@open_while_password_must_change
def change_my_password(body: PasswordChange, unit: UnitDep, principal: CurrentPrincipal) -> None:
    """Required after an administrator's reset (every other call answers 403
    ``password_change_required`` until then). Every web session of the user ends."""
    change_own_password(unit, principal.user_id, body.current_password, body.new_password)


@router.get("/metrics", tags=["system"], summary="Prometheus metrics", response_class=Response)
@requires(Role.ADMINISTRATOR, Role.AUDITOR)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
