"""Users and roles, for administrators."""

from __future__ import annotations

from fastapi import APIRouter, status

from smartcustoms.core import users as user_service
from smartcustoms.core.roles import Role
from smartcustoms.core.tables import User
from smartcustoms.web.api.schemas import UserCreate, UserPublic, UserUpdate
from smartcustoms.web.deps import UnitDep
from smartcustoms.web.policy import CurrentPrincipal, requires

router = APIRouter(prefix="/api/users", tags=["users"])


def public(user: User) -> UserPublic:
    return UserPublic(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(Role(r) for r in user.roles),
        disabled=user.disabled,
        language=user.language,
        created_at=user.created_at,
    )


@router.get("", summary="List users")
@requires(Role.ADMINISTRATOR, Role.AUDITOR)
def list_users(unit: UnitDep) -> list[UserPublic]:
    return [public(u) for u in user_service.list_users(unit.session)]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a user")
@requires(Role.ADMINISTRATOR)
def create_user(body: UserCreate, unit: UnitDep, principal: CurrentPrincipal) -> UserPublic:
    user = user_service.create_user(
        unit,
        username=body.username,
        password=body.password,
        roles=body.roles,
        display_name=body.display_name,
        language=body.language,
        actor=principal.username,
    )
    return public(user)


@router.get("/{username}", summary="One user")
@requires(Role.ADMINISTRATOR, Role.AUDITOR)
def get_user(username: str, unit: UnitDep) -> UserPublic:
    return public(user_service.get_user(unit.session, username))


@router.patch("/{username}", summary="Change roles, disable or enable, reset password")
@requires(Role.ADMINISTRATOR)
def update_user(
    username: str, body: UserUpdate, unit: UnitDep, principal: CurrentPrincipal
) -> UserPublic:
    actor = principal.username
    user = user_service.get_user(unit.session, username)
    if body.roles is not None:
        user = user_service.set_roles(unit, username, body.roles, actor=actor)
    if body.disabled is not None:
        user = user_service.set_disabled(unit, username, body.disabled, actor=actor)
    if body.password is not None:
        user = user_service.change_password(unit, username, body.password, actor=actor)
    return public(user)
