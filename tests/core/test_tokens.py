"""API tokens: shown once, stored hashed, expiring, revocable, dead with a disabled user."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import NotFound, Unauthenticated, ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.core.tables import ApiToken
from smartcustoms.core.tokens import create_token, resolve_token, revoke_token
from smartcustoms.core.users import get_user, set_disabled
from tests.conftest import add_user


@pytest.fixture
def token(ctx: AppContext) -> str:
    add_user(ctx, "machine", Role.DECLARANT)
    with ctx.unit() as unit:
        user = get_user(unit.session, "machine")
        return create_token(unit, user, name="CMS", days=30, max_days=365, actor="t").secret


def test_token_resolves_to_its_user(ctx: AppContext, token: str) -> None:
    with ctx.db.session() as session:
        principal = resolve_token(session, token)
        assert principal.username == "machine"
        assert principal.roles == {Role.DECLARANT}
        row = session.scalars(select(ApiToken)).one()
        assert token.split("_", 2)[2] not in row.secret_hash  # only the digest is stored
        assert len(row.secret_hash) == 64


@pytest.mark.parametrize(
    ("mangle", "code"),
    [
        (lambda t: "", "token_malformed"),
        (lambda t: t[:-1], "token_malformed"),
        (lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), "token_invalid"),
        (lambda t: "sct_AAAAAAAAAAAA_" + t.split("_", 2)[2], "token_invalid"),
        (lambda t: t + "\x00", "token_malformed"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(
    ctx: AppContext, token: str, mangle: object, code: str
) -> None:
    with pytest.raises(Unauthenticated) as err, ctx.db.session() as session:
        resolve_token(session, mangle(token))  # type: ignore[operator]
    assert err.value.code == code


def test_expired_revoked_and_disabled(ctx: AppContext, token: str) -> None:
    later = clock.now() + timedelta(days=31)
    clock.set_clock(lambda: later)
    try:
        with pytest.raises(Unauthenticated) as err, ctx.db.session() as session:
            resolve_token(session, token)
        assert err.value.code == "token_expired"
    finally:
        clock.set_clock(None)
    with ctx.unit() as unit:
        set_disabled(unit, "machine", True, actor="t")
    with pytest.raises(Unauthenticated) as err, ctx.db.session() as session:
        resolve_token(session, token)
    assert err.value.code == "user_disabled"
    with ctx.unit() as unit:
        revoke_token(unit, token, actor="t")
    with pytest.raises(Unauthenticated) as err, ctx.db.session() as session:
        resolve_token(session, token)
    assert err.value.code == "token_revoked"


def test_lifetime_and_ownership(ctx: AppContext, token: str) -> None:
    with pytest.raises(ValidationFailed, match="1 to 365 days"), ctx.unit() as unit:
        user = get_user(unit.session, "machine")
        create_token(unit, user, name="x", days=400, max_days=365, actor="t")
    with pytest.raises(NotFound), ctx.unit() as unit:
        revoke_token(unit, token, actor="t", owner_id=999)
