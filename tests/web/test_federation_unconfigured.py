"""An instance whose administrator has not set up federation says so with a 409 naming the
setting, on the partners' inbox and on its own card: nothing is down, so it is not a 503."""

from __future__ import annotations

from fastapi.testclient import TestClient

from smartcustoms.core.roles import Role
from tests.web.conftest import bearer


def test_unconfigured_federation_is_a_conflict_naming_the_setting(
    client: TestClient, role_tokens: dict[Role, str]
) -> None:
    inbox = client.post("/federation/v1/messages", content=b"{}")
    card = client.get("/api/partners/card", headers=bearer(role_tokens[Role.ADMINISTRATOR]))
    for answer in (inbox, card):
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert error["code"] == "federation_not_configured"
        assert error["details"][0]["setting"].startswith("SMARTCUSTOMS_FEDERATION_")
