"""Users and roles: creation rules, role changes, disabling, events naming the actor."""

from __future__ import annotations

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.events import Event, RoleChanged, UserCreated, UserDisabled
from smartcustoms.core.passwords import verify_password
from smartcustoms.core.roles import Role
from smartcustoms.core.users import (
    create_user,
    get_user,
    parse_roles,
    set_disabled,
    set_roles,
)
from tests.conftest import PASSWORD


def test_create_user_hashes_with_argon2id(ctx: AppContext, events: list[Event]) -> None:
    with ctx.unit() as unit:
        create_user(
            unit,
            username="Amina",
            password=PASSWORD,
            roles=[Role.RISK_ANALYST, Role.SUPERVISOR],
            actor="root",
        )
    with ctx.db.session() as session:
        user = get_user(session, "amina")
        assert user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$")
        assert verify_password(user.password_hash, PASSWORD)
        assert not verify_password(user.password_hash, PASSWORD + "x")
        assert user.roles == {"risk_analyst", "supervisor"}
    assert events == [
        UserCreated(
            actor="root", username="amina", roles=("risk_analyst", "supervisor"), at=events[0].at
        )
    ]


@pytest.mark.parametrize(
    ("username", "password", "roles", "field"),
    [
        ("x", PASSWORD, [Role.AUDITOR], "username"),
        ("has space", PASSWORD, [Role.AUDITOR], "username"),
        ("ok-name", "short", [Role.AUDITOR], "password"),
        ("ok-name", PASSWORD, [], "roles"),
    ],
)
def test_invalid_users_name_the_field(
    ctx: AppContext, username: str, password: str, roles: list[Role], field: str
) -> None:
    with pytest.raises(ValidationFailed) as err, ctx.unit() as unit:
        create_user(unit, username=username, password=password, roles=roles, actor="t")
    assert err.value.details[0]["field"] == field


def test_duplicate_username_is_a_conflict_and_nothing_is_written(ctx: AppContext) -> None:
    with ctx.unit() as unit:
        create_user(unit, username="dup", password=PASSWORD, roles=[Role.AUDITOR], actor="t")
    with pytest.raises(Conflict), ctx.unit() as unit:
        create_user(unit, username="DUP", password=PASSWORD, roles=[Role.AUDITOR], actor="t")


def test_roles_change_and_disable(ctx: AppContext, events: list[Event]) -> None:
    with ctx.unit() as unit:
        create_user(unit, username="omar", password=PASSWORD, roles=[Role.AUDITOR], actor="t")
    with ctx.unit() as unit:
        set_roles(unit, "omar", [Role.IMAGE_ANALYST, Role.AUDITOR], actor="admin")
        set_disabled(unit, "omar", True, actor="admin")
    assert isinstance(events[1], RoleChanged)
    assert events[1].before == ("auditor",) and events[1].after == ("auditor", "image_analyst")
    assert isinstance(events[2], UserDisabled) and events[2].actor == "admin"
    with ctx.db.session() as session:
        assert get_user(session, "omar").disabled


def test_unknown_role_and_user(ctx: AppContext) -> None:
    with pytest.raises(ValidationFailed, match="unknown role 'wizard'"):
        parse_roles(["auditor,wizard"])
    assert parse_roles(["risk-analyst", "auditor"]) == {Role.RISK_ANALYST, Role.AUDITOR}
    with pytest.raises(NotFound), ctx.db.session() as session:
        get_user(session, "ghost")


def test_events_are_published_only_after_commit(ctx: AppContext, events: list[Event]) -> None:
    with pytest.raises(RuntimeError), ctx.unit() as unit:
        create_user(unit, username="ghost", password=PASSWORD, roles=[Role.AUDITOR], actor="t")
        raise RuntimeError("rolled back")
    assert events == []
    with pytest.raises(NotFound), ctx.db.session() as session:
        get_user(session, "ghost")
