"""Passwords set by an administrator are temporary: the user must choose their own.

An administrator's reset (:func:`reset_password`: the users page, ``PATCH /api/users/{name}``,
``smartcustoms users set-password``) sets a password the administrator knows and hands over, so
it also sets ``must_change_password``: until the user picks a password of their own
(:func:`change_own_password`), every page and API call but logging out and changing the
password is refused with :class:`PasswordChangeRequired` (``web.auth``'s gate). Users created
by ``users add`` or the demo are not forced.

Both are ledger records: ``admin.password_reset`` names the administrator and the user,
``security.password_changed`` the user who chose a new password. Neither carries a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core import clock
from smartcustoms.core.errors import Forbidden, ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.core.passwords import hash_password, verify_password
from smartcustoms.core.roles import MACHINE_ROLES
from smartcustoms.core.sessions import end_all_sessions
from smartcustoms.core.tables import User
from smartcustoms.core.unit import Unit
from smartcustoms.core.users import get_user, validate_password

__all__ = [
    "PasswordChangeRequired",
    "PasswordChangedByUser",
    "PasswordReset",
    "change_own_password",
    "reset_password",
]


class PasswordChangeRequired(Forbidden):
    """The caller's password was set by an administrator and must be changed first."""

    code = "password_change_required"


@dataclass(frozen=True, kw_only=True)
class PasswordReset(Event):
    type: ClassVar[str] = "admin.password_reset"
    username: str
    must_change: bool


@dataclass(frozen=True, kw_only=True)
class PasswordChangedByUser(Event):
    type: ClassVar[str] = "security.password_changed"
    forced: bool  # the change ended a reset's "must change password"


def reset_password(
    unit: Unit, username: str, password: str, *, actor: str, must_change: bool = True
) -> User:
    """Set a temporary password for ``username``; every session of the user ends.

    ``must_change`` is off only for an administrator setting their own password at the
    console (the one way back in when every administrator has forgotten theirs).
    """
    validate_password(password)
    user = get_user(unit.session, username)
    if user.roles & {r.value for r in MACHINE_ROLES}:
        # A machine account logs in to no page: it could never make the change, and its API
        # token (what it works with) would be held back for good.
        must_change = False
    user.password_hash = hash_password(password)
    user.password_changed_at = clock.now()
    user.must_change_password = must_change
    end_all_sessions(unit.session, user.id)
    unit.session.flush()
    unit.emit(PasswordReset(actor=actor, username=user.username, must_change=must_change))
    return user


def change_own_password(unit: Unit, user_id: int, current: str, new: str) -> User:
    """The user's own change: the current password proves it is them, the new one must follow
    the password policy and differ from it. Ends every session of the user (the caller opens
    a fresh one for the browser that made the change)."""
    user = unit.session.get(User, user_id)
    if user is None or user.disabled:
        raise Forbidden("this account cannot change its password")
    if not verify_password(user.password_hash, current):
        raise ValidationFailed(
            "the current password is wrong",
            details=[{"field": "current_password", "problem": "wrong"}],
        )
    try:
        validate_password(new)
    except ValidationFailed as exc:
        exc.details = [{**d, "field": "new_password"} for d in exc.details]
        raise
    if new == current:
        raise ValidationFailed(
            "the new password must differ from the current one",
            details=[{"field": "new_password", "problem": "unchanged"}],
        )
    forced = user.must_change_password
    user.password_hash = hash_password(new)
    user.password_changed_at = clock.now()
    user.must_change_password = False
    end_all_sessions(unit.session, user.id)
    unit.session.flush()
    unit.emit(PasswordChangedByUser(actor=user.username, forced=forced))
    return user
