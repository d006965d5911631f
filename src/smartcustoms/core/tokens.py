"""Bearer API tokens for machines: ``sct_<id>_<secret>``.

The token is shown once, when created. The table keeps the id and the SHA-256 of the secret:
the secret is 256 random bits, so a fast hash is enough (a slow password hash protects guessable
secrets, which these are not) and checking a token costs microseconds on every API call.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.db import core_connection
from smartcustoms.core.errors import NotFound, Unauthenticated, ValidationFailed
from smartcustoms.core.events import TokenCreated, TokenRevoked
from smartcustoms.core.principal import Principal
from smartcustoms.core.tables import ApiToken, User, UserRole
from smartcustoms.core.unit import Unit

__all__ = [
    "NewToken",
    "create_token",
    "list_tokens",
    "lookup_token",
    "resolve_token",
    "revoke_token",
    "touch_token",
]

TOUCH_INTERVAL = timedelta(minutes=1)
TOKEN_PATTERN = re.compile(r"^sct_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewToken:
    token_id: str
    secret: str  # the full token string; show it once and forget it
    expires_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    unit: Unit, user: User, *, name: str, days: int, max_days: int, actor: str
) -> NewToken:
    if not 1 <= days <= max_days:
        raise ValidationFailed(
            f"token lifetime must be 1 to {max_days} days, not {days}",
            details=[{"field": "days", "value": days, "problem": "out of range"}],
        )
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationFailed(
            "a token needs a name of 1-120 characters saying what uses it",
            details=[{"field": "name", "problem": "empty or too long"}],
        )
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    token_id = "".join(secrets.choice(alphabet) for _ in range(12))
    secret = secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiToken(
        id=token_id,
        user_id=user.id,
        name=name,
        secret_hash=_digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    unit.session.add(row)
    unit.session.flush()
    unit.emit(
        TokenCreated(
            actor=actor,
            token_id=token_id,
            username=user.username,
            name=name,
            expires_at=row.expires_at,
        )
    )
    return NewToken(token_id=token_id, secret=f"sct_{token_id}_{secret}", expires_at=row.expires_at)


def lookup_token(session: Session, presented: str) -> tuple[Principal, bool]:
    """The principal behind a bearer token, and whether its last use is stale enough to record
    (see :func:`touch_token`); Unauthenticated saying why it was refused. Reads only.

    Every API call asks this, so it reads columns, not ORM objects: loading the token with its
    user and the user's roles as objects (a joined load, then a select-in) cost a third of an
    authenticated request's CPU."""
    match = TOKEN_PATTERN.match(presented)
    if match is None:
        raise Unauthenticated("malformed API token", code="token_malformed")
    token_id, secret = match.groups()
    connection = core_connection(session)
    row = connection.execute(_TOKEN, {"token_id": token_id}).one_or_none()
    # compare_digest even for an unknown id keeps the timing of both refusals alike.
    expected = row.secret_hash if row is not None else "0" * 64
    if not hmac.compare_digest(expected, _digest(secret)) or row is None:
        raise Unauthenticated("unknown API token", code="token_invalid")
    now = clock.now()
    if row.revoked_at is not None:
        raise Unauthenticated("this API token was revoked", code="token_revoked")
    if row.expires_at <= now:
        raise Unauthenticated("this API token has expired", code="token_expired")
    if row.disabled:
        raise Unauthenticated("the user of this API token is disabled", code="user_disabled")
    roles = connection.execute(_ROLES, {"user_id": row.id}).scalars()
    principal = Principal.of(row, "token", roles=roles, token_id=token_id)
    stale = row.last_used_at is None or now - row.last_used_at > TOUCH_INTERVAL
    return principal, stale


_tokens, _users, _user_roles = ApiToken.__table__, User.__table__, UserRole.__table__
_TOKEN = (
    select(
        _tokens.c.secret_hash,
        _tokens.c.revoked_at,
        _tokens.c.expires_at,
        _tokens.c.last_used_at,
        _users.c.id,  # the user's: the token's own id is not read
        _users.c.username,
        _users.c.display_name,
        _users.c.language,
        _users.c.disabled,
        _users.c.must_change_password,
    )
    .join_from(_tokens, _users, _users.c.id == _tokens.c.user_id)
    .where(_tokens.c.id == bindparam("token_id"))
)
_ROLES = select(_user_roles.c.role).where(_user_roles.c.user_id == bindparam("user_id"))


def touch_token(session: Session, token_id: str) -> None:
    """Record that a token was used now (at most once a minute is enough for the tokens page)."""
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = clock.now()


def resolve_token(session: Session, presented: str) -> Principal:
    """:func:`lookup_token` and, when due, :func:`touch_token` in the same (writing) session."""
    principal, stale = lookup_token(session, presented)
    if stale and principal.token_id:
        touch_token(session, principal.token_id)
    return principal


def list_tokens(session: Session, user_id: int | None = None) -> Sequence[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return session.scalars(query).all()


def revoke_token(unit: Unit, token_id: str, *, actor: str, owner_id: int | None = None) -> ApiToken:
    """Revoke a token; with ``owner_id``, only if it belongs to that user."""
    token_id = token_id.removeprefix("sct_").split("_")[0]
    row = unit.session.get(ApiToken, token_id)
    if row is None or (owner_id is not None and row.user_id != owner_id):
        raise NotFound(f"no API token {token_id!r}", details=[{"field": "token_id"}])
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        unit.emit(TokenRevoked(actor=actor, token_id=row.id, username=row.user.username))
    return row
