"""The foundation's JSON API: identity, status, users (administrators) and tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import AdminAction, Event, RoleChanged, TokenCreated, UserCreated
from smartcustoms.core.roles import Role
from tests.web.conftest import bearer


def test_me_and_status(client: TestClient, role_tokens: dict[Role, str]) -> None:
    me = client.get("/api/me", headers=bearer(role_tokens[Role.IMAGE_ANALYST])).json()
    assert me == {
        "username": "image-analyst",
        "display_name": "image-analyst",
        "roles": ["image_analyst"],
        "via": "token",
        "language": None,
    }
    status = client.get("/api/system/status", headers=bearer(role_tokens[Role.AUDITOR])).json()
    assert status["database_ok"] and status["schema_up_to_date"]
    assert "accounts" not in status  # the counts are for administrators (test_system_status)
    assert client.get("/health").json() == {"status": "ok"}


def test_admin_manages_users(
    client: TestClient, role_tokens: dict[Role, str], events: list[Event]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    created = client.post(
        "/api/users",
        headers=admin,
        json={"username": "wanjiru", "password": "a long password", "roles": ["risk_analyst"]},
    )
    assert created.status_code == 201, created.text
    again = client.post(
        "/api/users",
        headers=admin,
        json={"username": "wanjiru", "password": "a long password", "roles": ["auditor"]},
    )
    assert again.status_code == 409
    changed = client.patch(
        "/api/users/wanjiru", headers=admin, json={"roles": ["risk_analyst", "supervisor"]}
    )
    assert changed.json()["roles"] == ["risk_analyst", "supervisor"]
    assert client.patch("/api/users/wanjiru", headers=admin, json={"disabled": True}).json()[
        "disabled"
    ]
    listed = client.get("/api/users", headers=bearer(role_tokens[Role.AUDITOR])).json()
    assert "wanjiru" in {u["username"] for u in listed}
    assert all("password" not in str(u) for u in listed)
    kinds = [type(e) for e in events]
    assert UserCreated in kinds and RoleChanged in kinds
    assert next(e for e in events if isinstance(e, UserCreated)).actor == "administrator"


def test_tokens_are_shown_once_and_revocable(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], events: list[Event]
) -> None:
    mine = bearer(role_tokens[Role.DECLARANT])
    created = client.post("/api/tokens", headers=mine, json={"name": "ASYCUDA", "days": 7})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("sct_")
    listed = client.get("/api/tokens", headers=mine).json()
    assert {t["name"] for t in listed} == {"test", "ASYCUDA"}
    assert "token" not in listed[0]
    assert client.get("/api/me", headers=bearer(token)).status_code == 200
    other = bearer(role_tokens[Role.AUDITOR])
    token_id = created.json()["id"]
    assert client.delete(f"/api/tokens/{token_id}", headers=other).status_code == 404
    assert client.delete(f"/api/tokens/{token_id}", headers=mine).status_code == 200
    refused = client.get("/api/me", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_revoked"
    assert any(isinstance(e, TokenCreated) and e.name == "ASYCUDA" for e in events)


def test_malformed_authorization_headers(client: TestClient) -> None:
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer sct_short", "Bearer " + "x" * 5000):
        response = client.get("/api/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json()["error"]["code"] in ("token_malformed", "token_invalid")


def test_openapi_documents_roles(client: TestClient, role_tokens: dict[Role, str]) -> None:
    assert client.get("/api/openapi.json").status_code == 401
    spec = client.get("/api/openapi.json", headers=bearer(role_tokens[Role.AUDITOR])).json()
    assert spec["paths"]["/api/users"]["post"]["x-required-roles"] == ["administrator"]
    assert spec["paths"]["/health"]["get"]["security"] == []
    docs = client.get("/api/docs", headers=bearer(role_tokens[Role.AUDITOR]))
    assert "swagger-ui-bundle.js" in docs.text
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_metrics_are_role_gated(client: TestClient, role_tokens: dict[Role, str]) -> None:
    client.get("/health")
    assert client.get("/metrics", headers=bearer(role_tokens[Role.DECLARANT])).status_code == 403
    text = client.get("/metrics", headers=bearer(role_tokens[Role.ADMINISTRATOR])).text
    assert 'smartcustoms_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert "smartcustoms_http_request_duration_seconds_bucket" in text


def test_administrators_cannot_be_locked_out(
    client: TestClient, role_tokens: dict[Role, str], events: list[Event]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])  # "administrator", the only one
    last = client.patch("/api/users/administrator", headers=admin, json={"disabled": True})
    assert last.status_code == 409
    error = last.json()["error"]
    assert error["code"] == "last_administrator"
    assert error["details"][0]["username"] == "administrator"
    demoted = client.patch(
        "/api/users/administrator",
        headers=admin,
        json={"roles": ["auditor"], "allow_self_demotion": True},
    )
    assert demoted.status_code == 409 and demoted.json()["error"]["code"] == "last_administrator"
    second = client.post(
        "/api/users",
        headers=admin,
        json={"username": "amani", "password": "a long password", "roles": ["administrator"]},
    )
    assert second.status_code == 201
    # Now not the last; but removing one's own rights must be said explicitly.
    silent = client.patch("/api/users/administrator", headers=admin, json={"roles": ["auditor"]})
    assert silent.status_code == 409
    assert silent.json()["error"]["code"] == "self_demotion"
    assert client.get("/api/users", headers=admin).status_code == 200  # still an administrator
    meant = client.patch(
        "/api/users/administrator",
        headers=admin,
        json={"roles": ["auditor"], "allow_self_demotion": True},
    )
    assert meant.status_code == 200 and meant.json()["roles"] == ["auditor"]
    assert any(
        isinstance(e, AdminAction) and e.action == "administrator_self_demotion" for e in events
    )
    assert client.get("/api/users", headers=admin).status_code == 200  # auditors read users
    assert client.post("/api/users", headers=admin, json={}).status_code == 403
