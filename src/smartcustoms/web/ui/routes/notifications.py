"""The notifications page: everyone on duty sees what they were told and whether it went out;
administrators manage the rules and contacts, retry dead notifications and send tests;
auditors read the rules and everyone's notifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import ALL_ROLES, Role
from smartcustoms.core.unit import Unit
from smartcustoms.interop.notify.contacts import list_contacts, set_contact
from smartcustoms.interop.notify.journal import (
    list_notifications,
    queue_test,
    retry_notification,
)
from smartcustoms.interop.notify.rules import CHANNELS, add_rule, list_rules, remove_rule
from smartcustoms.interop.notify.states import STATE_LABELS
from smartcustoms.interop.notify.triggers import TRIGGERS
from smartcustoms.interop.notify.wording import TRIGGER_LABELS
from smartcustoms.web.auth import context
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import ANY_ROLE, CurrentPrincipal, requires
from smartcustoms.web.ui.render import render

router = APIRouter(prefix="/notifications", include_in_schema=False)

ADMIN = frozenset({Role.ADMINISTRATOR})
OVERSIGHT = frozenset({Role.ADMINISTRATOR, Role.AUDITOR})


def _page(
    request: Request,
    principal: Principal,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = context(request)
    admin = principal.has_any(ADMIN)
    oversight = principal.has_any(OVERSIGHT)
    with ctx.db.session() as session:  # committed (expire_on_commit off): rows stay readable
        mine = list(list_notifications(session, username=principal.username, limit=50))
        everyone = list(list_notifications(session, limit=100)) if oversight else []
        rules = list(list_rules(session)) if oversight else []
        contacts = list(list_contacts(session)) if admin else []
    return render(
        request,
        "notifications.html",
        status_code=status_code,
        mine=mine,
        everyone=everyone,
        rules=rules,
        contacts=contacts,
        admin=admin,
        oversight=oversight,
        triggers=TRIGGERS,
        trigger_labels=TRIGGER_LABELS,
        state_labels=STATE_LABELS,
        channels=CHANNELS,
        roles=sorted(ALL_ROLES),
        error=error,
        notice=notice,
    )


@router.get("", response_class=HTMLResponse)
@requires(ANY_ROLE)
def notifications_page(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    return _page(request, principal)


def _act(request: Request, principal: Principal, action: Callable[[Unit], object]) -> Response:
    """Run ``action`` in a unit of work; the page again with the error, or a redirect."""
    try:
        with context(request).unit() as unit:
            action(unit)
    except SmartCustomsError as exc:
        return _page(request, principal, error=exc.message, status_code=exc.status_code)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/rules")
@requires(ADMIN)
def create_rule(
    request: Request,
    principal: CurrentPrincipal,
    trigger: Annotated[str, Form(max_length=32)],
    channels: Annotated[list[str], Form(max_length=2)],
    who: Annotated[str, Form(max_length=70)],
    office: Annotated[str, Form(max_length=32)] = "",
    after_minutes: Annotated[int, Form(ge=0, le=10080)] = 0,
) -> Response:
    # "role:<role>" or "user:<username>": one field, so a rule names exactly one of them.
    kind, _, value = who.partition(":")
    return _act(
        request,
        principal,
        lambda unit: add_rule(
            unit,
            trigger=trigger,
            channels=channels,
            role=value if kind == "role" else None,
            username=value if kind == "user" else None,
            office=office,
            after_minutes=after_minutes,
            actor=principal.username,
        ),
    )


@router.post("/rules/{rule_id}/delete")
@requires(ADMIN)
def delete_rule(request: Request, rule_id: RowId, principal: CurrentPrincipal) -> Response:
    return _act(
        request, principal, lambda unit: remove_rule(unit, rule_id, actor=principal.username)
    )


@router.post("/contacts")
@requires(ADMIN)
def save_contact(
    request: Request,
    principal: CurrentPrincipal,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    office: Annotated[str, Form(max_length=32)] = "",
    quiet_start: Annotated[str, Form(max_length=5)] = "",
    quiet_end: Annotated[str, Form(max_length=5)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "UTC",
) -> Response:
    return _act(
        request,
        principal,
        lambda unit: set_contact(
            unit,
            username,
            email=email,
            phone=phone,
            office=office,
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            timezone=timezone,
            actor=principal.username,
        ),
    )


@router.post("/test")
@requires(ADMIN)
def send_test(
    request: Request,
    principal: CurrentPrincipal,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    channel: Annotated[str, Form(max_length=8)],
) -> Response:
    settings = context(request).settings
    return _act(
        request,
        principal,
        lambda unit: queue_test(unit, settings, username, channel, actor=principal.username),
    )


@router.post("/{notification_id}/retry")
@requires(ADMIN)
def retry(request: Request, notification_id: RowId, principal: CurrentPrincipal) -> Response:
    return _act(
        request,
        principal,
        lambda unit: retry_notification(unit, notification_id, actor=principal.username),
    )
