"""Users and roles: creation rules, role changes, disabling, events naming the actor."""

from __future__ import annotations

import threading
import time

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.events import AdminAction, Event, RoleChanged, UserCreated, UserDisabled
from smartcustoms.core.passwords import verify_password
from smartcustoms.core.roles import Role
from smartcustoms.core.users import (
    create_user,
    enabled_administrators,
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


def _admins(ctx: AppContext, *names: str) -> None:
    with ctx.unit() as unit:
        for name in names:
            create_user(
                unit, username=name, password=PASSWORD, roles=[Role.ADMINISTRATOR], actor="t"
            )


def test_the_last_enabled_administrator_stays(ctx: AppContext) -> None:
    _admins(ctx, "root")
    with pytest.raises(Conflict) as err, ctx.unit() as unit:
        set_roles(unit, "root", [Role.AUDITOR], actor="cli:ops")
    assert err.value.code == "last_administrator" and err.value.status_code == 409
    assert err.value.details[0] == {
        "field": "roles",
        "username": "root",
        "problem": "last administrator",
    }
    with pytest.raises(Conflict, match="root is the last enabled"), ctx.unit() as unit:
        set_disabled(unit, "root", True, actor="cli:ops")
    # Another role beside it is fine; so is demoting one of two.
    with ctx.unit() as unit:
        set_roles(unit, "root", [Role.ADMINISTRATOR, Role.AUDITOR], actor="cli:ops")
    _admins(ctx, "ada")
    with ctx.unit() as unit:
        set_disabled(unit, "root", True, actor="cli:ops")
    # A disabled administrator does not count: ada is now the last one.
    with pytest.raises(Conflict), ctx.unit() as unit:
        set_roles(unit, "ada", [Role.AUDITOR], actor="cli:ops")
    with ctx.unit() as unit:
        set_disabled(unit, "root", False, actor="cli:ops")
        set_roles(unit, "ada", [Role.AUDITOR], actor="cli:ops")
    with ctx.db.session() as session:
        assert get_user(session, "ada").roles == {"auditor"}


def test_demoting_oneself_needs_saying_so_and_is_recorded(
    ctx: AppContext, events: list[Event]
) -> None:
    _admins(ctx, "root", "ada")
    with pytest.raises(Conflict) as err, ctx.unit() as unit:
        set_roles(unit, "ada", [Role.AUDITOR], actor="ada")
    assert err.value.code == "self_demotion"
    assert {d["field"] for d in err.value.details} == {"roles", "allow_self_demotion"}
    with pytest.raises(Conflict, match="your own administrator rights"), ctx.unit() as unit:
        set_disabled(unit, "ada", True, actor="ada")
    with ctx.db.session() as session:
        assert get_user(session, "ada").roles == {"administrator"}
    with ctx.unit() as unit:
        set_roles(unit, "ada", [Role.AUDITOR], actor="ada", allow_self_demotion=True)
    recorded = [e for e in events if isinstance(e, AdminAction)]
    assert [(e.actor, e.action, e.target) for e in recorded] == [
        ("ada", "administrator_self_demotion", "ada")
    ]
    assert isinstance(events[-1], RoleChanged) and events[-1].after == ("auditor",)
    # Even saying so, the last administrator stays one.
    with pytest.raises(Conflict) as last, ctx.unit() as unit:
        set_roles(unit, "root", [Role.AUDITOR], actor="root", allow_self_demotion=True)
    assert last.value.code == "last_administrator"


def test_two_administrators_disabled_at_once_leave_one(ctx: AppContext) -> None:
    """Each request sees the other administrator still enabled unless the check waits for the
    other's commit: the administrators' rows are locked while it decides."""
    _admins(ctx, "root", "ada")
    first_done = threading.Event()
    results: dict[str, str] = {}

    def disable(name: str, wait: threading.Event | None) -> None:
        if wait is not None:
            wait.wait(10)
        try:
            with ctx.unit() as unit:
                set_disabled(unit, name, True, actor="t")
                first_done.set()
                time.sleep(0.5)  # the other request runs its check now
            results[name] = "disabled"
        except Conflict:
            results[name] = "refused"
        finally:
            first_done.set()

    threads = [
        threading.Thread(target=disable, args=("root", None)),
        threading.Thread(target=disable, args=("ada", first_done)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"root": "disabled", "ada": "refused"}
    with ctx.db.session() as session:
        assert enabled_administrators(session) == {get_user(session, "ada").id}
