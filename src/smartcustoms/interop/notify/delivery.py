"""Sending what is due, off the request path, with back-off and a dead state.

Each due row is *claimed* first in a short transaction of its own (compare-and-set on its
state and due time, with a lease: ``sending`` until ``next_attempt_at``), then sent with no
transaction open — an SMTP server that hangs holds no lock and delays no lodging or alert —
then its outcome is written. A notifier that dies mid-send leaves the row ``sending``; when the
lease ends another takes it and sends it again: delivery is at least once, and the message
(its Message-ID, its text) is the same each time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.core.errors import ConfigurationError
from smartcustoms.core.settings import Settings
from smartcustoms.interop.notify.email import send_email, smtp_config
from smartcustoms.interop.notify.errors import DeliveryFailed
from smartcustoms.interop.notify.sms_kannel import kannel_config, send_sms
from smartcustoms.interop.notify.states import DEAD, FAILED, QUEUED, SENDING, SENT
from smartcustoms.interop.notify.tables import NotificationRow

__all__ = ["Delivered", "Sender", "deliver_due", "deliver_one", "senders_from"]

log = logging.getLogger("smartcustoms.notify")

#: How long a claimed row is ours before another notifier may take it (longer than any send).
LEASE = timedelta(minutes=2)
_MAX_BACKOFF_S = 3600.0


@dataclass(frozen=True)
class Message:
    id: int
    key: str
    channel: str
    address: str
    title: str
    body: str
    tries: int


#: Sends one message on one channel; raises DeliveryFailed.
Sender = Callable[[Message], None]


def senders_from(settings: Settings) -> dict[str, Sender]:
    """A sender per channel, each reading its settings when it sends (a missing or bad
    setting fails that channel's notifications, not the notifier)."""

    def email(message: Message) -> None:
        config = smtp_config(settings)
        if config is None:
            raise DeliveryFailed("e-mail is not configured (notify_smtp_host)")
        send_email(
            config, to=message.address, subject=message.title, body=message.body, key=message.key
        )

    def sms(message: Message) -> None:
        config = kannel_config(settings)
        if config is None:
            raise DeliveryFailed("SMS is not configured (notify_kannel_url)")
        send_sms(config, to=message.address, text=message.title)

    return {"email": email, "sms": sms}


@dataclass
class Delivered:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def _claim(db: Database, row_id: int, now: datetime) -> Message | None:
    with db.session() as session:
        n = session.get(NotificationRow, row_id)
        if n is None:
            return None
        if n.state not in (QUEUED, FAILED, SENDING) or n.next_attempt_at > now or not n.address:
            return None
        claimed = session.connection().execute(
            update(NotificationRow)
            .where(
                NotificationRow.id == row_id,
                NotificationRow.state == n.state,
                NotificationRow.next_attempt_at == n.next_attempt_at,
            )
            .values(state=SENDING, next_attempt_at=now + LEASE, tries=n.tries + 1)
        )
        if claimed.rowcount != 1:
            return None  # another notifier took it
        return Message(n.id, n.key, n.channel, n.address, n.title, n.body, n.tries + 1)


def _finish(
    db: Database, settings: Settings, message: Message, error: DeliveryFailed | None
) -> str:
    now = clock.now()
    if error is None:
        values: dict[str, object] = {"state": SENT, "sent_at": now, "last_error": None}
    elif error.permanent or message.tries >= settings.notify_max_tries:
        values = {"state": DEAD, "last_error": error.message[:255]}
    else:
        wait = min(settings.notify_retry_base_s * 2 ** (message.tries - 1), _MAX_BACKOFF_S)
        values = {
            "state": FAILED,
            "last_error": error.message[:255],
            "next_attempt_at": now + timedelta(seconds=wait),
        }
    with db.writer.begin() as conn:
        conn.execute(
            update(NotificationRow)
            .where(NotificationRow.id == message.id, NotificationRow.state == SENDING)
            .values(**values)
        )
    return str(values["state"])


def deliver_one(
    db: Database, settings: Settings, row_id: int, senders: dict[str, Sender]
) -> str | None:
    """Claim, send and record one notification if it is due; return its new state (None
    if it was not due or someone else took it)."""
    message = _claim(db, row_id, clock.now())
    if message is None:
        return None
    error: DeliveryFailed | None = None
    try:
        senders[message.channel](message)
    except DeliveryFailed as exc:
        error = exc
    except ConfigurationError as exc:  # a bad channel setting: retried, it may be fixed
        error = DeliveryFailed(exc.message)
    except Exception as exc:  # a bug in a channel must not stop the others
        log.exception("notification %s: unexpected error", message.id)
        error = DeliveryFailed(f"unexpected {type(exc).__name__}")
    if error is not None:
        log.warning("notification %s (%s): %s", message.id, message.channel, error.message)
    return _finish(db, settings, message, error)


def due_ids(db: Database, now: datetime, limit: int = 100) -> list[int]:
    with db.read_session() as session:
        return list(
            session.scalars(
                select(NotificationRow.id)
                .where(
                    NotificationRow.state.in_((QUEUED, FAILED, SENDING)),
                    NotificationRow.next_attempt_at <= now,
                )
                .order_by(NotificationRow.next_attempt_at, NotificationRow.id)
                .limit(limit)
            )
        )


def deliver_due(
    db: Database,
    settings: Settings,
    senders: dict[str, Sender],
    *,
    stop: Callable[[], bool] = lambda: False,
) -> Delivered:
    """Send every notification due now (a batch at a time), until none is due or ``stop``."""
    done = Delivered()
    for row_id in due_ids(db, clock.now()):
        if stop():
            break
        state = deliver_one(db, settings, row_id, senders)
        if state == SENT:
            done.sent += 1
        elif state == FAILED:
            done.failed += 1
        elif state == DEAD:
            done.dead += 1
    return done
