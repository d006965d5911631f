"""A targeting rule offered between two real instances: approved at the origin, offered over
the API, a draft at the partner attributed to it that selects nothing on declarations lodged
there, approved by the partner's own supervisor through the rulebook's four-eyes review, then
selecting; the adoption (and a decline) flows back to the origin; a malformed rule is refused
naming the field; both ledgers record every step."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from smartcustoms.core.roles import Role
from smartcustoms.federation.client import send_message
from smartcustoms.federation.exchange_tables import RuleOfferRow, RuleReceivedRow
from smartcustoms.federation.service import own_signer
from smartcustoms.federation.tables import DELIVERED
from tests.federation.instances import Instance
from tests.federation.test_handover import _bearer, _outbox, httpx, pair  # noqa: F401
from tests.risk.history import kcs_slice
from tests.risk.test_engine import lodge
from tests.waiting import wait_for

KE = "Kenya Revenue Authority"
UG = "Uganda Revenue Authority"
EVERYTHING = 'hs2 != "99"'  # matches every item of the packaged KCS declarations


def _write_and_approve(ke: Instance, name: str, headers: dict[str, dict[str, str]]) -> int:
    written = httpx.post(
        f"{ke.url}/api/risk/rules",
        headers["analyst"],
        {
            "name": name,
            "expression": EVERYTHING,
            "lane": "yellow",
            "reason": "Seen undervalued at the border",
            "instructions": "Check the invoice against the price list",
        },
    )
    assert written.status_code == 201, written.text
    version_id: int = written.json()["id"]
    approved = httpx.post(
        f"{ke.url}/api/risk/rules/versions/{version_id}/review",
        headers["chief"],
        {"approve": True},
    )
    assert approved.status_code == 200, approved.text
    return version_id


def _received(ug: Instance) -> list[RuleReceivedRow]:
    with ug.ctx.db.session() as session:
        rows = list(session.scalars(select(RuleReceivedRow).order_by(RuleReceivedRow.id)))
        session.expunge_all()
        return rows


def _offer_states(ke: Instance) -> dict[str, str]:
    with ke.ctx.db.session() as session:
        return {r.rule_name: r.state for r in session.scalars(select(RuleOfferRow))}


def _proposal(ug: Instance, supervisor: dict[str, str], rule: str) -> dict[str, Any]:
    listed = httpx.get(f"{ug.url}/api/risk/rules", supervisor)
    assert listed.status_code == 200, listed.text
    (found,) = [v for v in listed.json() if v["rule"] == rule]
    return dict(found)


def test_a_rule_offered_selects_nothing_there_until_their_supervisor_adopts_it(
    pair: tuple[Instance, Instance],  # noqa: F811
    tmp_path: Path,
) -> None:
    ke, ug = pair
    headers = {
        "analyst": _bearer(ke, "ke-analyst", Role.RISK_ANALYST),
        "chief": _bearer(ke, "ke-chief", Role.SUPERVISOR),
    }
    officer = _bearer(ke, "ke-officer", Role.EXAMINING_OFFICER)
    offer_url = f"{ke.url}/api/partners/{quote(UG)}/rules/offer"

    # Only an approved version is offered, by an analyst or supervisor, once.
    draft = httpx.post(
        f"{ke.url}/api/risk/rules",
        headers["analyst"],
        {"name": "draft-only", "expression": EVERYTHING, "lane": "red", "reason": "r"},
    )
    refused = httpx.post(offer_url, headers["analyst"], {"rule": draft.json()["id"]})
    assert refused.status_code == 409 and "rule_not_approved" in refused.text
    version_id = _write_and_approve(ke, "undervalued", headers)
    assert httpx.post(offer_url, officer, {"rule": version_id}).status_code == 403
    offered = httpx.post(offer_url, headers["analyst"], {"rule": version_id})
    assert offered.status_code == 201, offered.text
    assert offered.json()["state"] == "offered" and offered.json()["rule"] == "undervalued"
    again = httpx.post(offer_url, headers["chief"], {"rule": version_id})
    assert again.status_code == 409 and "rule_already_offered" in again.text
    unknown = httpx.post(f"{ke.url}/api/partners/Nobody/rules/offer", headers["analyst"], {})
    assert unknown.status_code == 422  # the body names the missing field
    assert "rule" in unknown.text

    # Over there: a draft written by the partner, attributed to it.
    wait_for(lambda: len(_received(ug)) == 1, message="the offer did not arrive", timeout=30)
    ug_chief = _bearer(ug, "ug-chief", Role.SUPERVISOR)
    proposal = _proposal(ug, ug_chief, "KE:undervalued")
    assert proposal["status"] == "draft" and proposal["author"] == f"partner:{KE}"
    assert proposal["expression"] == EVERYTHING and proposal["lane"] == "yellow"

    # It selects nothing on what is lodged there meanwhile.
    before = lodge(ug.ctx, kcs_slice(tmp_path, 0, 20, labels=False))
    assert before
    assert not any("KE:undervalued@1" in d.rules_fired for d in before)

    # Their supervisor approves it through the rulebook's own review; then it selects.
    reviewed = httpx.post(
        f"{ug.url}/api/risk/rules/versions/{proposal['id']}/review",
        ug_chief,
        {"approve": True, "note": "Seen here too"},
    )
    assert reviewed.status_code == 200, reviewed.text
    after = lodge(ug.ctx, kcs_slice(tmp_path, 20, 20, labels=False))
    assert after
    assert all("KE:undervalued@1" in d.rules_fired for d in after)

    # The adoption flows back and shows at the origin (API and community page).
    wait_for(
        lambda: _offer_states(ke).get("undervalued") == "adopted",
        message="the adoption did not come back",
        timeout=30,
    )
    offers = httpx.get(f"{ke.url}/api/federation/rule-offers", headers["chief"]).json()
    assert offers[0]["state"] == "adopted" and offers[0]["answer_note"] == "Seen here too"
    page = httpx.get(f"{ke.url}/partners/community", headers["chief"])
    assert page.status_code == 200 and "adopted" in page.text

    # A second rule, declined over there: declined here.
    second = _write_and_approve(ke, "declined-one", headers)
    assert httpx.post(offer_url, headers["analyst"], {"rule": second}).status_code == 201
    wait_for(lambda: len(_received(ug)) == 2, message="the second offer", timeout=30)
    refused_there = httpx.post(
        f"{ug.url}/api/risk/rules/versions/{_proposal(ug, ug_chief, 'KE:declined-one')['id']}"
        "/review",
        ug_chief,
        {"approve": False, "note": "Not on our corridors"},
    )
    assert refused_there.status_code == 200, refused_there.text
    wait_for(
        lambda: _offer_states(ke).get("declined-one") == "declined",
        message="the decline did not come back",
        timeout=30,
    )
    assert [r.state for r in _received(ug)] == ["adopted", "declined"]
    wait_for(lambda: all(r.state == DELIVERED for r in _outbox(ug)), timeout=20)

    # Both ledgers.
    wait_for(lambda: len(ke.records("federation.rule_offer_answered")) == 2, timeout=10)
    answered = {r["rule"]: r["adopted"] for r in ke.records("federation.rule_offer_answered")}
    assert answered == {"undervalued": True, "declined-one": False}
    assert {r["rule"] for r in ke.records("federation.rule_offered")} == {
        "undervalued",
        "declined-one",
    }
    received = ug.records("federation.rule_received")
    assert [r["proposal"] for r in received] == ["KE:undervalued@1", "KE:declined-one@1"]
    approvals = [r for r in ug.records("admin.action") if r["action"] == "risk_rule_approved"]
    assert [r["target"] for r in approvals] == ["KE:undervalued@1"]


def test_a_malformed_rule_is_refused_naming_the_field(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    ke, ug = pair
    good = {
        "form": "smartcustoms-rule/v1",
        "name": "tobacco",
        "version": 1,
        "expression": 'hs6 startswith "2402"',
        "fields": {"hs6": "text"},
        "lane": "red",
        "reason": "Cigarettes",
        "instructions": "",
        "valid_from": "2026-01-01T00:00:00+00:00",
        "valid_until": None,
    }
    cases = [
        ({"expression": 'hs6 startswith "2402" and'}, "rule.expression"),
        ({"expression": "hs6 = 2402"}, "rule.expression"),
        ({"fields": {"hs6": "number"}}, "rule.fields.hs6"),
        ({"fields": {"hs6": "text", "shoe_size": "number"}}, "rule.fields.shoe_size"),
        ({"fields": {}}, "rule.fields"),
        ({"lane": "purple"}, "rule.lane"),
        ({"version": 0}, "rule.version"),
        ({"form": "another/v9"}, "rule.form"),
        ({"valid_until": "2025-01-01T00:00:00+00:00"}, "rule.valid_until"),
        ({"reason": ""}, "rule.reason"),
    ]
    for change, field in cases:
        rule = copy.deepcopy(good) | change
        _, answer = send_message(own_signer(ke.ctx), ug.url, "rule.offered", {"rule": rule})
        assert answer.status == 422, (change, answer.body)
        assert answer.body["error"]["details"][0]["field"] == field, (change, answer.body)
    assert _received(ug) == []
    # The good one is accepted: a proposal.
    _, answer = send_message(own_signer(ke.ctx), ug.url, "rule.offered", {"rule": good})
    assert answer.ok, answer.body
    assert answer.body["answer"] == {"proposal": "KE:tobacco@1", "state": "proposed"}
