"""The command centre: the live map, and the alert queue where operators work the alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from smartcustoms.core.errors import NotFound, SmartCustomsError
from smartcustoms.core.i18n import N_
from smartcustoms.core.roles import Role
from smartcustoms.core.tables import User, UserRole
from smartcustoms.tracking import queries
from smartcustoms.tracking.alerts import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    acknowledge_alert,
    assign_alert,
    comment_alert,
    escalate_alert,
    resolve_alert,
)
from smartcustoms.tracking.messages import SEAL_EVENT_LABELS
from smartcustoms.tracking.thresholds import ALERT_LABELS, SEVERITY_LABELS
from smartcustoms.tracking.transit_status import STATUS_LABELS as TRANSIT_LABELS
from smartcustoms.web.auth import context
from smartcustoms.web.i18n import translations
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.tracking_access import ALERT_HANDLERS, COMMAND_CENTRE
from smartcustoms.web.ui.render import language_of, render

router = APIRouter(prefix="/tracking", include_in_schema=False)

_FILTERS = ("active", "open", "acknowledged", "escalated", "resolved", "all")
_FILTER_LABELS = {
    "active": N_("Active"),
    "open": N_("Open"),
    "acknowledged": N_("Acknowledged"),
    "escalated": N_("Escalated"),
    "resolved": N_("Resolved"),
    "all": N_("All"),
}
_ACTIONS = ("acknowledge", "assign", "comment", "escalate", "resolve")


_STEP_LABELS = {
    "created": N_("created"),
    "armed": N_("armed"),
    "handed_over": N_("handed over"),
    "discharged": N_("discharged"),
    "cancelled": N_("cancelled"),
    "handed_in": N_("handed in by a partner"),
    "accepted": N_("accepted"),
    "released": N_("guarantee released"),
}
_ALERT_STEP_LABELS = {
    "raised": N_("raised"),
    "acknowledged": N_("acknowledged"),
    "assigned": N_("assigned"),
    "commented": N_("commented"),
    "escalated": N_("escalated"),
    "resolved": N_("resolved"),
}


def labels() -> dict[str, dict[str, str]]:
    """Untranslated labels the templates translate (alert types, severities, statuses)."""
    return {
        "types": {k.value: v for k, v in ALERT_LABELS.items()},
        "severities": {k.value: v for k, v in SEVERITY_LABELS.items()},
        "statuses": {k.value: v for k, v in STATUS_LABELS.items()},
        "outcomes": {k.value: v for k, v in OUTCOME_LABELS.items()},
        "transit_statuses": {k.value: v for k, v in TRANSIT_LABELS.items()},
        "steps": dict(_STEP_LABELS),
        "alert_steps": dict(_ALERT_STEP_LABELS),
        "events": {k.value: v for k, v in SEAL_EVENT_LABELS.items()},
    }


_SCRIPT_LABELS = {
    "open_transit": N_("Open the transit"),
    "speed": N_("Speed"),
    "last_report": N_("Last report"),
    "off_route": N_("off route"),
    "in_zone": N_("in zone"),
    "live": N_("live"),
    "reconnecting": N_("reconnecting…"),
    "connecting": N_("connecting…"),
    "no_alerts": N_("No active alerts."),
    "play": N_("Play"),
    "pause": N_("Pause"),
    "no_track": N_("No positions yet."),
    "zoom_in": N_("Zoom in"),
    "zoom_out": N_("Zoom out"),
}
# A truck's state as the map colours it (the legend's words), for the replay's label.
_STATE_LABELS = {"ok": N_("on route"), "warning": N_("warning"), "alert": N_("alert")}


def script_labels(request: Request) -> dict[str, object]:
    """Every label the pages' scripts show, translated (they get it as JSON)."""
    gettext = translations(language_of(request)).gettext
    out: dict[str, object] = {k: gettext(v) for k, v in _SCRIPT_LABELS.items()}
    for group, values in {**labels(), "states": _STATE_LABELS}.items():
        out[group] = {k: gettext(v) for k, v in values.items()}
    out["time_zone"] = context(request).settings.time_zone  # the scripts show times in it
    return out


def _operators(request: Request) -> list[str]:
    with context(request).db.session() as session:
        rows = session.scalars(
            select(User.username)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.COMMAND_CENTRE_OPERATOR.value, User.disabled.is_(False))
            .order_by(User.username)
        )
        return list(rows)


@router.get("", response_class=HTMLResponse)
@requires(COMMAND_CENTRE)
def map_page(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    with context(request).db.session() as session:
        active = queries.alerts(session, status="active", limit=100)
    return render(
        request,
        "tracking_map.html",
        alerts=active,
        i18n=script_labels(request),
        labels=labels(),
        can_act=principal.has_any(ALERT_HANDLERS),
    )


def _queue(
    request: Request,
    principal: CurrentPrincipal,
    show: str,
    *,
    template: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with context(request).db.session() as session:
        found = queries.alerts(session, status=show, limit=300)
    return render(
        request,
        template,
        status_code=status_code,
        alerts=found,
        show=show,
        filters=_FILTERS,
        filter_labels=_FILTER_LABELS,
        labels=labels(),
        operators=_operators(request),
        can_act=principal.has_any(ALERT_HANDLERS),
        error=error,
    )


@router.get("/alerts", response_class=HTMLResponse)
@requires(COMMAND_CENTRE)
def alerts_page(
    request: Request,
    principal: CurrentPrincipal,
    show: Annotated[str, Query(pattern="^(active|open|acknowledged|escalated|resolved|all)$")] = (
        "active"
    ),
) -> HTMLResponse:
    return _queue(request, principal, show, template="tracking_alerts.html")


@router.get("/alerts/rows", response_class=HTMLResponse)
@requires(COMMAND_CENTRE)
def alert_rows(
    request: Request,
    principal: CurrentPrincipal,
    show: Annotated[str, Query(pattern="^(active|open|acknowledged|escalated|resolved|all)$")] = (
        "active"
    ),
) -> HTMLResponse:
    """The queue's table alone; the page refreshes it when the live stream brings news."""
    return _queue(request, principal, show, template="_tracking_alert_rows.html")


@router.post("/alerts/{alert_id}/{action}")
@requires(ALERT_HANDLERS)
def act(
    request: Request,
    alert_id: RowId,
    action: str,
    principal: CurrentPrincipal,
    show: Annotated[str, Form(pattern="^(active|open|acknowledged|escalated|resolved|all)$")] = (
        "active"
    ),
    note: Annotated[str, Form(max_length=2000)] = "",
    assignee: Annotated[str, Form(max_length=64)] = "",
    team: Annotated[str, Form(max_length=64)] = "",
    outcome: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """One workflow step from the queue's forms (HTMX swaps the table; plain posts redirect)."""
    if action not in _ACTIONS:
        raise NotFound(f"no alert action {action!r}")
    htmx = request.headers.get("hx-request") == "true"
    actor = principal.username
    try:
        with context(request).unit() as unit:
            if action == "acknowledge":
                acknowledge_alert(unit, alert_id, actor=actor, note=note)
            elif action == "assign":
                assign_alert(unit, alert_id, actor=actor, assignee=assignee)
            elif action == "comment":
                comment_alert(unit, alert_id, actor=actor, note=note)
            elif action == "escalate":
                escalate_alert(unit, alert_id, actor=actor, team=team, note=note)
            else:
                resolve_alert(unit, alert_id, actor=actor, outcome=outcome, note=note)
    except SmartCustomsError as exc:
        template = "_tracking_alert_rows.html" if htmx else "tracking_alerts.html"
        # HTMX swaps only successful answers: the table comes back with the error in it.
        status_code = 200 if htmx else exc.status_code
        return _queue(
            request,
            principal,
            show,
            template=template,
            error=exc.message,
            status_code=status_code,
        )
    if htmx:
        return _queue(request, principal, show, template="_tracking_alert_rows.html")
    return RedirectResponse(f"/tracking/alerts?show={show}", status_code=303)
