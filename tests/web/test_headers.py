"""Security headers on every response; HSTS only over HTTPS; nothing a logged-in user sees is
stored by a browser or proxy cache."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.service import ledger_of
from smartcustoms.web.app import create_app
from smartcustoms.web.policy import routes_of
from tests.conftest import add_user, login
from tests.waiting import wait_for


def test_headers_on_pages_and_api(client: TestClient) -> None:
    for path in ("/login", "/health", "/api/me", "/static/css/app.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers


def test_hsts_behind_tls(app: FastAPI) -> None:
    with TestClient(app, base_url="https://customs.example") as tls:
        assert tls.get("/health").headers["strict-transport-security"].startswith("max-age=")


def test_authenticated_answers_are_never_stored(
    ctx: AppContext, app: FastAPI, client: TestClient
) -> None:
    """Every answer to a logged-in user (pages, API, errors, even a route that set its own
    caching) is no-store; static files stay cacheable."""
    add_user(ctx, "all", *Role)
    login(client, "all")
    checked = 0
    for route in routes_of(app):
        if route.kind != "api" or "GET" not in route.methods:
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for accept in ("text/html", "application/json"):
            response = client.get(path, headers={"accept": accept})
            assert response.headers.get("cache-control") == "no-store", (path, response.headers)
            checked += 1
    assert checked > 40
    # The checkpoint route says "no-cache" itself: for a logged-in reader it is no-store too.
    assert ledger_of(ctx).wait_covered(0, 10)
    wait_for(
        lambda: client.get("/ledger/checkpoint").status_code != 404, message="no checkpoint signed"
    )
    checkpoint = client.get("/ledger/checkpoint")
    assert checkpoint.status_code == 200
    assert checkpoint.headers["cache-control"] == "no-store"
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


def test_anonymous_answers_keep_a_policy_their_route_set(
    settings: Settings, client: TestClient
) -> None:
    assert client.get("/login").headers["cache-control"] == "no-store"
    assert client.get("/api/me").headers["cache-control"] == "no-store"  # a 401
    assert "no-store" not in client.get("/static/css/app.css").headers.get("cache-control", "")
    # A public ledger's checkpoint, anonymously: the route's own policy.
    ctx = AppContext.from_settings(settings.model_copy(update={"ledger_public": True}))
    try:
        public_app = create_app(ctx)
        add_user(ctx, "someone", Role.AUDITOR)  # recorded: the ledger gets a checkpoint
        assert ledger_of(ctx).wait_covered(0, 10)
        with TestClient(public_app) as anonymous:
            wait_for(
                lambda: anonymous.get("/ledger/checkpoint").status_code != 404,
                message="no checkpoint signed",
            )
            checkpoint = anonymous.get("/ledger/checkpoint")
            assert checkpoint.headers["cache-control"] == "no-cache"
    finally:
        ctx.close()
