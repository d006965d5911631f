"""The webhooks page, for administrators: subscriptions (create, with the secret shown once;
delete), and the latest deliveries with their state, to see and replay them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.roles import Role
from smartcustoms.core.unit import Unit
from smartcustoms.interop.webhooks import subscriptions as service
from smartcustoms.interop.webhooks.catalogue import EVENT_TYPES
from smartcustoms.interop.webhooks.service import webhooks_of
from smartcustoms.web.auth import context
from smartcustoms.web.params import INT64_MAX, RowId, RowIdQuery
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import render

router = APIRouter(prefix="/webhooks", include_in_schema=False)

DeliveryId = Annotated[int, Path(ge=1, le=INT64_MAX)]
StatusQuery = Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")]


def _page(
    request: Request,
    *,
    subscription: int | None = None,
    status: str | None = None,
    new_secret: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = context(request)
    with ctx.db.read_session() as session:
        subscriptions = service.list_subscriptions(session)
        counts = service.status_counts(session)
        deliveries = service.list_deliveries(
            session, subscription_id=subscription, status=status, limit=100
        )
        session.expunge_all()  # rendered after the read ends (and rolls back)
    return render(
        request,
        "webhooks.html",
        status_code=status_code,
        subscriptions=[(s, service.event_types_of(s)) for s in subscriptions],
        counts=counts,
        deliveries=deliveries,
        event_types=list(EVENT_TYPES.values()),
        chosen_subscription=subscription,
        chosen_status=status,
        new_secret=new_secret,
        error=error,
    )


@router.get("", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
def webhooks_page(
    request: Request, subscription: RowIdQuery = None, status: StatusQuery = None
) -> HTMLResponse:
    return _page(request, subscription=subscription, status=status)


@router.post("", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
def create(
    request: Request,
    principal: CurrentPrincipal,
    url: Annotated[str, Form(max_length=2048)],
    description: Annotated[str, Form(max_length=255)] = "",
    event_types: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    ctx = context(request)
    try:
        with ctx.unit() as unit:
            new = service.create_subscription(
                unit,
                webhooks_of(ctx).sealer,
                url=url,
                event_types=event_types or [],
                description=description,
                actor=principal.username,
            )
    except SmartCustomsError as exc:
        return _page(request, error=exc.message, status_code=exc.status_code)
    return _page(request, new_secret=new.secret)


def _act(request: Request, action: Callable[[Unit], object]) -> Response:
    try:
        with context(request).unit() as unit:
            action(unit)
    except SmartCustomsError as exc:
        return _page(request, error=exc.message, status_code=exc.status_code)
    return RedirectResponse("/webhooks", status_code=303)


@router.post("/{subscription_id}/delete")
@requires(Role.ADMINISTRATOR)
def delete(request: Request, subscription_id: RowId, principal: CurrentPrincipal) -> Response:
    return _act(
        request,
        lambda unit: service.delete_subscription(unit, subscription_id, actor=principal.username),
    )


@router.post("/{subscription_id}/replay-dead")
@requires(Role.ADMINISTRATOR)
def replay_dead(request: Request, subscription_id: RowId, principal: CurrentPrincipal) -> Response:
    return _act(
        request,
        lambda unit: service.replay_dead(unit, subscription_id, actor=principal.username),
    )


@router.post("/deliveries/{delivery_id}/replay")
@requires(Role.ADMINISTRATOR)
def replay(request: Request, delivery_id: DeliveryId, principal: CurrentPrincipal) -> Response:
    return _act(
        request,
        lambda unit: service.replay_delivery(unit, delivery_id, actor=principal.username),
    )
