"""Users and their roles: create, list, change roles, disable (passwords an administrator
sets, and the user's own change that must follow: :mod:`smartcustoms.core.password_change`).

Each change publishes an event naming who made it; the caller passes ``actor``.

Nobody can lock the administrators out: the last enabled administrator can be neither disabled
nor stripped of the role (409 ``last_administrator``), and an administrator removing its own
administrator rights (the role, or by disabling itself) must say so with
``allow_self_demotion`` — refused otherwise (409 ``self_demotion``), recorded when given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.events import (
    AdminAction,
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
    "create_user",
    "enabled_administrators",
    "get_user",
    "list_users",
    "parse_roles",
    "set_disabled",
    "set_roles",
    "validate_password",
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


ADMINISTRATOR = Role.ADMINISTRATOR.value


def enabled_administrators(session: Session, *, lock: bool = False) -> set[int]:
    """Ids of the enabled users holding the administrator role. ``lock`` locks their rows
    (PostgreSQL; SQLite's writer lock already serialises) so that two requests disabling two
    different administrators at once cannot both see the other one still there."""
    query = (
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == ADMINISTRATOR, User.disabled.is_(False))
    )
    if lock:
        query = query.with_for_update(of=User)
    return set(session.scalars(query))


def _losing_administrator(
    unit: Unit, user: User, *, actor: str, change: str, field: str, allow_self_demotion: bool
) -> None:
    """Before ``user`` stops being an enabled administrator: refuse if it is the last one, or
    if it is the actor and did not say it means it; record it when it did."""
    if ADMINISTRATOR not in user.roles or user.disabled:
        return
    remaining = enabled_administrators(unit.session, lock=True) - {user.id}
    if not remaining:
        raise Conflict(
            f"{user.username} is the last enabled administrator: {change} would leave nobody "
            "to manage users; make another administrator first",
            details=[{"field": field, "username": user.username, "problem": "last administrator"}],
            code="last_administrator",
        )
    if actor == user.username:
        if not allow_self_demotion:
            raise Conflict(
                f"{change} would remove your own administrator rights; confirm it explicitly "
                "(allow_self_demotion) if you mean it",
                details=[
                    {"field": field, "username": user.username, "problem": "self demotion"},
                    {"field": "allow_self_demotion", "problem": "required to demote yourself"},
                ],
                code="self_demotion",
            )
        unit.emit(
            AdminAction(actor=actor, action="administrator_self_demotion", target=user.username)
        )


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


def set_roles(
    unit: Unit,
    username: str,
    roles: Iterable[Role],
    *,
    actor: str,
    allow_self_demotion: bool = False,
) -> User:
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
    if ADMINISTRATOR not in after:
        _losing_administrator(
            unit,
            user,
            actor=actor,
            change="removing the administrator role",
            field="roles",
            allow_self_demotion=allow_self_demotion,
        )
    user.role_rows = [UserRole(role=r) for r in after]
    unit.session.flush()
    unit.emit(
        RoleChanged(actor=actor, username=user.username, before=tuple(before), after=tuple(after))
    )
    return user


def set_disabled(
    unit: Unit,
    username: str,
    disabled: bool,
    *,
    actor: str,
    allow_self_demotion: bool = False,
) -> User:
    """Disable (or re-enable) a user. A disabled user's sessions and tokens stop working at once:
    every request re-reads the user, and disabling also deletes the user's web sessions."""
    from smartcustoms.core.sessions import end_all_sessions

    user = get_user(unit.session, username)
    if user.disabled == disabled:
        return user
    if disabled:
        _losing_administrator(
            unit,
            user,
            actor=actor,
            change="disabling this user",
            field="disabled",
            allow_self_demotion=allow_self_demotion,
        )
    user.disabled = disabled
    if disabled:
        end_all_sessions(unit.session, user.id)
    unit.session.flush()
    if disabled:
        unit.emit(UserDisabled(actor=actor, username=user.username))
    else:
        unit.emit(UserEnabled(actor=actor, username=user.username))
    return user
