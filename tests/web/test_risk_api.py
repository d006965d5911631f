"""The risk engine's HTTP API: lanes with reasons in one round trip, examination results,
rules with four eyes, models and hit rates."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.risk import registry
from smartcustoms.risk.training import train_from_store
from tests.declarations.helpers import declaration, item
from tests.risk.history import kcs_slice, load_history
from tests.web.conftest import bearer


def test_lodging_answers_with_lane_and_reasons(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], tmp_path: Path
) -> None:
    load_history(ctx, kcs_slice(tmp_path, 0, 1200))
    with ctx.unit() as unit:
        version = train_from_store(unit, actor="analyst").version
    analyst = bearer(role_tokens[Role.RISK_ANALYST])
    assert client.post(f"/api/risk/models/{version}/activate", headers=analyst).status_code == 200
    registry.forget_active(ctx.db)

    response = client.post(
        "/api/declarations", headers=bearer(role_tokens[Role.DECLARANT]), json=declaration()
    )
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["lane"] in ("green", "blue", "yellow", "scan", "red")
    assert receipt["model_version"] == version
    assert 0 <= receipt["score"] <= 1
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    decision = client.get(f"/api/declarations/{receipt['id']}/decision", headers=officer).json()
    assert decision["lane"] == receipt["lane"]
    assert decision["reasons"] == receipt["reasons"]

    result = client.post(
        f"/api/declarations/{receipt['id']}/inspection",
        headers=officer,
        json={"irregular": True, "codes": ["undervaluation"], "revenue_raised": "300.25"},
    )
    assert result.status_code == 201, result.text
    assert result.json()["revenue_raised"] == "300.25"
    again = client.post(
        f"/api/declarations/{receipt['id']}/inspection", headers=officer, json={"irregular": False}
    )
    assert again.status_code == 409
    rates = client.get("/api/risk/hit-rates", headers=analyst).json()
    lane_rate = next(r for r in rates if r["group"] == f"lane:{receipt['lane']}")
    assert (lane_rate["inspected"], lane_rate["irregular"]) == (1, 1)
    assert next(r for r in rates if r["group"] == f"model:{version}")["revenue"] == "300.25"
    kpis = client.get("/api/risk/kpis", headers=analyst).json()
    assert kpis["weekly"][-1]["inspected"] == 1
    assert kpis["detection"]["irregular_found"] == 1
    assert kpis["detection"]["rate"] is None  # too few random-control examinations to estimate
    models = client.get("/api/risk/models", headers=analyst).json()
    assert models[0]["active"]
    assert "holdout" in models[0]["card"]["evaluation"]
    assert models[0]["card"]["evaluation"]["holdout_curve"][0]["rate"] == 0.01


def test_bad_examination_results(client: TestClient, role_tokens: dict[Role, str]) -> None:
    lodged = client.post(
        "/api/declarations", headers=bearer(role_tokens[Role.DECLARANT]), json=item(0)
    ).json()
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    url = f"/api/declarations/{lodged['id']}/inspection"
    cases = [
        ({"irregular": True, "codes": ["smuggling"]}, 422, "codes"),
        ({"irregular": True}, 422, "codes"),
        ({"irregular": False, "seizure": True}, 422, "irregular"),
        ({"irregular": False, "revenue_raised": "-5"}, 422, "revenue_raised"),
        ({"irregular": False, "revenue_raised": "NaN"}, 422, "revenue_raised"),
        ({"irregular": False, "colour": 1}, 422, "colour"),
    ]
    for body, code, field in cases:
        response = client.post(url, headers=officer, json=body)
        assert response.status_code == code, (body, response.text)
        assert response.json()["error"]["details"][0]["field"] == field
    assert client.post("/api/declarations/99999/inspection", headers=officer,
                       json={"irregular": False}).status_code == 404  # fmt: skip


def test_rules_need_a_second_person(client: TestClient, role_tokens: dict[Role, str]) -> None:
    analyst = bearer(role_tokens[Role.RISK_ANALYST])
    bad = client.post(
        "/api/risk/rules",
        headers=analyst,
        json={"name": "x", "expression": 'hs6 startswith "85" and', "lane": "red", "reason": "r"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["column"] > 0
    made = client.post(
        "/api/risk/rules",
        headers=analyst,
        json={
            "name": "inverters",
            "expression": 'hs6 = "850440" and origin = "CN"',
            "lane": "yellow",
            "reason": "Check the test certificate",
        },
    )
    assert made.status_code == 201, made.text
    version_id = made.json()["id"]
    supervisor = bearer(role_tokens[Role.SUPERVISOR])
    approved = client.post(
        f"/api/risk/rules/versions/{version_id}/review",
        headers=supervisor,
        json={"approve": True},
    )
    assert approved.json()["status"] == "approved"
    lodged = client.post(
        "/api/declarations", headers=bearer(role_tokens[Role.DECLARANT]), json=declaration()
    ).json()
    assert lodged["lane"] in ("yellow", "red")
    assert any(r.get("rule") == "inverters@1" for r in lodged["reasons"])
