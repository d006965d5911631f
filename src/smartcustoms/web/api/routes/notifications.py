"""Notifications: each person's own with their delivery state; rules, contacts, retries and
test messages for administrators (``interop.notify``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from smartcustoms.core.errors import Forbidden
from smartcustoms.core.roles import Role
from smartcustoms.interop.notify.contacts import list_contacts, set_contact
from smartcustoms.interop.notify.journal import (
    list_notifications,
    queue_test,
    retry_notification,
)
from smartcustoms.interop.notify.rules import add_rule, list_rules, remove_rule
from smartcustoms.interop.notify.tables import NotificationRow, NotifyContact, NotifyRule
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import ANY_ROLE, CurrentPrincipal, requires

router = APIRouter(prefix="/api/notifications", tags=["notifications"])

ADMIN = frozenset({Role.ADMINISTRATOR})
#: Who may read everyone's notifications and the rules (changing them stays the admin's).
OVERSIGHT = frozenset({Role.ADMINISTRATOR, Role.AUDITOR})
Trigger = Literal["alert_critical", "alert_escalated", "rule_approval", "scan_recheck"]
Channel = Literal["email", "sms"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotificationPublic(BaseModel):
    id: int
    username: str
    channel: str
    trigger: str
    subject: str
    step: int
    title: str
    state: str
    tries: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


class RuleCreate(_Strict):
    trigger: Trigger
    channels: list[Channel] = Field(min_length=1, max_length=2)
    role: Role | None = None
    username: str | None = Field(None, min_length=1, max_length=64)
    office: str | None = Field(None, max_length=32)
    after_minutes: int = Field(0, ge=0, le=7 * 24 * 60)


class RulePublic(BaseModel):
    id: int
    trigger: str
    role: str | None
    username: str | None
    office: str | None
    channels: list[str]
    after_minutes: int
    created_at: datetime
    created_by: str


class ContactUpdate(_Strict):
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)
    office: str | None = Field(None, max_length=32)
    quiet_start: str | None = Field(None, max_length=5)
    quiet_end: str | None = Field(None, max_length=5)
    timezone: str = Field("UTC", max_length=64)


class ContactPublic(BaseModel):
    username: str
    email: str | None
    phone: str | None
    office: str | None
    quiet_start: str | None
    quiet_end: str | None
    timezone: str


class TestMessage(_Strict):
    username: str = Field(min_length=1, max_length=64)
    channel: Channel


def _notification(row: NotificationRow) -> NotificationPublic:
    return NotificationPublic(
        id=row.id,
        username=row.username,
        channel=row.channel,
        trigger=row.trigger,
        subject=row.subject,
        step=row.step,
        title=row.title,
        state=row.state,
        tries=row.tries,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
    )


def _rule(row: NotifyRule) -> RulePublic:
    return RulePublic(
        id=row.id,
        trigger=row.trigger,
        role=row.role,
        username=row.username,
        office=row.office,
        channels=row.channels.split(","),
        after_minutes=row.after_minutes,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _contact(username: str, row: NotifyContact | None) -> ContactPublic:
    return ContactPublic(
        username=username,
        email=row.email if row else None,
        phone=row.phone if row else None,
        office=row.office if row else None,
        quiet_start=row.quiet_start if row else None,
        quiet_end=row.quiet_end if row else None,
        timezone=row.timezone if row else "UTC",
    )


@router.get("", summary="Notifications: mine, or anyone's for administrators and auditors")
@requires(ANY_ROLE)
def notifications(
    unit: UnitDep,
    principal: CurrentPrincipal,
    username: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    state: Annotated[str | None, Query(max_length=12)] = None,
    everyone: Annotated[bool, Query(description="Everyone's (oversight roles)")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationPublic]:
    oversight = principal.has_any(OVERSIGHT)
    if (everyone or (username and username.lower() != principal.username)) and not oversight:
        raise Forbidden("only administrators and auditors read other people's notifications")
    who = None if everyone and not username else (username or principal.username)
    rows = list_notifications(unit.session, username=who, state=state, limit=limit)
    return [_notification(r) for r in rows]


@router.post("/{notification_id}/retry", summary="Send a dead or failing notification again")
@requires(ADMIN)
def retry(notification_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> NotificationPublic:
    return _notification(retry_notification(unit, notification_id, actor=principal.username))


@router.post(
    "/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a test message to a person on one channel",
)
@requires(ADMIN)
def test_message(
    body: TestMessage, unit: UnitDep, ctx: ContextDep, principal: CurrentPrincipal
) -> NotificationPublic:
    row = queue_test(unit, ctx.settings, body.username, body.channel, actor=principal.username)
    return _notification(row)


@router.get("/rules", summary="Notification rules: who is told of what")
@requires(OVERSIGHT | {Role.SUPERVISOR})
def rules(unit: UnitDep) -> list[RulePublic]:
    return [_rule(r) for r in list_rules(unit.session)]


@router.post("/rules", status_code=status.HTTP_201_CREATED, summary="Add a notification rule")
@requires(ADMIN)
def create_rule(body: RuleCreate, unit: UnitDep, principal: CurrentPrincipal) -> RulePublic:
    row = add_rule(
        unit,
        trigger=body.trigger,
        channels=list(body.channels),
        role=body.role.value if body.role else None,
        username=body.username,
        office=body.office,
        after_minutes=body.after_minutes,
        actor=principal.username,
    )
    return _rule(row)


@router.delete("/rules/{rule_id}", summary="Remove a notification rule")
@requires(ADMIN)
def delete_rule(rule_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> RulePublic:
    return _rule(remove_rule(unit, rule_id, actor=principal.username))


@router.get("/contacts", summary="Everyone's contact details and quiet hours")
@requires(ADMIN)
def contacts(unit: UnitDep) -> list[ContactPublic]:
    return [_contact(c.username, c.contact) for c in list_contacts(unit.session)]


@router.put("/contacts/{username}", summary="Set a person's contact details and quiet hours")
@requires(ADMIN)
def update_contact(
    username: Annotated[str, Path(min_length=1, max_length=64)],
    body: ContactUpdate,
    unit: UnitDep,
    principal: CurrentPrincipal,
) -> ContactPublic:
    row = set_contact(
        unit,
        username,
        email=body.email,
        phone=body.phone,
        office=body.office,
        quiet_start=body.quiet_start,
        quiet_end=body.quiet_end,
        timezone=body.timezone,
        actor=principal.username,
    )
    return _contact(username.lower(), row)
