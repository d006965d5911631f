"""One error shape for the API, a friendly page for browsers, never a stack trace."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from smartcustoms.core.roles import Role
from smartcustoms.web.policy import ANY_ROLE, requires
from tests.web.conftest import bearer


def assert_error_shape(body: Any, code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], list)


def test_shapes(client: TestClient, role_tokens: dict[Role, str]) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    cases = [
        (client.get("/api/me"), 401, "unauthenticated"),
        (client.get("/api/users", headers=bearer(role_tokens[Role.DECLARANT])), 403, "forbidden"),
        (client.get("/api/users/nobody", headers=admin), 404, "not_found"),
        (client.get("/api/nothing-here", headers=admin), 404, "not_found"),
        (client.put("/api/me", headers=admin), 405, "method_not_allowed"),
        (
            client.post("/api/users", headers=admin, json={"username": "a"}),
            422,
            "validation_failed",
        ),
        (client.post("/api/users", headers=admin, content=b"{nope"), 422, "validation_failed"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert_error_shape(response.json(), code)


def test_unknown_field_is_named(client: TestClient, role_tokens: dict[Role, str]) -> None:
    response = client.post(
        "/api/tokens",
        headers=bearer(role_tokens[Role.AUDITOR]),
        json={"name": "x", "days": 3, "colour": "red"},
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert details == [{"field": "colour", "problem": "unknown field", "type": "extra_forbidden"}]


def test_validation_names_nested_paths(client: TestClient, role_tokens: dict[Role, str]) -> None:
    response = client.post(
        "/api/users",
        headers=bearer(role_tokens[Role.ADMINISTRATOR]),
        json={"username": "new-user", "password": "long enough pw", "roles": ["auditor", "wizard"]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "roles[1]"


def test_oversized_bodies_are_refused(client: TestClient, role_tokens: dict[Role, str]) -> None:
    limit = client.app.state.ctx.settings.max_body_bytes  # type: ignore[attr-defined]
    body = b"x" * (limit + 1)
    declared = client.post("/api/tokens", headers=bearer(role_tokens[Role.AUDITOR]), content=body)
    assert declared.status_code == 413
    assert_error_shape(declared.json(), "payload_too_large")

    def chunks() -> Any:  # no Content-Length: the limit must hold while streaming
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536

    streamed = client.post(
        "/api/tokens", headers=bearer(role_tokens[Role.AUDITOR]), content=chunks()
    )
    assert streamed.status_code == 413


def test_unexpected_errors_hide_the_trace(app: FastAPI, client: TestClient, caplog: Any) -> None:
    router = APIRouter()

    @router.get("/api/boom")
    @requires(ANY_ROLE)
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/app.py line 12")

    app.include_router(router)
    from smartcustoms.web.policy import check_policies

    check_policies(app)
    from tests.conftest import add_user

    ctx = app.state.ctx
    add_user(ctx, "boomer", Role.AUDITOR)
    from smartcustoms.core.tokens import create_token
    from smartcustoms.core.users import get_user

    with ctx.unit() as unit:
        token = create_token(
            unit, get_user(unit.session, "boomer"), name="t", days=1, max_days=2, actor="t"
        ).secret
    response = client.get("/api/boom", headers=bearer(token))
    assert response.status_code == 500
    assert_error_shape(response.json(), "internal_error")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert "secret internals" in caplog.text  # but it is logged for the operator


def test_browsers_get_a_page(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    # A sentence for people in their language; the code stays in the page for support.
    assert "There is nothing here" in response.text
    assert 'data-error-code="not_found"' in response.text


def test_a_database_busy_past_its_timeout_answers_503_and_nothing_is_half_written(
    client: TestClient, role_tokens: dict[Role, str], ctx: Any
) -> None:
    """SQLite has one writer: another process holding the write lock for longer than the
    busy timeout (10 s) is an overload, answered 503 with Retry-After, not an internal error."""
    if not ctx.settings.sqlalchemy_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer lock; PostgreSQL writers do not wait on each other")
    path = ctx.settings.sqlalchemy_url.removeprefix("sqlite:///")
    auditor = bearer(role_tokens[Role.AUDITOR])
    before = client.get("/api/tokens", headers=auditor).json()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process's long write
        busy = client.post("/api/tokens", headers=auditor, json={"name": "busy", "days": 3})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.status_code == 503, busy.text
    assert busy.headers["Retry-After"] == "1"
    assert_error_shape(busy.json(), "database_busy")
    assert client.get("/api/tokens", headers=auditor).json() == before  # nothing half-written
    again = client.post("/api/tokens", headers=auditor, json={"name": "busy", "days": 3})
    assert again.status_code == 201, again.text
