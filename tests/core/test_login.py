"""Password login with rate limits per account and per address, counted in the database."""

from __future__ import annotations

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import RateLimited, Unauthenticated
from smartcustoms.core.events import Event, LoginFailed, LoginRateLimited, UserLoggedIn
from smartcustoms.core.login import authenticate
from smartcustoms.core.roles import Role
from smartcustoms.core.users import set_disabled
from tests.conftest import PASSWORD, add_user


def test_good_and_bad_passwords(ctx: AppContext, events: list[Event]) -> None:
    add_user(ctx, "ana", Role.AUDITOR)
    assert authenticate(ctx, "ANA", PASSWORD, "10.0.0.1").username == "ana"
    with pytest.raises(Unauthenticated):
        authenticate(ctx, "ana", "wrong password", "10.0.0.1")
    with pytest.raises(Unauthenticated):
        authenticate(ctx, "nobody", PASSWORD, "10.0.0.1")
    kinds = [type(e) for e in events[1:]]
    assert kinds == [UserLoggedIn, LoginFailed, LoginFailed]


def test_account_is_locked_after_failures_even_with_the_right_password(ctx: AppContext) -> None:
    add_user(ctx, "ben", Role.AUDITOR)
    limit = ctx.settings.login_max_failures_per_account
    for i in range(limit):
        with pytest.raises(Unauthenticated):
            authenticate(ctx, "ben", "wrong password", f"10.0.0.{i}")
    with pytest.raises(RateLimited) as err:
        authenticate(ctx, "ben", PASSWORD, "10.0.1.1")
    assert err.value.retry_after_s == ctx.settings.login_window_minutes * 60


def test_address_is_limited_across_accounts(ctx: AppContext, events: list[Event]) -> None:
    add_user(ctx, "cara", Role.AUDITOR)
    for i in range(ctx.settings.login_max_failures_per_address):
        with pytest.raises(Unauthenticated):
            authenticate(ctx, f"guess{i}", "wrong password", "192.0.2.7")
    with pytest.raises(RateLimited):
        authenticate(ctx, "cara", PASSWORD, "192.0.2.7")
    assert authenticate(ctx, "cara", PASSWORD, "192.0.2.8").username == "cara"
    assert any(isinstance(e, LoginRateLimited) and e.scope == "address" for e in events)


def test_disabled_user_cannot_log_in(ctx: AppContext, events: list[Event]) -> None:
    add_user(ctx, "dan", Role.AUDITOR)
    with ctx.unit() as unit:
        set_disabled(unit, "dan", True, actor="t")
    with pytest.raises(Unauthenticated):
        authenticate(ctx, "dan", PASSWORD, None)
    failed = [e for e in events if isinstance(e, LoginFailed)]
    assert failed[-1].reason == "disabled"
