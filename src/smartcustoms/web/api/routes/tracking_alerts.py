"""Alerts on transits and their workflow: acknowledge, assign, comment, escalate, resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from smartcustoms.tracking import queries
from smartcustoms.tracking.alerts import (
    acknowledge_alert,
    assign_alert,
    comment_alert,
    escalate_alert,
    get_alert,
    resolve_alert,
)
from smartcustoms.tracking.feed import alert_payload
from smartcustoms.tracking.tables import TransitRow
from smartcustoms.web.api.tracking_schemas import (
    AlertAssign,
    AlertComment,
    AlertDetail,
    AlertEscalate,
    AlertNote,
    AlertPublic,
    AlertResolve,
)
from smartcustoms.web.deps import UnitDep
from smartcustoms.web.params import RowId, RowIdQuery
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.tracking_access import ALERT_HANDLERS, COMMAND_CENTRE

router = APIRouter(prefix="/api/tracking/alerts", tags=["tracking"])


def _detail(unit: UnitDep, alert_id: int) -> AlertDetail:
    row = get_alert(unit.session, alert_id)
    transit = unit.session.get(TransitRow, row.transit_id)
    reference = transit.reference if transit else ""
    return AlertDetail(
        **alert_payload(row, reference), steps=queries.alert_steps(unit.session, alert_id)
    )


@router.get("", summary="Alerts: the active ones worst first, or by status")
@requires(COMMAND_CENTRE)
def list_alerts(
    unit: UnitDep,
    status: Annotated[
        str, Query(pattern="^(active|open|acknowledged|escalated|resolved|all)$")
    ] = "active",
    transit_id: RowIdQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertPublic]:
    found = queries.alerts(unit.session, status=status, transit_id=transit_id, limit=limit)
    return [AlertPublic(**a) for a in found]


@router.get("/{alert_id}", summary="One alert with every step of its workflow")
@requires(COMMAND_CENTRE)
def read(alert_id: RowId, unit: UnitDep) -> AlertDetail:
    return _detail(unit, alert_id)


@router.post("/{alert_id}/acknowledge", summary="Acknowledge: I have it")
@requires(ALERT_HANDLERS)
def acknowledge(
    alert_id: RowId, unit: UnitDep, principal: CurrentPrincipal, body: AlertNote | None = None
) -> AlertDetail:
    acknowledge_alert(unit, alert_id, actor=principal.username, note=body.note if body else None)
    return _detail(unit, alert_id)


@router.post("/{alert_id}/assign", summary="Give the alert to an operator")
@requires(ALERT_HANDLERS)
def assign(
    alert_id: RowId, body: AlertAssign, unit: UnitDep, principal: CurrentPrincipal
) -> AlertDetail:
    assign_alert(unit, alert_id, actor=principal.username, assignee=body.assignee)
    return _detail(unit, alert_id)


@router.post("/{alert_id}/comment", summary="Add a note")
@requires(ALERT_HANDLERS)
def comment(
    alert_id: RowId, body: AlertComment, unit: UnitDep, principal: CurrentPrincipal
) -> AlertDetail:
    comment_alert(unit, alert_id, actor=principal.username, note=body.note)
    return _detail(unit, alert_id)


@router.post("/{alert_id}/escalate", summary="Dispatch a response team")
@requires(ALERT_HANDLERS)
def escalate(
    alert_id: RowId, body: AlertEscalate, unit: UnitDep, principal: CurrentPrincipal
) -> AlertDetail:
    escalate_alert(unit, alert_id, actor=principal.username, team=body.team, note=body.note)
    return _detail(unit, alert_id)


@router.post("/{alert_id}/resolve", summary="Resolve with an outcome")
@requires(ALERT_HANDLERS)
def resolve(
    alert_id: RowId, body: AlertResolve, unit: UnitDep, principal: CurrentPrincipal
) -> AlertDetail:
    resolve_alert(
        unit, alert_id, actor=principal.username, outcome=body.outcome.value, note=body.note
    )
    return _detail(unit, alert_id)
