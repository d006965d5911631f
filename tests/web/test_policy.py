"""Deny by default: every route but the listed public ones refuses anonymous callers and every
role it does not name. The test walks the routes the application really serves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.service import ledger_of
from smartcustoms.web.app import create_app
from smartcustoms.web.policy import (
    PUBLIC_ROUTES,
    SETTING_PUBLIC_ROUTES,
    check_policies,
    public_routes,
    routes_of,
)
from tests.web.conftest import bearer


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def protected_routes(app: FastAPI) -> list[tuple[str, str, frozenset[Role]]]:
    found = []
    for route in routes_of(app):
        if route.kind != "api" or route.public:
            continue
        assert route.roles, f"{route.path} has no roles"
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, route.path, route.roles))
    return found


def test_public_routes_are_exactly_the_listed_ones(app: FastAPI) -> None:
    public = {
        (m, r.path) for r in routes_of(app) if r.public and r.kind == "api" for m in r.methods
    }
    assert public - {("HEAD", "/health"), ("HEAD", "/login")} == set(PUBLIC_ROUTES)
    assert {
        ("GET", "/health"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/ledger/witness/add-checkpoint"),  # the checkpoint's signature authenticates
        ("POST", "/federation/v1/messages"),  # a partner's RFC 9421 signature authenticates
    } == PUBLIC_ROUTES


def test_a_setting_makes_its_group_public_and_only_it(
    settings: Settings, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    """With ledger_public off, its group keeps its roles; on, exactly that group opens."""
    group = SETTING_PUBLIC_ROUTES["ledger_public"]
    assert not settings.ledger_public
    assert public_routes(settings) == PUBLIC_ROUTES
    for _, path in group:
        anonymous = client.get(concrete(path).replace("/x", "/0"))
        assert anonymous.status_code == 401, path
    opened = settings.model_copy(update={"ledger_public": True})
    assert public_routes(opened) == PUBLIC_ROUTES | group
    ctx = AppContext.from_settings(opened)
    try:
        public_app = create_app(ctx)
        public = {
            (m, r.path)
            for r in routes_of(public_app)
            if r.public and r.kind == "api"
            for m in r.methods
        }
        assert public - {("HEAD", "/health"), ("HEAD", "/login")} == PUBLIC_ROUTES | group
        with TestClient(public_app) as anonymous_client:
            # Creating the users above was recorded and signed: anyone may now read that.
            assert ledger_of(ctx).wait_covered(0, 10)
            served = anonymous_client.get("/ledger/checkpoint")
            assert served.status_code == 200
            assert served.text.startswith(settings.ledger_origin + "\n")
            # Only that group: the JSON view of the same checkpoint still needs a role.
            assert anonymous_client.get("/api/ledger/checkpoint").status_code == 401
    finally:
        ctx.close()


def test_a_switchable_route_without_roles_stops_the_application(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/ledger/checkpoint-copy")
    def copy() -> dict[str, Any]:
        return {}

    app.include_router(router)
    SETTING_PUBLIC_ROUTES["test_flag"] = frozenset({("GET", "/ledger/checkpoint-copy")})
    try:
        with pytest.raises(RuntimeError, match="/ledger/checkpoint-copy"):
            check_policies(app)
    finally:
        del SETTING_PUBLIC_ROUTES["test_flag"]


def test_every_protected_route_refuses_anonymous_and_unlisted_roles(
    app: FastAPI, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    routes = protected_routes(app)
    assert len(routes) >= 15
    for method, path, allowed in routes:
        url = concrete(path)
        anonymous = client.request(method, url, headers={"accept": "application/json"})
        assert anonymous.status_code == 401, (method, path, anonymous.status_code)
        assert anonymous.json()["error"]["code"] == "unauthenticated"
        for role in set(Role) - allowed:
            denied = client.request(method, url, headers=bearer(role_tokens[role]))
            assert denied.status_code == 403, (method, path, role, denied.status_code)
            assert denied.json()["error"]["code"] == "forbidden"


def test_allowed_roles_get_past_the_policy(
    app: FastAPI, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    for method, path, allowed in protected_routes(app):
        role = sorted(allowed)[0]
        response = client.request(method, concrete(path), headers=bearer(role_tokens[role]))
        assert response.status_code not in (401, 403), (method, path, role, response.text)


def test_a_route_without_policy_stops_the_application(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/forgotten")
    def forgotten() -> dict[str, Any]:
        return {}

    app.include_router(router)
    with pytest.raises(RuntimeError, match="/forgotten"):
        check_policies(app)
