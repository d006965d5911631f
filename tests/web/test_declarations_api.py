"""POST /api/declarations: one or a batch, all or nothing, idempotent, errors name the field."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from smartcustoms.core.roles import Role
from tests.declarations.helpers import declaration, item
from tests.web.conftest import bearer


def test_lodge_read_and_lodge_again(client: TestClient, role_tokens: dict[Role, str]) -> None:
    declarant = bearer(role_tokens[Role.DECLARANT])
    first = client.post("/api/declarations", headers=declarant, json=declaration())
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert receipt["created"] is True
    again = client.post("/api/declarations", headers=declarant, json=declaration())
    assert again.status_code == 200
    assert again.json() == {**receipt, "created": False}
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    read = client.get(f"/api/declarations/{receipt['id']}", headers=officer).json()
    assert read["declaration"]["items"][0]["customs_value"] == {
        "value": "12500.00",
        "currency": "USD",
    }
    assert read["hs_edition"] == "HS2022"


def test_batch_is_all_or_nothing(client: TestClient, role_tokens: dict[Role, str]) -> None:
    declarant = bearer(role_tokens[Role.DECLARANT])
    bad = item(0, hs_code="770000")
    bad["lrn"] = "B2"
    response = client.post(
        "/api/declarations",
        headers=declarant,
        json={"declarations": [declaration(lrn="B1"), bad]},
    )
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail == {
        "where": "declarations[1]",
        "field": "items[0].hs_code",
        "problem": "HS chapter 77 does not exist",
    }
    ok = client.post(
        "/api/declarations",
        headers=declarant,
        json={"declarations": [declaration(lrn="B1"), declaration(lrn="B3")]},
    )
    assert ok.status_code == 201
    assert [r["lrn"] for r in ok.json()] == ["B1", "B3"]


def test_bad_bodies(client: TestClient, role_tokens: dict[Role, str]) -> None:
    declarant = bearer(role_tokens[Role.DECLARANT])
    for body in ([1, 2], "text", {"declarations": [3]}):
        response = client.post("/api/declarations", headers=declarant, json=body)
        assert response.status_code == 422, body
    broken = client.post("/api/declarations", headers=declarant, content=b'{"lrn": ')
    assert broken.status_code == 422
    limit = client.app.state.ctx.settings.max_upload_bytes  # type: ignore[attr-defined]
    huge = client.post("/api/declarations", headers=declarant, content=b" " * (limit + 1))
    assert huge.status_code == 413
    assert client.get("/health").status_code == 200  # and the service carries on


def test_a_100_mb_upload_without_a_length_is_refused(
    client: TestClient, role_tokens: dict[Role, str]
) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:  # streamed: no Content-Length to refuse it up front
        nonlocal sent
        for _ in range(100):
            sent += 1
            yield b"[" + b" " * (1024 * 1024 - 1)

    huge = client.post(
        "/api/declarations", headers=bearer(role_tokens[Role.DECLARANT]), content=chunks()
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "payload_too_large"
    assert client.get("/health").status_code == 200


def test_declarants_see_only_their_own(client: TestClient, role_tokens: dict[Role, str]) -> None:
    """Their own: declarations of the traders they act for (BRK001), whoever lodged them."""
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    declarant = bearer(role_tokens[Role.DECLARANT])
    theirs = client.post(
        "/api/declarations",
        headers=admin,
        json=declaration(lrn="ADM1", declarant={"id": "BRK999"}),
    ).json()
    other = client.get(f"/api/declarations/{theirs['id']}", headers=declarant)
    assert other.status_code == 403
    assert other.json()["error"]["details"][0]["field"] == "declarant.id"
    assert "BRK999" not in other.text  # a refused read does not say whose it is
    mine = client.post("/api/declarations", headers=admin, json=declaration(lrn="ADM2")).json()
    assert client.get(f"/api/declarations/{mine['id']}", headers=declarant).status_code == 200


def test_schema_endpoint(client: TestClient, role_tokens: dict[Role, str]) -> None:
    schema = client.get(
        "/api/declarations/schema", headers=bearer(role_tokens[Role.RISK_ANALYST])
    ).json()
    assert schema["properties"]["office_of_declaration"]["x-wco-id"] == "065"
