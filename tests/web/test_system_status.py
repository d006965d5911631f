"""The system status: every role sees health; only administrators see how many users,
sessions and tokens there are — in the API and on the home page, which shows each role the
work waiting for it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import ALL_ROLES, Role
from tests.conftest import add_user, login
from tests.web.conftest import bearer

HEALTH = {
    "version",
    "database_backend",
    "database_ok",
    "schema_revision",
    "schema_up_to_date",
    "checked_at",
}


def test_other_roles_get_health_only(client: TestClient, role_tokens: dict[Role, str]) -> None:
    for role in ALL_ROLES - {Role.ADMINISTRATOR}:
        answer = client.get("/api/system/status", headers=bearer(role_tokens[role]))
        assert answer.status_code == 200, role
        assert set(answer.json()) == HEALTH, role
        assert answer.json()["database_ok"] is True


def test_administrators_get_the_account_counts(
    client: TestClient, role_tokens: dict[Role, str]
) -> None:
    status = client.get(
        "/api/system/status", headers=bearer(role_tokens[Role.ADMINISTRATOR])
    ).json()
    assert set(status) == HEALTH | {"accounts"}
    assert status["accounts"]["users"] == len(Role)
    assert status["accounts"]["active_users"] == len(Role)
    assert status["accounts"]["api_tokens_active"] == len(Role)
    assert status["accounts"]["web_sessions"] == 0


def test_home_shows_work_not_internal_counts(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    login(client, "officer")
    for path in ("/", "/ui/status"):
        page = client.get(path, headers={"accept": "text/html"})
        assert page.status_code == 200
        assert 'data-testid="status"' in page.text
        assert 'data-testid="status-users"' not in page.text, path
    home = client.get("/", headers={"accept": "text/html"}).text
    for key in ("examinations", "scans_to_examine", "transits_to_arm"):
        assert f'data-work="{key}" data-count="0"' in home
    client.post("/logout", data={"csrf_token": login(client, "officer")})
    login(client, "admin")
    fragment = client.get("/ui/status", headers={"accept": "text/html"}).text
    # Two users, one of them (this administrator) signed in.
    assert 'data-testid="status-users"' in fragment
    assert "2 active of 2" in fragment
