"""Users, their roles and the trader identities they act for, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from smartcustoms.core import traders as trader_service
from smartcustoms.core import users as user_service
from smartcustoms.core.password_change import reset_password
from smartcustoms.core.roles import Role
from smartcustoms.core.tables import User
from smartcustoms.core.unit import Unit
from smartcustoms.web.api.schemas import (
    TraderPublic,
    TradersChange,
    TradersPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
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
    confirm = body.allow_self_demotion
    if body.roles is not None:
        user = user_service.set_roles(
            unit, username, body.roles, actor=actor, allow_self_demotion=confirm
        )
    if body.disabled is not None:
        user = user_service.set_disabled(
            unit, username, body.disabled, actor=actor, allow_self_demotion=confirm
        )
    if body.password is not None:
        # A temporary password: the user must choose their own before anything else.
        user = reset_password(unit, username, body.password, actor=actor)
    return public(user)


def _traders(unit: Unit, username: str) -> TradersPublic:
    rows = trader_service.list_traders(unit.session, username)
    return TradersPublic(
        username=user_service.get_user(unit.session, username).username,
        traders=[
            TraderPublic(
                declarant_id=r.declarant_id, granted_at=r.granted_at, granted_by=r.granted_by
            )
            for r in rows
        ],
    )


@router.get("/{username}/traders", summary="The trader identities (declarant IDs) a user acts for")
@requires(Role.ADMINISTRATOR, Role.AUDITOR)
def list_traders(username: str, unit: UnitDep) -> TradersPublic:
    return _traders(unit, username)


@router.put("/{username}/traders", summary="Replace the trader identities a user acts for")
@requires(Role.ADMINISTRATOR)
def set_traders(
    username: str, body: TradersChange, unit: UnitDep, principal: CurrentPrincipal
) -> TradersPublic:
    trader_service.set_traders(unit, username, body.declarant_ids, actor=principal.username)
    return _traders(unit, username)


@router.post("/{username}/traders", summary="Let a user act for more trader identities")
@requires(Role.ADMINISTRATOR)
def grant_traders(
    username: str, body: TradersChange, unit: UnitDep, principal: CurrentPrincipal
) -> TradersPublic:
    trader_service.grant_traders(unit, username, body.declarant_ids, actor=principal.username)
    return _traders(unit, username)


@router.delete(
    "/{username}/traders/{declarant_id}", summary="Stop a user acting for a trader identity"
)
@requires(Role.ADMINISTRATOR)
def revoke_trader(
    username: str,
    declarant_id: Annotated[str, Path(max_length=64)],
    unit: UnitDep,
    principal: CurrentPrincipal,
) -> TradersPublic:
    trader_service.revoke_traders(unit, username, [declarant_id], actor=principal.username)
    return _traders(unit, username)
