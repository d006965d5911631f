"""Lane overrides against hostile input: ids no column can hold on every new route, reasons
with markup, right-to-left overrides, emoji and NUL, a user holding the proposer's and the
reviewer's role reviewing their own proposal from the queue's form, forms without CSRF."""

from __future__ import annotations

# ruff: noqa: F811 - role_tokens is a fixture imported from tests.web.conftest
import re

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.core.users import create_user
from smartcustoms.risk.tables import LaneDecisionRow, LaneOverrideRow
from tests.conftest import PASSWORD, login
from tests.web.conftest import bearer, role_tokens  # noqa: F401 - a token per role
from tests.web.test_overrides_api import lodge, propose


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No random controls: every lodged declaration is green, so "red" is always a change.
    return settings.model_copy(
        update={"risk_random_control_share": 0.0, "risk_exploration_share": 0.0}
    )


BAD_IDS = ("0", "-1", str(2**31), str(2**63), "1e3", "%00")


def test_ids_no_column_can_hold_are_refused_on_every_new_route(
    client: TestClient, role_tokens: dict[Role, str]
) -> None:
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    supervisor = bearer(role_tokens[Role.SUPERVISOR])
    for bad in BAD_IDS:
        for method, path, headers, body in (
            ("POST", f"/api/declarations/{bad}/overrides", officer, {"lane": "red", "reason": "r"}),
            ("GET", f"/api/declarations/{bad}/overrides", officer, None),
            ("GET", f"/api/declarations/{bad}/decision", officer, None),
            ("POST", f"/api/risk/overrides/{bad}/approve", supervisor, {}),
            ("POST", f"/api/risk/overrides/{bad}/reject", supervisor, {}),
            ("POST", f"/api/risk/overrides/{bad}/withdraw", officer, None),
        ):
            answer = client.request(method, path, headers=headers, json=body)
            assert answer.status_code == 422, (method, path, answer.status_code, answer.text)


def test_ids_out_of_range_on_the_pages(ctx: AppContext, client: TestClient) -> None:
    create_user_with(ctx, "pat", Role.EXAMINING_OFFICER, Role.SUPERVISOR)
    csrf = login(client, "pat")
    for bad in BAD_IDS:
        for path, data in (
            (f"/declarations/{bad}/override", {"lane": "red", "reason": "r"}),
            (f"/declarations/1/override/{bad}/withdraw", {}),
            (f"/declarations/{bad}/override/1/withdraw", {}),
            (f"/risk/overrides/{bad}/review", {"decision": "approve"}),
        ):
            answer = client.post(path, data={**data, "csrf_token": csrf}, follow_redirects=False)
            assert answer.status_code == 422, (path, answer.status_code)


def create_user_with(ctx: AppContext, username: str, *roles: Role) -> None:
    with ctx.unit() as unit:
        create_user(unit, username=username, password=PASSWORD, roles=list(roles), actor="test")


@pytest.mark.parametrize(
    "reason",
    [
        "Tip-off \u202egnal der\u202c from the port",  # right-to-left override kept as typed
        "🚢📦 container 🇰🇪 \u200d👩‍✈️",
        "é" * 500,  # 500 characters, 1 000 bytes of UTF-8
        "𝔁" * 500,  # 500 characters outside the BMP (2 000 bytes, 1 000 UTF-16 units)
        "<b onmouseover=alert(1)>x</b>",
    ],
)
def test_a_hostile_reason_is_stored_exactly_and_shown_escaped(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], reason: str
) -> None:
    declaration_id = lodge(client, role_tokens)
    made = propose(
        client, bearer(role_tokens[Role.EXAMINING_OFFICER]), declaration_id, reason=reason
    )
    assert made.status_code == 201, made.text
    with ctx.db.session() as session:
        row = session.get(LaneOverrideRow, made.json()["id"])
        assert row is not None and row.reason == reason
    csrf = login(client, "supervisor")
    queue = client.get("/risk/overrides").text
    assert "<b onmouseover" not in queue
    approved = client.post(
        f"/risk/overrides/{made.json()['id']}/review",
        data={"decision": "approve", "note": reason, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert approved.status_code == 303, approved.text
    page = client.get(f"/declarations/{declaration_id}").text
    assert "<b onmouseover" not in page
    if "<" not in reason:
        assert page.count(reason) == 2  # the reason and the note


@pytest.mark.parametrize("reason", ["bad\x00reason", "x" * 10_000, "\x00"])
def test_a_reason_with_nul_or_10_kb_is_refused_naming_the_field(
    client: TestClient, role_tokens: dict[Role, str], reason: str
) -> None:
    declaration_id = lodge(client, role_tokens)
    refused = propose(
        client, bearer(role_tokens[Role.EXAMINING_OFFICER]), declaration_id, reason=reason
    )
    assert refused.status_code == 422
    assert "reason" in str(refused.json()["error"]["details"])


def test_two_roles_cannot_approve_their_own_from_the_queue_form(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declaration_id = lodge(client, role_tokens)
    create_user_with(ctx, "pat", Role.EXAMINING_OFFICER, Role.SUPERVISOR)
    csrf = login(client, "pat")
    made = client.post(
        f"/declarations/{declaration_id}/override",
        data={"lane": "red", "reason": "mine", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    override_id = int(
        re.findall(r'data-override="(\d+)"', client.get(made.headers["location"]).text)[0]
    )
    for decision in ("approve", "reject"):
        # Without the CSRF token: refused before anything else.
        assert (
            client.post(
                f"/risk/overrides/{override_id}/review", data={"decision": decision}
            ).status_code
            == 403
        )
        refused = client.post(
            f"/risk/overrides/{override_id}/review",
            data={"decision": decision, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert refused.status_code == 403, refused.text
    with ctx.db.session() as session:
        row = session.get(LaneOverrideRow, override_id)
        assert row is not None and row.status == "proposed"
        decision_row = session.query(LaneDecisionRow).filter_by(declaration_id=declaration_id).one()
        assert decision_row.overridden_lane is None
    # Withdrawing without CSRF is refused too.
    assert (
        client.post(f"/declarations/{declaration_id}/override/{override_id}/withdraw").status_code
        == 403
    )


def test_another_officer_cannot_withdraw_through_the_page(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declaration_id = lodge(client, role_tokens)
    made = propose(client, bearer(role_tokens[Role.EXAMINING_OFFICER]), declaration_id).json()
    create_user_with(ctx, "otto", Role.EXAMINING_OFFICER)
    csrf = login(client, "otto")
    refused = client.post(
        f"/declarations/{declaration_id}/override/{made['id']}/withdraw",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    with ctx.db.session() as session:
        row = session.get(LaneOverrideRow, made["id"])
        assert row is not None and row.status == "proposed"


def test_an_expected_rate_answers_what_was_stored(
    client: TestClient, role_tokens: dict[Role, str]
) -> None:
    supervisor = bearer(role_tokens[Role.SUPERVISOR])
    answer = client.put(
        "/api/risk/expected-rates",
        headers=supervisor,
        json={"office": " kemba ", "lane": "red", "share": "0.1"},
    )
    assert answer.status_code == 200, answer.text
    listed = client.get("/api/risk/expected-rates", headers=supervisor).json()
    assert answer.json() in listed
    for office in ("<script>", "KE\u202eMBA", "x" * 18, "..", "%00"):
        bad = client.put(
            "/api/risk/expected-rates",
            headers=supervisor,
            json={"office": office, "lane": "red", "share": "0.1"},
        )
        assert bad.status_code == 422, office
        assert "office" in str(bad.json()["error"]["details"])
