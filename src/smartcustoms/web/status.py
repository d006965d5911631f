"""Live system status shown on the home page and at /api/system/status."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import func, select

from smartcustoms import __version__
from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.schema import schema_state
from smartcustoms.core.tables import ApiToken, User, WebSession

__all__ = ["SystemStatus", "system_status"]


class SystemStatus(BaseModel):
    version: str
    database_backend: str
    database_ok: bool
    schema_revision: str | None
    schema_up_to_date: bool
    users: int
    active_users: int
    web_sessions: int
    api_tokens_active: int
    checked_at: str


def system_status(ctx: AppContext) -> SystemStatus:
    now = clock.now()
    try:
        state = schema_state(ctx.db)
        idle = timedelta(minutes=ctx.settings.session_idle_minutes)
        with ctx.db.session() as s:
            users = s.scalar(select(func.count()).select_from(User)) or 0
            active = s.scalar(select(func.count()).select_from(User).where(~User.disabled)) or 0
            sessions = (
                s.scalar(
                    select(func.count())
                    .select_from(WebSession)
                    .where(WebSession.last_seen_at >= now - idle)
                )
                or 0
            )
            tokens = (
                s.scalar(
                    select(func.count())
                    .select_from(ApiToken)
                    .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
                )
                or 0
            )
        ok = True
    except Exception:  # the status page must render even when the database is down
        ok, users, active, sessions, tokens, state = False, 0, 0, 0, 0, None
    return SystemStatus(
        version=__version__,
        database_backend=ctx.db.dialect,
        database_ok=ok,
        schema_revision=",".join(state.current) if state else None,
        schema_up_to_date=bool(state and state.up_to_date),
        users=users,
        active_users=active,
        web_sessions=sessions,
        api_tokens_active=tokens,
        checked_at=now.isoformat(timespec="seconds"),
    )
