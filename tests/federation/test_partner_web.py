"""The partner directory over the API and on its page: administrators add (from a pasted or
posted card), suspend and reactivate; supervisors and auditors read; other roles are refused.
A bad card is refused with the field it names."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.federation.card import fingerprint_groups, parse_card
from smartcustoms.federation.service import own_card
from smartcustoms.ledger.service import ledger_of
from tests.conftest import add_user, login
from tests.federation.test_card import a_card
from tests.web.conftest import bearer


def test_the_api_adds_lists_suspends_and_checks_roles(
    client: TestClient, ctx: AppContext, role_tokens: dict[Role, str]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    card = a_card()
    added = client.post("/api/partners", json={"card": json.loads(card.to_json())}, headers=admin)
    assert added.status_code == 201, added.text
    assert added.json()["fingerprint"] == fingerprint_groups(card.fingerprint)
    assert added.json()["kinds"] == ["transits", "scans", "rules", "notices"]

    again = client.post("/api/partners", json={"card": json.loads(card.to_json())}, headers=admin)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "partner_exists")
    tampered = json.loads(a_card("Tanzania Revenue Authority").to_json())
    tampered["country"] = "TZ"
    refused = client.post("/api/partners", json={"card": tampered}, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "card_signature_invalid"
    assert refused.json()["error"]["details"] == [{"field": "signature.value"}]

    ours = client.get("/api/partners/card", headers=admin).json()
    assert parse_card(json.dumps(ours["card"])) == own_card(ctx)
    self_added = client.post("/api/partners", json={"card": ours["card"]}, headers=admin)
    assert self_added.json()["error"]["code"] == "partner_is_self"

    for role in (Role.SUPERVISOR, Role.AUDITOR):
        listed = client.get("/api/partners", headers=bearer(role_tokens[role]))
        assert [p["name"] for p in listed.json()] == [card.name]
        write = client.post(f"/api/partners/{card.name}/suspend", headers=bearer(role_tokens[role]))
        assert write.status_code == 403
    for role in (Role.DECLARANT, Role.PARTNER_ADMINISTRATION, Role.EXAMINING_OFFICER):
        assert client.get("/api/partners", headers=bearer(role_tokens[role])).status_code == 403

    suspended = client.post(f"/api/partners/{card.name}/suspend", headers=admin)
    assert suspended.json()["state"] == "suspended"
    assert client.get(f"/api/partners/{card.name}", headers=admin).json()["state"] == "suspended"
    ping = client.post(f"/api/partners/{card.name}/ping", headers=admin)
    assert (ping.status_code, ping.json()["error"]["code"]) == (409, "partner_suspended")
    assert client.post(f"/api/partners/{card.name}/activate", headers=admin).json()["state"] == (
        "active"
    )
    # Nobody answers at the partner's URL here: a typed 502, not a trace.
    down = client.post(f"/api/partners/{card.name}/ping", headers=admin)
    assert (down.status_code, down.json()["error"]["code"]) == (502, "partner_unreachable")

    ledger = ledger_of(ctx)
    ledger.flush()
    types = [ledger.record(i)["type"] for i in range(ledger.size())]
    assert types.count("federation.partner_added") == 1
    assert types.count("federation.partner_state_changed") == 2


def test_the_page_shows_our_card_and_adds_a_pasted_one(client: TestClient, ctx: AppContext) -> None:
    add_user(ctx, "root", Role.ADMINISTRATOR)
    csrf = login(client, "root")
    page = client.get("/partners")
    assert page.status_code == 200
    own = own_card(ctx)
    assert fingerprint_groups(own.fingerprint) in page.text
    assert 'href="/partners"' in page.text  # in the navigation

    card = a_card()
    added = client.post("/partners", data={"card": card.to_json(), "csrf_token": csrf})
    assert added.status_code == 201
    assert fingerprint_groups(card.fingerprint) in added.text
    bad = client.post("/partners", data={"card": "{not json", "csrf_token": csrf})
    assert bad.status_code == 422
    assert "partner card" in bad.text

    done = client.post(
        f"/partners/{card.name}/suspend", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    assert re.search(r"suspended", client.get("/partners").text)
    french = client.get("/partners", headers={"accept-language": "fr"})
    assert french.status_code == 200


def test_the_page_is_read_only_for_auditors_and_closed_to_others(
    client: TestClient, ctx: AppContext
) -> None:
    add_user(ctx, "audrey", Role.AUDITOR)
    csrf = login(client, "audrey")
    page = client.get("/partners")
    assert page.status_code == 200
    assert 'action="/partners"' not in page.text  # no form to add
    refused = client.post("/partners", data={"card": a_card().to_json(), "csrf_token": csrf})
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    add_user(ctx, "decla", Role.DECLARANT)
    login(client, "decla")
    assert client.get("/partners").status_code == 403
