"""API tokens: each user manages their own; administrators may revoke anyone's."""

from __future__ import annotations

from fastapi import APIRouter, status

from smartcustoms.core import tokens as token_service
from smartcustoms.core.roles import Role
from smartcustoms.core.tables import ApiToken, User
from smartcustoms.web.api.schemas import TokenCreate, TokenCreated, TokenPublic
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.policy import ANY_ROLE, CurrentPrincipal, requires

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


def public(row: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=row.id,
        name=row.name,
        username=row.user.username,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


@router.get("", summary="My API tokens")
@requires(ANY_ROLE)
def list_tokens(unit: UnitDep, principal: CurrentPrincipal) -> list[TokenPublic]:
    return [public(t) for t in token_service.list_tokens(unit.session, principal.user_id)]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an API token for myself")
@requires(ANY_ROLE)
def create_token(
    body: TokenCreate, unit: UnitDep, ctx: ContextDep, principal: CurrentPrincipal
) -> TokenCreated:
    user = unit.session.get(User, principal.user_id)
    assert user is not None
    new = token_service.create_token(
        unit,
        user,
        name=body.name,
        days=body.days or ctx.settings.token_default_days,
        max_days=ctx.settings.token_max_days,
        actor=principal.username,
    )
    row = unit.session.get(ApiToken, new.token_id)
    assert row is not None
    return TokenCreated(token=new.secret, **public(row).model_dump())


@router.delete("/{token_id}", summary="Revoke an API token")
@requires(ANY_ROLE)
def revoke_token(token_id: str, unit: UnitDep, principal: CurrentPrincipal) -> TokenPublic:
    owner = None if Role.ADMINISTRATOR in principal.roles else principal.user_id
    row = token_service.revoke_token(unit, token_id, actor=principal.username, owner_id=owner)
    return public(row)
