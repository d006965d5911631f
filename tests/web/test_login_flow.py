"""The web login: CSRF-protected form, session cookie flags, logout, idle timeout, lockout."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.users import set_disabled
from tests.conftest import PASSWORD, add_user, login


def login_token(client: TestClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert match
    return match.group(1)


def test_login_sets_a_hardened_session_cookie(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    token = login_token(client)
    response = client.post(
        "/login",
        data={"username": "ofc", "password": PASSWORD, "csrf_token": token, "next": "/tokens"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/tokens"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("sc_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP in this test; see the production test below
    assert client.get("/api/me").json()["username"] == "ofc"


def test_production_cookies_are_secure(ctx: AppContext, client: TestClient) -> None:
    ctx.settings.production = True
    response = client.get("/login")
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_gives_an_error_and_no_session(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    response = client.post(
        "/login",
        data={"username": "ofc", "password": "not it at all", "csrf_token": login_token(client)},
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert "sc_session" not in client.cookies
    assert client.get("/api/me").status_code == 401


def test_login_without_csrf_token_is_refused(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    client.get("/login")
    for data in ({}, {"csrf_token": "0" * 64}):
        response = client.post("/login", data={"username": "ofc", "password": PASSWORD, **data})
        assert response.status_code == 403
        assert "sc_session" not in client.cookies


def test_forms_after_login_need_the_session_csrf_token(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    csrf = login(client, "ofc")
    refused = client.post("/tokens", data={"name": "cms", "days": "5"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/tokens", data={"name": "cms", "days": "5", "csrf_token": "nope"})
    assert wrong.status_code == 403
    created = client.post("/tokens", data={"name": "cms", "days": "5", "csrf_token": csrf})
    assert created.status_code == 200 and "sct_" in created.text
    via_header = client.post(
        "/api/tokens", json={"name": "cli", "days": 2}, headers={"X-CSRF-Token": csrf}
    )
    assert via_header.status_code == 201


def test_logout_ends_the_session(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    csrf = login(client, "ofc")
    cookie = client.cookies["sc_session"]
    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.set("sc_session", cookie)  # replaying the old cookie does not work
    assert client.get("/api/me").status_code == 401


def test_idle_sessions_expire(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    login(client, "ofc")
    later = clock.now() + timedelta(minutes=ctx.settings.session_idle_minutes + 1)
    clock.set_clock(lambda: later)
    try:
        assert client.get("/api/me").status_code == 401
        page = client.get("/", headers={"accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    finally:
        clock.set_clock(None)


def test_disabled_user_loses_access_at_once(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    login(client, "ofc")
    assert client.get("/api/me").status_code == 200
    with ctx.unit() as unit:
        set_disabled(unit, "ofc", True, actor="admin")
    assert client.get("/api/me").status_code == 401


def test_repeated_failures_lock_the_form(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    for _ in range(ctx.settings.login_max_failures_per_account):
        client.post(
            "/login",
            data={"username": "ofc", "password": "bad guess!", "csrf_token": login_token(client)},
        )
    response = client.post(
        "/login", data={"username": "ofc", "password": PASSWORD, "csrf_token": login_token(client)}
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "sc_session" not in client.cookies


def test_next_cannot_leave_the_site(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        client.cookies.clear()
        response = client.post(
            "/login",
            data={
                "username": "ofc",
                "password": PASSWORD,
                "csrf_token": login_token(client),
                "next": target,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"


def test_navigation_shows_each_role_its_own(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "adm", Role.ADMINISTRATOR)
    add_user(ctx, "ofc", Role.EXAMINING_OFFICER)
    login(client, "ofc")
    page = client.get("/").text
    assert 'href="/tokens"' in page and 'href="/admin/users"' not in page
    client.cookies.clear()
    login(client, "adm")
    assert 'href="/admin/users"' in client.get("/").text
