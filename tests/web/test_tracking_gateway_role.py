"""The tracking gateway: the account a Traccar server forwards with. It feeds telemetry and
opens nothing else — no other API route, no page, no traders' data — while a user who holds it
beside another role gets the union of the two."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import Event, LoginFailed
from smartcustoms.core.roles import ALL_ROLES, MACHINE_ROLES, Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.tracking.tables import PositionRow
from smartcustoms.web import scopes
from smartcustoms.web.api.routes.traccar import TELEMETRY_FEEDERS
from smartcustoms.web.auth import SESSION_COOKIE
from smartcustoms.web.i18n import translations
from smartcustoms.web.policy import ANY_ROLE, routes_of
from smartcustoms.web.ui.nav import NAV
from tests.conftest import PASSWORD, login
from tests.web.conftest import bearer

GATEWAY = Role.TRACKING_GATEWAY
FEEDS = {("POST", "/api/tracking/traccar/positions"), ("POST", "/api/tracking/traccar/events")}
SAMPLE = Path(__file__).parents[1] / "tracking" / "data" / "traccar" / "position.json"
DEVICE = "860000000000042"


def add_account(ctx: AppContext, username: str, roles: set[Role]) -> str:
    """A user holding ``roles``; returns a bearer token of theirs."""
    with ctx.unit() as unit:
        create_user(unit, username=username, password=PASSWORD, roles=roles, actor="test")
        user = get_user(unit.session, username)
        return create_token(unit, user, name="traccar", days=1, max_days=10, actor="test").secret


def position(device: str = DEVICE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    data["device"]["uniqueId"] = device
    return data


def stored(ctx: AppContext, device: str = DEVICE) -> int:
    with ctx.db.session() as session:
        count = session.scalar(
            select(func.count()).select_from(PositionRow).where(PositionRow.device_id == device)
        )
    return int(count or 0)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def guarded_routes(app: FastAPI) -> list[tuple[str, frozenset[str], frozenset[Role]]]:
    """Every route that is not public: its path, the methods it serves, its roles."""
    found = []
    for route in routes_of(app):
        if route.public or route.kind == "mount":
            continue
        assert route.roles, route.path  # check_policies guarantees it; say which if not
        found.append((route.path, route.methods, route.roles))
    return found


def test_a_machine_role_outside_any_role_menu_and_data_grant() -> None:
    assert {GATEWAY} == MACHINE_ROLES
    assert GATEWAY not in ALL_ROLES and GATEWAY not in ANY_ROLE
    assert set(Role) == ALL_ROLES | MACHINE_ROLES
    assert {GATEWAY, Role.ADMINISTRATOR} == TELEMETRY_FEEDERS
    assert [item.label for item in NAV if GATEWAY in item.roles] == []
    tables = [v for v in vars(scopes).values() if isinstance(v, scopes.DataAccess)]
    assert len(tables) >= 4  # the declaration and transit tables were found
    assert all(GATEWAY not in access.grants for access in tables)
    assert GATEWAY.label == "Tracking gateway"
    assert translations("fr").gettext(GATEWAY.label) == "Passerelle de suivi"
    assert translations("fr").gettext(GATEWAY.summary) != GATEWAY.summary


def test_only_the_telemetry_feeds_name_the_gateway(app: FastAPI) -> None:
    named = {
        (method, path)
        for path, methods, roles in guarded_routes(app)
        if GATEWAY in roles
        for method in methods
    }
    assert named == FEEDS


def test_a_gateway_token_feeds_a_position_and_is_refused_everywhere_else(
    client: TestClient, ctx: AppContext, app: FastAPI
) -> None:
    header = bearer(add_account(ctx, "traccar", {GATEWAY}))
    answer = client.post("/api/tracking/traccar/positions", json=position(), headers=header)
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] is True and answer.json()["device_id"] == DEVICE
    assert stored(ctx) == 1
    tried = 0
    for path, methods, _roles in guarded_routes(app):
        for method in ("GET", "POST"):
            if (method, path) in FEEDS:
                continue
            response = client.request(method, concrete(path), headers=header)
            tried += 1
            # A method the route serves is refused for the role (403); one it does not serve
            # may be 405 first. Never an answer with content.
            expected = {403} if method in methods else {403, 405}
            assert response.status_code in expected, (method, path, response.status_code)
    assert tried > 100  # the whole application was walked
    assert stored(ctx) == 1  # nothing else wrote a position


def test_a_gateway_cannot_log_in(client: TestClient, ctx: AppContext, events: list[Event]) -> None:
    # A machine account calls its API with a token; even its right password opens no session.
    add_account(ctx, "traccar", {GATEWAY})
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = client.post(
        "/login",
        data={"username": "traccar", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code != 303
    assert SESSION_COOKIE not in client.cookies
    refused = [e for e in events if isinstance(e, LoginFailed)]
    assert [e.reason for e in refused] == ["machine_account"]
    for path in ("/", "/tokens", "/tracking", "/api/me"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (303, 401), (path, response.status_code)  # to /login
    # With another role beside it, the account is a person's and logs in.
    add_account(ctx, "gateway-auditor", {GATEWAY, Role.AUDITOR})
    login(client, "gateway-auditor")


def test_a_gateway_with_another_role_gets_the_union(client: TestClient, ctx: AppContext) -> None:
    both = bearer(add_account(ctx, "gateway-auditor", {GATEWAY, Role.AUDITOR}))
    answer = client.post("/api/tracking/traccar/positions", json=position(), headers=both)
    assert answer.status_code == 200, answer.text
    assert stored(ctx) == 1
    assert client.get("/api/me", headers=both).json()["username"] == "gateway-auditor"
    assert client.get("/", headers=both).status_code == 200  # the auditor's pages
    # What neither role grants stays closed: the auditor changes nothing, the gateway too.
    device = {"device_id": "SEAL-9", "kind": "e-seal"}
    assert client.post("/api/tracking/devices", json=device, headers=both).status_code == 403
    auditor = bearer(add_account(ctx, "auditor", {Role.AUDITOR}))
    refused = client.post("/api/tracking/traccar/positions", json=position(), headers=auditor)
    assert refused.status_code == 403  # the feed came from the gateway role, not the auditor's
