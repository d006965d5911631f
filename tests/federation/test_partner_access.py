"""A partner administration's account sees only the transits handed over to the partner it is
linked to: another partner's, or one handed to nobody, is refused through the API and the
page; the list shows only its own; it hands over onward only what was handed to it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.federation.directory import add_partner
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.tlog.keys import Ed25519Signer
from smartcustoms.tracking.transits import hand_over_transit
from tests.conftest import PASSWORD
from tests.federation.test_card import a_card
from tests.tracking.helpers import import_packaged, make_transit
from tests.web.conftest import bearer

URA, RRA = "Uganda Revenue Authority", "Rwanda Revenue Authority"


@dataclass
class World:
    client: TestClient
    to_uganda: int
    to_rwanda: int
    not_handed: int
    admin: dict[str, str]
    ura: dict[str, str]  # a partner account, linked to Uganda below


def _token(ctx: AppContext, name: str, *roles: Role) -> dict[str, str]:
    with ctx.unit() as unit:
        create_user(unit, username=name, password=PASSWORD, roles=roles, actor="test")
        user = get_user(unit.session, name)
        return bearer(create_token(unit, user, name="t", days=1, max_days=10, actor="t").secret)


@pytest.fixture
def world(ctx: AppContext, client: TestClient) -> World:
    import_packaged(ctx)
    own = a_card("Kenya Revenue Authority", url="https://customs.example.ke")
    with ctx.unit() as unit:
        for name in (URA, RRA):
            slug = name[:2].lower()
            signer = Ed25519Signer.generate(f"{slug}.example/ledger/federation")
            card = a_card(name, signer, url=f"https://customs.example.{slug}")
            add_partner(unit, card.to_json(), own=own, actor="admin")
    transits = []
    for device, to in (("SEAL-UG", URA), ("SEAL-RW", RRA), ("SEAL-KE", None)):
        tid = make_transit(ctx, device)
        if to is not None:
            with ctx.unit() as unit:
                hand_over_transit(unit, tid, actor="officer", border="UGMAL", to_administration=to)
        transits.append(tid)
    admin = _token(ctx, "admin", Role.ADMINISTRATOR)
    ura = _token(ctx, "ura-officer", Role.PARTNER_ADMINISTRATION)
    to_uganda, to_rwanda, not_handed = transits
    return World(client, to_uganda, to_rwanda, not_handed, admin=admin, ura=ura)


def test_an_unlinked_partner_account_sees_no_transit(world: World) -> None:
    c = world.client
    assert c.get("/api/tracking/transits", headers=world.ura).json() == []
    for tid in (world.to_uganda, world.to_rwanda, world.not_handed):
        assert c.get(f"/api/tracking/transits/{tid}", headers=world.ura).status_code == 403


def test_a_linked_partner_account_sees_only_what_was_handed_to_it(
    world: World, ctx: AppContext
) -> None:
    c = world.client
    linked = c.put(f"/api/partners/{URA}/accounts/ura-officer", headers=world.admin)
    assert linked.status_code == 200, linked.text
    # The account itself may not link accounts.
    assert c.put(f"/api/partners/{RRA}/accounts/ura-officer", headers=world.ura).status_code == 403

    ok = c.get(f"/api/tracking/transits/{world.to_uganda}", headers=world.ura)
    assert ok.status_code == 200 and ok.json()["responsible"] == URA
    assert c.get(f"/api/tracking/transits/{world.to_uganda}/track", headers=world.ura).is_success
    for tid in (world.to_rwanda, world.not_handed):
        for url in (f"/api/tracking/transits/{tid}", f"/api/tracking/transits/{tid}/track"):
            refused = c.get(url, headers=world.ura)
            assert refused.status_code == 403, url
            assert refused.json()["error"]["details"] == [{"field": "transit_id"}]
        page = c.get(f"/tracking/transits/{tid}", headers={**world.ura, "accept": "text/html"})
        assert page.status_code == 403
    page = c.get(f"/tracking/transits/{world.to_uganda}", headers=world.ura)
    assert page.status_code == 200
    listed = c.get("/api/tracking/transits", headers=world.ura).json()
    assert [t["id"] for t in listed] == [world.to_uganda]
    listing = c.get("/tracking/transits?status=all", headers=world.ura)
    assert f"/tracking/transits/{world.to_uganda}" in listing.text
    assert f"/tracking/transits/{world.to_rwanda}" not in listing.text
    # Officers still see everything.
    assert len(c.get("/api/tracking/transits", headers=world.admin).json()) == 3

    # Hand-over: not what was handed to another administration …
    body = {"border": "UGMAL", "to_administration": URA}
    taken = c.post(
        f"/api/tracking/transits/{world.not_handed}/hand-over", json=body, headers=world.ura
    )
    assert taken.status_code == 403
    # … onward, what was handed to it.
    onward = c.post(
        f"/api/tracking/transits/{world.to_uganda}/hand-over",
        json={"border": "UGMAL", "to_administration": RRA},
        headers=world.ura,
    )
    assert onward.status_code == 200, onward.text

    ledger = ledger_of(ctx)
    ledger.flush()
    linked_records = [
        ledger.record(i)
        for i in range(ledger.size())
        if ledger.record(i)["type"] == "federation.account_linked"
    ]
    assert [(r["username"], r["partner"]) for r in linked_records] == [("ura-officer", URA)]


def test_only_partner_accounts_are_linked(world: World) -> None:
    c = world.client
    refused = c.put(f"/api/partners/{URA}/accounts/admin", headers=world.admin)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"] == [{"field": "username", "value": "admin"}]
    missing = c.put("/api/partners/Nobody/accounts/ura-officer", headers=world.admin)
    assert missing.status_code == 404
