"""X-Request-ID: the caller's when sane, else a new one; answered, and written into the
administrative ledger records the request makes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from smartcustoms.core.roles import Role
from smartcustoms.ledger.service import ledger_of
from tests.web.conftest import bearer


def test_a_sane_request_id_is_kept_and_answered(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "cms-7f3a:42"})
    assert response.headers["x-request-id"] == "cms-7f3a:42"


def test_an_insane_request_id_is_replaced(client: TestClient) -> None:
    for bad in ("a" * 129, "two words", 'quote"d', "", "semi;colon", "<script>"):
        response = client.get("/health", headers={"X-Request-ID": bad})
        answered = response.headers["x-request-id"]
        assert answered != bad and len(answered) == 32 and answered.isalnum()
    # No header at all: one is made, different each time.
    first, second = (client.get("/health").headers["x-request-id"] for _ in range(2))
    assert first != second


def test_admin_records_in_the_ledger_carry_the_request_id(
    client: TestClient, role_tokens: dict[Role, str]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    response = client.post(
        "/api/users",
        headers={**admin, "X-Request-ID": "ticket-1234"},
        json={"username": "newcomer", "password": "a long enough password", "roles": ["auditor"]},
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "ticket-1234"
    ledger = ledger_of(client.app.state.ctx)  # type: ignore[attr-defined]
    ledger.flush()
    records = [ledger.record(i) for i in range(ledger.size())]
    created = [r for r in records if r["type"] == "admin.user_created"]
    mine = [r for r in created if r.get("username") == "newcomer"]
    assert len(mine) == 1 and mine[0]["request_id"] == "ticket-1234"
    # Made outside any request (the fixture's users, created in code): no request id.
    assert all("request_id" not in r for r in created if r.get("username") != "newcomer")
