"""Users and their roles: create, list, change roles, disable, change password.

Each change publishes an event naming who made it; the caller passes ``actor``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.events import (
    PasswordChanged,
    RoleChanged,
    UserCreated,
    UserDisabled,
    UserEnabled,
)
from smartcustoms.core.passwords import MIN_PASSWORD_LENGTH, hash_password
from smartcustoms.core.roles import Role
from smartcustoms.core.tables import User, UserRole
from smartcustoms.core.unit import Unit

__all__ = [
    "USERNAME_PATTERN",
    "change_password",
    "create_user",
    "get_user",
    "list_users",
    "parse_roles",
    "set_disabled",
    "set_roles",
]

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def parse_roles(values: Iterable[str]) -> frozenset[Role]:
    """Roles from names (``risk_analyst`` or ``risk-analyst``); unknown names are an error."""
    roles = set()
    for raw in values:
        for part in raw.split(","):
            name = part.strip().lower().replace("-", "_")
            if not name:
                continue
            try:
                roles.add(Role(name))
            except ValueError:
                known = ", ".join(r.value for r in Role)
                raise ValidationFailed(
                    f"unknown role {part.strip()!r}; known roles: {known}",
                    details=[{"field": "roles", "value": part.strip(), "problem": "unknown role"}],
                ) from None
    return frozenset(roles)


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password too short: at least {MIN_PASSWORD_LENGTH} characters",
            details=[{"field": "password", "problem": "too short"}],
        )


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise NotFound(f"no user named {username!r}", details=[{"field": "username"}])
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.username)).all()


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def create_user(
    unit: Unit,
    *,
    username: str,
    password: str,
    roles: Iterable[Role],
    actor: str,
    display_name: str | None = None,
    language: str | None = None,
) -> User:
    session = unit.session
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise ValidationFailed(
            f"invalid username {username!r}: 2-64 characters, lower-case letters, digits, . _ -",
            details=[{"field": "username", "problem": "invalid"}],
        )
    validate_password(password)
    role_set = sorted(set(roles))
    if not role_set:
        raise ValidationFailed(
            "a user needs at least one role", details=[{"field": "roles", "problem": "empty"}]
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"a user named {username!r} already exists", details=[{"field": "username"}])
    user = User(
        username=username,
        display_name=(display_name or username).strip()[:120],
        password_hash=hash_password(password),
        language=language,
        disabled=False,
        created_at=clock.now(),
        password_changed_at=clock.now(),
        role_rows=[UserRole(role=r.value) for r in role_set],
    )
    session.add(user)
    session.flush()
    unit.emit(UserCreated(actor=actor, username=username, roles=tuple(r.value for r in role_set)))
    return user


def set_roles(unit: Unit, username: str, roles: Iterable[Role], *, actor: str) -> User:
    user = get_user(unit.session, username)
    after = sorted({r.value for r in roles})
    if not after:
        raise ValidationFailed(
            "a user needs at least one role; disable the user instead",
            details=[{"field": "roles", "problem": "empty"}],
        )
    before = sorted(user.roles)
    if before == after:
        return user
    user.role_rows = [UserRole(role=r) for r in after]
    unit.session.flush()
    unit.emit(
        RoleChanged(actor=actor, username=user.username, before=tuple(before), after=tuple(after))
    )
    return user


def set_disabled(unit: Unit, username: str, disabled: bool, *, actor: str) -> User:
    """Disable (or re-enable) a user. A disabled user's sessions and tokens stop working at once:
    every request re-reads the user, and disabling also deletes the user's web sessions."""
    from smartcustoms.core.sessions import end_all_sessions

    user = get_user(unit.session, username)
    if user.disabled == disabled:
        return user
    user.disabled = disabled
    if disabled:
        end_all_sessions(unit.session, user.id)
    unit.session.flush()
    if disabled:
        unit.emit(UserDisabled(actor=actor, username=user.username))
    else:
        unit.emit(UserEnabled(actor=actor, username=user.username))
    return user


def change_password(unit: Unit, username: str, password: str, *, actor: str) -> User:
    from smartcustoms.core.sessions import end_all_sessions

    validate_password(password)
    user = get_user(unit.session, username)
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()
    end_all_sessions(unit.session, user.id)
    unit.session.flush()
    unit.emit(PasswordChanged(actor=actor, username=user.username))
    return user
