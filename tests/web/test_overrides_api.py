"""Lane overrides over HTTP: who may propose, approve, reject and withdraw; four eyes even for
someone holding both roles; CSRF on session requests; hit rates and selection rates split by
original and final lane."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from tests.conftest import PASSWORD, login
from tests.declarations.helpers import declaration
from tests.web.conftest import bearer


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No random control: with no model, every declaration is decided green."""
    return settings.model_copy(
        update={"risk_random_control_share": 0.0, "risk_exploration_share": 0.0}
    )


def lodge(client: TestClient, tokens: dict[Role, str], lrn: str = "LRN-0001") -> int:
    response = client.post(
        "/api/declarations", headers=bearer(tokens[Role.DECLARANT]), json=declaration(lrn=lrn)
    )
    assert response.status_code == 201, response.text
    assert response.json()["lane"] == "green"
    return int(response.json()["id"])


def propose(client: TestClient, headers: dict[str, str], declaration_id: int, **body: Any) -> Any:
    return client.post(
        f"/api/declarations/{declaration_id}/overrides",
        headers=headers,
        json={"lane": "red", "reason": "Tip-off from the port", **body},
    )


def test_propose_approve_examine_and_count_apart(
    client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declaration_id = lodge(client, role_tokens)
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    supervisor = bearer(role_tokens[Role.SUPERVISOR])
    analyst = bearer(role_tokens[Role.RISK_ANALYST])

    made = propose(client, officer, declaration_id)
    assert made.status_code == 201, made.text
    override = made.json()
    assert (override["status"], override["from_lane"], override["to_lane"]) == (
        "proposed", "green", "red",
    )  # fmt: skip
    assert propose(client, analyst, declaration_id).status_code == 409  # one open at a time
    queue = client.get("/api/risk/overrides", headers=supervisor).json()
    assert [o["id"] for o in queue] == [override["id"]]
    decision = client.get(f"/api/declarations/{declaration_id}/decision", headers=officer).json()
    assert (decision["lane"], decision["overridden"]) == ("green", False)

    # The proposer cannot approve, an officer cannot, a supervisor can.
    approve = f"/api/risk/overrides/{override['id']}/approve"
    assert client.post(approve, headers=officer, json={}).status_code == 403
    assert client.post(approve, headers=analyst, json={}).status_code == 403
    done = client.post(approve, headers=supervisor, json={"note": "agreed"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["decided_by"]) == ("approved", "supervisor")
    decision = client.get(f"/api/declarations/{declaration_id}/decision", headers=officer).json()
    assert (decision["lane"], decision["original_lane"], decision["overridden"]) == (
        "red", "green", True,
    )  # fmt: skip

    # What the customs system is told, and a replay of the lodging, carry the final lane.
    answer = client.get(
        f"/api/declarations/{declaration_id}/response?format=wcoxml", headers=officer
    )
    assert answer.status_code == 200, answer.text
    assert "<NameCode>red</NameCode>" in answer.text.replace(" ", "")
    replay = client.post(
        "/api/declarations", headers=bearer(role_tokens[Role.DECLARANT]), json=declaration()
    )
    assert replay.json()["lane"] == "red"

    result = client.post(
        f"/api/declarations/{declaration_id}/inspection",
        headers=officer,
        json={"irregular": True, "codes": ["undeclared"]},
    )
    assert result.status_code == 201, result.text
    rates = {r["group"]: r for r in client.get("/api/risk/hit-rates", headers=analyst).json()}
    assert rates["lane:green"]["irregular"] == rates["final_lane:red"]["irregular"] == 1
    report = client.get("/api/risk/selectivity?days=7", headers=analyst).json()
    lanes = {h["lane"]: h for h in report["hit_rates"]}
    assert lanes["green"]["original"] == {"inspected": 1, "irregular": 1, "rate": 1.0}
    assert lanes["green"]["final"]["inspected"] == 0
    assert lanes["red"]["final"] == {"inspected": 1, "irregular": 1, "rate": 1.0}
    every = report["offices"][0]
    assert (every["office"], every["declarations"]) == ("*", 1)
    red = next(r for r in every["lanes"] if r["lane"] == "red")
    assert (red["final_share"], red["original_share"], red["expected_from"]) == (
        1.0, 0.0, "engine settings",
    )  # fmt: skip
    history = client.get(f"/api/declarations/{declaration_id}/overrides", headers=officer).json()
    assert [h["status"] for h in history] == ["approved"]
    # Examined: settled.
    again = propose(client, officer, declaration_id, lane="green")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_examined")


def test_two_roles_at_once_cannot_approve_their_own(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    with ctx.unit() as unit:
        create_user(
            unit,
            username="pat",
            password=PASSWORD,
            roles=[Role.EXAMINING_OFFICER, Role.SUPERVISOR],
            actor="test",
        )
        both = create_token(
            unit, get_user(unit.session, "pat"), name="t", days=1, max_days=10, actor="test"
        ).secret
    declaration_id = lodge(client, role_tokens)
    made = propose(client, bearer(both), declaration_id).json()
    refused = client.post(
        f"/api/risk/overrides/{made['id']}/approve", headers=bearer(both), json={}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "four_eyes")
    refused = client.post(f"/api/risk/overrides/{made['id']}/reject", headers=bearer(both), json={})
    assert refused.status_code == 403
    # Someone else may; and the proposer may withdraw while it is open.
    rejected = client.post(
        f"/api/risk/overrides/{made['id']}/reject",
        headers=bearer(role_tokens[Role.SUPERVISOR]),
        json={"note": "no grounds"},
    )
    assert rejected.json()["status"] == "rejected"
    second = propose(client, bearer(both), declaration_id, lane="yellow").json()
    other = client.post(
        f"/api/risk/overrides/{second['id']}/withdraw",
        headers=bearer(role_tokens[Role.RISK_ANALYST]),
    )
    assert other.status_code == 403  # not the proposer
    mine = client.post(f"/api/risk/overrides/{second['id']}/withdraw", headers=bearer(both))
    assert mine.json()["status"] == "withdrawn"


def test_other_roles_and_bad_input(client: TestClient, role_tokens: dict[Role, str]) -> None:
    declaration_id = lodge(client, role_tokens)
    for role in (Role.SUPERVISOR, Role.DECLARANT, Role.AUDITOR, Role.IMAGE_ANALYST):
        response = propose(client, bearer(role_tokens[role]), declaration_id)
        assert response.status_code == 403, role
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    cases = [
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"lane": "purple"}, "lane"),
        ({"lane": "green"}, "lane"),  # already green
        ({"colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = propose(client, officer, declaration_id, **body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["details"][0]["field"] == field, body
    assert propose(client, officer, 99_999).status_code == 404
    supervisor = bearer(role_tokens[Role.SUPERVISOR])
    missing = client.post("/api/risk/overrides/99999/approve", headers=supervisor, json={})
    assert missing.status_code == 404


def test_session_requests_need_the_csrf_token(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declaration_id = lodge(client, role_tokens)
    csrf = login(client, "examining-officer")
    url = f"/api/declarations/{declaration_id}/overrides"
    body = {"lane": "red", "reason": "Tip-off"}
    assert client.post(url, json=body).status_code == 403
    assert client.post(url, json=body, headers={"X-CSRF-Token": csrf}).status_code == 201


def test_expected_rates(client: TestClient, role_tokens: dict[Role, str]) -> None:
    lodge(client, role_tokens)
    supervisor = bearer(role_tokens[Role.SUPERVISOR])
    put = client.put(
        "/api/risk/expected-rates",
        headers=supervisor,
        json={"office": "KEMBA", "lane": "red", "share": "0.08"},
    )
    assert put.status_code == 200, put.text
    too_much = client.put(
        "/api/risk/expected-rates",
        headers=supervisor,
        json={"office": "KEMBA", "lane": "green", "share": "0.95"},
    )
    assert too_much.status_code == 422
    assert too_much.json()["error"]["details"][0]["field"] == "share"
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    refused = client.put(
        "/api/risk/expected-rates", headers=officer, json={"lane": "red", "share": "0.1"}
    )
    assert refused.status_code == 403
    report = client.get("/api/risk/selectivity", headers=supervisor).json()
    office = next(o for o in report["offices"] if o["office"] == "KEMBA")
    red = next(r for r in office["lanes"] if r["lane"] == "red")
    assert (red["expected_share"], red["expected_from"], red["final_share"]) == (
        0.08, "office", 0.0,
    )  # fmt: skip
    assert red["gap"] == -0.08
    gone = client.delete("/api/risk/expected-rates/KEMBA/red", headers=supervisor)
    assert gone.status_code == 204
    assert client.get("/api/risk/expected-rates", headers=supervisor).json() == []
