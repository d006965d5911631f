"""Password login with rate limiting per account and per client address.

Failures are counted in the database over a sliding window, so the limit holds across web
workers and replicas. A locked account answers the same way whether or not the password was
right, so the lock cannot be used to test passwords.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import RateLimited, Unauthenticated
from smartcustoms.core.events import LoginFailed, LoginRateLimited, UserLoggedIn
from smartcustoms.core.passwords import hash_password, needs_rehash, verify_password
from smartcustoms.core.roles import ALL_ROLES
from smartcustoms.core.tables import LoginFailure, User
from smartcustoms.core.unit import Unit

__all__ = ["authenticate"]


def _failures(unit: Unit, column: InstrumentedAttribute[str], value: str, since: datetime) -> int:
    query = (
        select(func.count())
        .select_from(LoginFailure)
        .where(column == value, LoginFailure.at >= since)
    )
    return unit.session.scalar(query) or 0


def authenticate(ctx: AppContext, username: str, password: str, address: str | None) -> User:
    """The user whose credentials these are; RateLimited or Unauthenticated otherwise.

    The refusal is raised after the unit of work commits: the failure must be counted and its
    event published even though the login did not succeed.
    """
    settings = ctx.settings
    name = username.strip().lower()[:64]
    addr = (address or "unknown")[:64]
    window = timedelta(minutes=settings.login_window_minutes)
    refusal: RateLimited | Unauthenticated | None = None
    with ctx.unit() as unit:
        since = clock.now() - window
        for scope, column, value, limit in (
            ("account", LoginFailure.username, name, settings.login_max_failures_per_account),
            ("address", LoginFailure.address, addr, settings.login_max_failures_per_address),
        ):
            if _failures(unit, column, value, since) >= limit:
                unit.emit(LoginRateLimited(actor=name or "-", address=address, scope=scope))
                refusal = RateLimited(
                    "too many failed logins; try again later",
                    retry_after_s=int(window.total_seconds()),
                    details=[{"scope": scope}],
                )
                break
        user = None
        if refusal is None:
            user = unit.session.scalar(select(User).where(User.username == name))
            valid = verify_password(user.password_hash if user else None, password)
            # A machine account (only machine roles: a Traccar server's) calls its API with a
            # token and never opens a session, even with a leaked password.
            machine = user is not None and not (user.roles & {r.value for r in ALL_ROLES})
            if user is None or not valid or user.disabled or machine:
                reason = "bad_credentials"
                if user is not None and valid:
                    reason = "machine_account" if machine and not user.disabled else "disabled"
                unit.session.add(LoginFailure(username=name, address=addr, at=clock.now()))
                unit.emit(LoginFailed(actor=name or "-", address=address, reason=reason))
                refusal = Unauthenticated("wrong username or password", code="login_failed")
            else:
                if user.password_hash and needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                # A success clears the account's count: two typos must not half-lock it all day.
                unit.session.execute(delete(LoginFailure).where(LoginFailure.username == name))
                unit.emit(UserLoggedIn(actor=user.username, address=address, via="web"))
    if refusal is not None:
        raise refusal
    assert user is not None
    return user
