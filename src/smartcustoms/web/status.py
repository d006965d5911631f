"""Live system status shown on the home page and at /api/system/status.

Every role sees the instance's health — version, database reachable, schema up to date. The
account counts (users, live web sessions, API tokens) say how the instance is used and by how
many: only administrators get them (:func:`system_status` with ``accounts=True``); the query
is not even run for anyone else.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcustoms import __version__
from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.schema import schema_state
from smartcustoms.core.tables import ApiToken, User, WebSession

__all__ = ["AccountCounts", "SystemHealth", "SystemStatus", "system_status"]


class SystemHealth(BaseModel):
    """What any role may see."""

    version: str
    database_backend: str
    database_ok: bool
    schema_revision: str | None
    schema_up_to_date: bool
    checked_at: str


class AccountCounts(BaseModel):
    users: int
    active_users: int
    web_sessions: int
    api_tokens_active: int


class SystemStatus(SystemHealth):
    """Health and, for administrators, the account counts (None for every other role)."""

    accounts: AccountCounts | None = None


def _count(session: Session, table: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(table).where(*where)) or 0  # type: ignore[arg-type]


def _accounts(ctx: AppContext, session: Session) -> AccountCounts:
    now = clock.now()
    idle = timedelta(minutes=ctx.settings.session_idle_minutes)
    return AccountCounts(
        users=_count(session, User),
        active_users=_count(session, User, ~User.disabled),
        web_sessions=_count(session, WebSession, WebSession.last_seen_at >= now - idle),
        api_tokens_active=_count(
            session, ApiToken, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        ),
    )


def system_status(ctx: AppContext, *, accounts: bool = False) -> SystemStatus:
    """The instance's health; with ``accounts`` (administrators only) the account counts."""
    now = clock.now()
    counts = None
    try:
        state = schema_state(ctx.db)
        with ctx.db.read_session() as session:
            session.execute(select(1))
            if accounts:
                counts = _accounts(ctx, session)
        ok = True
    except Exception:  # the status page must render even when the database is down
        ok, state = False, None
    return SystemStatus(
        version=__version__,
        database_backend=ctx.db.dialect,
        database_ok=ok,
        schema_revision=",".join(state.current) if state else None,
        schema_up_to_date=bool(state and state.up_to_date),
        accounts=counts,
        checked_at=now.isoformat(timespec="seconds"),
    )
