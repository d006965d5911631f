"""Transits: created from a declaration, armed, handed over, discharged; their track and events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from smartcustoms.declarations.store import get_declaration
from smartcustoms.federation.handover import accept as accept_handed_in
from smartcustoms.tracking import queries
from smartcustoms.tracking.tables import CorridorRow, TransitLiveRow
from smartcustoms.tracking.transits import (
    TransitRequest,
    arm_transit,
    cancel_transit,
    create_transit,
    default_deadline,
    discharge_transit,
    get_transit,
    hand_over_transit,
)
from smartcustoms.web.api.tracking_schemas import (
    TrackPoint,
    TransitCancel,
    TransitCreate,
    TransitDetail,
    TransitDischarge,
    TransitHandOver,
    TransitPublic,
)
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.scopes import TRANSIT_CREATION
from smartcustoms.web.tracking_access import (
    HANDOVER,
    OFFICERS,
    TRANSIT_CREATORS,
    TRANSIT_READERS,
    check_transit,
    readable_transits,
)

router = APIRouter(prefix="/api/tracking/transits", tags=["tracking"])

DEFAULT_HOURS = 120.0


def _public(unit: UnitDep, transit_id: int) -> TransitPublic:
    row = get_transit(unit.session, transit_id)
    corridor = unit.session.get(CorridorRow, row.corridor_id)
    return TransitPublic(**queries.transit_public(row, corridor.code if corridor else None))


@router.get("", summary="Transits, newest first")
@requires(TRANSIT_READERS)
def list_transits(
    unit: UnitDep,
    principal: CurrentPrincipal,
    status_: Annotated[
        str | None,
        Query(
            alias="status",
            pattern="^(active|created|armed|handed_over|discharged|cancelled)$",
            description="active: not yet discharged or cancelled",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[TransitPublic]:
    found = readable_transits(unit.session, principal, status=status_, limit=limit)
    return [TransitPublic(**t) for t in found]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a transit from a declaration")
@requires(TRANSIT_CREATORS)
def create(
    body: TransitCreate, unit: UnitDep, ctx: ContextDep, principal: CurrentPrincipal
) -> TransitPublic:
    scope = TRANSIT_CREATION.scope(unit.session, principal)
    if not scope.everything:
        declaration = get_declaration(unit.session, body.declaration_id)
        if declaration is not None:
            scope.check(
                declaration.declarant_id,
                what=f"a transit from declaration {body.declaration_id}",
                field="declaration_id",
            )
    request = TransitRequest(
        declaration_id=body.declaration_id,
        device_id=body.device_id,
        vehicle=body.vehicle,
        corridor=body.corridor,
        origin=body.origin,
        destination=body.destination,
        deadline=body.deadline or default_deadline(body.hours or DEFAULT_HOURS),
        seal_number=body.seal_number,
        containers=body.containers,
        reference=body.reference,
    )
    row = create_transit(
        unit, request, actor=principal.username, administration=ctx.settings.administration_name
    )
    return _public(unit, row.id)


@router.get("/{transit_id}", summary="A transit with its live state, timeline and alerts")
@requires(TRANSIT_READERS)
def read(transit_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> TransitDetail:
    row = get_transit(unit.session, transit_id)
    check_transit(unit.session, principal, row)
    corridor = unit.session.get(CorridorRow, row.corridor_id)
    live = unit.session.get(TransitLiveRow, row.id)
    data: dict[str, Any] = queries.transit_public(row, corridor.code if corridor else None)
    return TransitDetail(
        **data,
        live=queries.live_public(live),
        timeline=queries.transit_timeline(unit.session, row.id),
        alerts=queries.alerts(unit.session, status="all", transit_id=row.id),
    )


@router.get("/{transit_id}/track", summary="The seal's positions from arming to the end")
@requires(TRANSIT_READERS)
def track(transit_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> list[TrackPoint]:
    row = get_transit(unit.session, transit_id)
    check_transit(unit.session, principal, row)
    return [TrackPoint(**p) for p in queries.track(unit.session, row)]


@router.post("/{transit_id}/arm", summary="Arm the seal at origin (monitoring starts)")
@requires(OFFICERS)
def arm(transit_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> TransitPublic:
    arm_transit(unit, transit_id, actor=principal.username)
    return _public(unit, transit_id)


@router.post("/{transit_id}/hand-over", summary="Hand over to the partner administration")
@requires(HANDOVER)
def hand_over(
    transit_id: RowId, body: TransitHandOver, unit: UnitDep, principal: CurrentPrincipal
) -> TransitPublic:
    # A partner administration hands over (onward) only what was handed to it.
    check_transit(unit.session, principal, get_transit(unit.session, transit_id))
    hand_over_transit(
        unit,
        transit_id,
        actor=principal.username,
        border=body.border,
        to_administration=body.to_administration,
    )
    return _public(unit, transit_id)


@router.post(
    "/{transit_id}/accept",
    summary="Take responsibility for a transit a partner administration handed over to us",
)
@requires(OFFICERS)
def accept(
    transit_id: RowId, unit: UnitDep, ctx: ContextDep, principal: CurrentPrincipal
) -> TransitPublic:
    accept_handed_in(
        unit,
        transit_id,
        actor=principal.username,
        administration=ctx.settings.administration_name,
    )
    return _public(unit, transit_id)


@router.post("/{transit_id}/discharge", summary="Disarm the seal at destination (the end)")
@requires(OFFICERS)
def discharge(
    transit_id: RowId, body: TransitDischarge, unit: UnitDep, principal: CurrentPrincipal
) -> TransitPublic:
    discharge_transit(
        unit, transit_id, actor=principal.username, seal_intact=body.seal_intact, note=body.note
    )
    return _public(unit, transit_id)


@router.post("/{transit_id}/cancel", summary="Cancel a transit that is not over")
@requires(OFFICERS)
def cancel(
    transit_id: RowId, body: TransitCancel, unit: UnitDep, principal: CurrentPrincipal
) -> TransitPublic:
    cancel_transit(unit, transit_id, actor=principal.username, reason=body.reason)
    return _public(unit, transit_id)
