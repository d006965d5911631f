"""Web sessions kept in the database, so logout, disabling a user and idle timeouts take effect
on every replica at once. The cookie carries a random secret; the table stores its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.principal import Principal
from smartcustoms.core.tables import User, WebSession

__all__ = [
    "end_all_sessions",
    "end_session",
    "follow_up_session",
    "lookup_session",
    "open_session",
]

# last_seen_at is refreshed at most this often, so browsing is not one write per request.
TOUCH_INTERVAL = timedelta(seconds=60)


def _digest(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def open_session(session: Session, user: User, address: str | None) -> str:
    """Start a session for ``user``; returns the cookie value (shown to nobody else)."""
    cookie_value = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        WebSession(
            id_hash=_digest(cookie_value),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            address=(address or "")[:64] or None,
        )
    )
    session.flush()
    return cookie_value


SessionFollowUp = Literal["touch", "end"] | None


def lookup_session(
    session: Session, cookie_value: str, *, idle: timedelta, max_age: timedelta
) -> tuple[Principal | None, SessionFollowUp]:
    """The principal behind a session cookie (None if unknown, expired or disabled) and what
    should be written afterwards: "touch" (record activity) or "end" (delete it). Reads only."""
    if not cookie_value or len(cookie_value) > 128:
        return None, None
    row = session.get(WebSession, _digest(cookie_value))
    if row is None:
        return None, None
    now = clock.now()
    if row.user.disabled or now - row.last_seen_at > idle or now - row.created_at > max_age:
        return None, "end"
    follow_up: SessionFollowUp = "touch" if now - row.last_seen_at > TOUCH_INTERVAL else None
    return Principal.of(
        row.user, "session", roles=row.user.roles, csrf_token=row.csrf_token
    ), follow_up


def follow_up_session(session: Session, cookie_value: str, action: SessionFollowUp) -> None:
    """Carry out what :func:`lookup_session` asked for, in a writing session."""
    if action == "end":
        end_session(session, cookie_value)
    elif action == "touch":
        row = session.get(WebSession, _digest(cookie_value))
        if row is not None:
            row.last_seen_at = clock.now()


def end_session(session: Session, cookie_value: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id_hash == _digest(cookie_value)))


def end_all_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def purge_expired(session: Session, *, idle: timedelta) -> int:
    result = session.execute(delete(WebSession).where(WebSession.last_seen_at < clock.now() - idle))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
