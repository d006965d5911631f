"""Reading and acting on recorded notifications: each person's own, everyone's for
administrators and auditors, a retry of a dead one, a test message.

The use cases behind the API, the pages and the CLI live here once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.events import AdminAction
from smartcustoms.core.settings import Settings
from smartcustoms.core.unit import Unit
from smartcustoms.core.users import get_user
from smartcustoms.interop.notify.planner import notification_key
from smartcustoms.interop.notify.rules import CHANNELS
from smartcustoms.interop.notify.states import DEAD, FAILED, QUEUED, STATES
from smartcustoms.interop.notify.tables import NotificationRow, NotifyContact
from smartcustoms.interop.notify.wording import compose

__all__ = ["list_notifications", "queue_test", "retry_notification"]


def list_notifications(
    session: Session,
    *,
    username: str | None = None,
    state: str | None = None,
    limit: int = 100,
) -> Sequence[NotificationRow]:
    """The latest notifications, newest first; of one person and in one state if given."""
    if state is not None and state not in STATES:
        raise ValidationFailed(
            f"state: one of {', '.join(STATES)}", details=[{"field": "state", "found": state[:20]}]
        )
    query = select(NotificationRow).order_by(NotificationRow.id.desc()).limit(min(limit, 1000))
    if username is not None:
        query = query.where(NotificationRow.username == username.lower())
    if state is not None:
        query = query.where(NotificationRow.state == state)
    return session.scalars(query).all()


def retry_notification(unit: Unit, notification_id: int, *, actor: str) -> NotificationRow:
    """Send a dead (or failing) notification again, from its first try."""
    row = unit.session.get(NotificationRow, notification_id)
    if row is None:
        raise NotFound(f"no notification {notification_id}", details=[{"field": "notification_id"}])
    if row.state not in (DEAD, FAILED) or not row.address:
        raise Conflict(
            f"notification {row.id} is {row.state}"
            + ("" if row.address else " with no address")
            + ": only a dead or failing one with an address is retried",
            details=[{"state": row.state}],
        )
    row.state, row.tries, row.next_attempt_at, row.last_error = QUEUED, 0, clock.now(), None
    unit.emit(AdminAction(actor=actor, action="notify_retried", target=str(row.id)))
    return row


def queue_test(
    unit: Unit, settings: Settings, username: str, channel: str, *, actor: str
) -> NotificationRow:
    """Queue a test message to ``username`` on ``channel`` (its contact address)."""
    if channel not in CHANNELS:
        raise ValidationFailed(
            f"channel: one of {', '.join(CHANNELS)}",
            details=[{"field": "channel", "found": channel[:20]}],
        )
    user = get_user(unit.session, username)
    contact = unit.session.get(NotifyContact, user.id)
    address = None
    if contact is not None:
        address = contact.email if channel == "email" else contact.phone
    if address is None:
        raise Conflict(
            f"{user.username} has no {'e-mail address' if channel == 'email' else 'phone number'}"
            " on file: set it first",
            details=[{"field": "channel", "username": user.username}],
        )
    language = user.language if user.language in ("en", "fr", "ar") else settings.default_language
    title, body = compose(
        "test",
        {"administration": settings.administration_name, "channel": channel},
        language,
    )
    now = clock.now()
    nonce = secrets.token_hex(8)
    row = NotificationRow(
        key=notification_key("test", nonce, user.username, channel),
        rule_id=None,
        username=user.username,
        channel=channel,
        address=address,
        trigger="test",
        subject=f"test:{nonce}",
        dedup=f"test:{nonce}",
        step=0,
        language=language,
        title=title,
        body=body,
        state=QUEUED,
        tries=0,
        last_error=None,
        created_at=now,
        next_attempt_at=now,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.emit(AdminAction(actor=actor, action="notify_test", target=f"{user.username}:{channel}"))
    return row
