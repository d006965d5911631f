"""Transit pages: the list, and one transit with its track replay, events and officers' steps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from smartcustoms.core.errors import Forbidden, NotFound, SmartCustomsError
from smartcustoms.federation.handover import accept as accept_handed_in
from smartcustoms.tracking import queries
from smartcustoms.tracking.tables import CorridorRow, TransitLiveRow, ZoneRow
from smartcustoms.tracking.transits import (
    arm_transit,
    cancel_transit,
    discharge_transit,
    get_transit,
    hand_over_transit,
)
from smartcustoms.web.auth import context
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.tracking_access import (
    HANDOVER,
    OFFICERS,
    TRANSIT_READERS,
    check_transit,
    readable_transits,
)
from smartcustoms.web.ui.render import render
from smartcustoms.web.ui.routes.command_centre import labels, script_labels

router = APIRouter(prefix="/tracking/transits", include_in_schema=False)

_ACTIONS = ("arm", "hand-over", "accept", "discharge", "cancel")
# What the replay needs of each alert to colour the truck by the alerts open at each moment.
_REPLAY_FIELDS = ("severity", "occurred_at", "raised_at", "resolved_at")


@router.get("", response_class=HTMLResponse)
@requires(TRANSIT_READERS)
def transits_page(
    request: Request,
    principal: CurrentPrincipal,
    status: Annotated[
        str, Query(pattern="^(active|all|created|armed|handed_over|discharged|cancelled)$")
    ] = "active",
) -> HTMLResponse:
    with context(request).db.session() as session:
        found = readable_transits(
            session, principal, status=None if status == "all" else status, limit=500
        )
    return render(request, "tracking_transits.html", transits=found, status=status, labels=labels())


def _transit_page(
    request: Request,
    principal: CurrentPrincipal,
    transit_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with context(request).db.session() as session:
        row = get_transit(session, transit_id)
        check_transit(session, principal, row)
        corridor = session.get(CorridorRow, row.corridor_id)
        live = session.get(TransitLiveRow, row.id)
        borders = list(
            session.scalars(
                select(ZoneRow.code).where(ZoneRow.kind == "border_post").order_by(ZoneRow.code)
            )
        )
        transit = queries.transit_public(row, corridor.code if corridor else None)
        # Federation: handed over to us by a partner (pending our acceptance until accepted),
        # or by us to a partner (its guarantee released when the partner discharged it).
        federation = {
            "handed_in_from": row.handed_in_from,
            "origin_reference": row.origin_reference,
            "accepted_at": row.accepted_at.isoformat() if row.accepted_at else None,
            "accepted_by": row.accepted_by,
            "pending": row.handed_in_from is not None and row.accepted_at is None,
            "guarantee_released_at": (
                row.guarantee_released_at.isoformat() if row.guarantee_released_at else None
            ),
        }
        timeline = queries.transit_timeline(session, row.id)
        alerts = queries.alerts(session, status="all", transit_id=row.id)
    return render(
        request,
        "tracking_transit.html",
        status_code=status_code,
        transit=transit,
        federation=federation,
        live=queries.live_public(live),
        timeline=timeline,
        alerts=alerts,
        replay_alerts=[{k: a[k] for k in _REPLAY_FIELDS} for a in alerts],
        borders=borders,
        labels=labels(),
        i18n=script_labels(request),
        is_officer=principal.has_any(OFFICERS),
        can_hand_over=principal.has_any(HANDOVER),
        error=error,
    )


@router.get("/{transit_id}", response_class=HTMLResponse)
@requires(TRANSIT_READERS)
def transit_page(request: Request, transit_id: RowId, principal: CurrentPrincipal) -> HTMLResponse:
    return _transit_page(request, principal, transit_id)


@router.post("/{transit_id}/{action}")
@requires(OFFICERS, HANDOVER)
def transit_action(
    request: Request,
    transit_id: RowId,
    action: str,
    principal: CurrentPrincipal,
    border: Annotated[str, Form(max_length=32)] = "",
    to_administration: Annotated[str, Form(max_length=120)] = "",
    seal_intact: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=500)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """An officer's step from the transit page: arm, hand over, accept (a partner's
    hand-over), discharge or cancel."""
    if action not in _ACTIONS:
        raise NotFound(f"no transit action {action!r}")
    allowed = HANDOVER if action == "hand-over" else OFFICERS
    if not principal.has_any(allowed):
        raise Forbidden("your roles do not allow this", details=[{"action": action}])
    actor = principal.username
    try:
        with context(request).unit() as unit:
            if action == "arm":
                arm_transit(unit, transit_id, actor=actor)
            elif action == "hand-over":
                # A partner administration hands over (onward) only what was handed to it.
                check_transit(unit.session, principal, get_transit(unit.session, transit_id))
                hand_over_transit(
                    unit,
                    transit_id,
                    actor=actor,
                    border=border,
                    to_administration=to_administration,
                )
            elif action == "accept":
                accept_handed_in(
                    unit,
                    transit_id,
                    actor=actor,
                    administration=context(request).settings.administration_name,
                )
            elif action == "discharge":
                discharge_transit(unit, transit_id, actor=actor, seal_intact=seal_intact, note=note)
            else:
                cancel_transit(unit, transit_id, actor=actor, reason=reason)
    except SmartCustomsError as exc:
        if isinstance(exc, NotFound):
            raise
        return _transit_page(
            request, principal, transit_id, error=exc.message, status_code=exc.status_code
        )
    return RedirectResponse(f"/tracking/transits/{transit_id}", status_code=303)
