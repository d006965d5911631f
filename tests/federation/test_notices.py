"""Seizure notices between two real instances: published by an analyst to a partner allowed
notices, delivered through the outbox, stored and searchable there by words and HS code (API
and page); refused with the field named when malformed or carrying a field that is not a
notice's (no personal data); refused as a whole when a chosen partner is not allowed notices,
and refused at the inbox from a partner not allowed them; both ledgers record it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from smartcustoms.core.roles import Role
from smartcustoms.federation.client import send_message
from smartcustoms.federation.directory import add_partner
from smartcustoms.federation.exchange_tables import NoticeRow
from smartcustoms.ledger.tlog.keys import Ed25519Signer
from tests.federation.instances import Instance
from tests.federation.test_card import a_card
from tests.federation.test_handover import _bearer, httpx, pair  # noqa: F401
from tests.waiting import wait_for

KE = "Kenya Revenue Authority"
UG = "Uganda Revenue Authority"
TZ = "Tanzania Revenue Authority"


def _notice(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "seizure",
        "found": "Cigarettes without tax stamps",
        "hs_code": "240220",
        "route": "Mombasa - Malaba - Kampala (Northern Corridor)",
        "concealment": "Behind a false wall of maize bags",
        "quantity": "400",
        "unit": "cartons",
        "found_on": (date.today() - timedelta(days=3)).isoformat(),
        **changes,
    }


def _notices(instance: Instance) -> int:
    with instance.ctx.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(NoticeRow)) or 0)


def test_a_notice_published_is_searchable_at_the_partner(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    ke, ug = pair
    analyst = _bearer(ke, "ke-analyst", Role.RISK_ANALYST)
    ke_officer = _bearer(ke, "ke-officer", Role.EXAMINING_OFFICER)
    url = f"{ke.url}/api/federation/notices"

    # Publishing is for analysts and supervisors; the fields are checked and named.
    assert httpx.post(url, ke_officer, {"notice": _notice(), "partners": [UG]}).status_code == 403
    bad = [
        ({"driver_name": "J. Doe"}, "driver_name"),  # personal data has no field
        ({"hs_code": "990000"}, "hs_code"),  # chapter 99 does not exist
        ({"unit": "barrels"}, "unit"),
        ({"kind": "rumour"}, "kind"),
        ({"found_on": (date.today() + timedelta(days=9)).isoformat()}, "found_on"),
        ({"quantity": "0"}, "quantity"),
    ]
    for change, field in bad:
        answer = httpx.post(url, analyst, {"notice": _notice(**change), "partners": [UG]})
        assert answer.status_code == 422, (change, answer.text)
        assert field in answer.text, (change, answer.text)
    assert _notices(ke) == 0

    published = httpx.post(url, analyst, {"notice": _notice(), "partners": [UG]})
    assert published.status_code == 201, published.text
    notice = published.json()
    assert notice["partners"] == [UG] and notice["origin"] == KE and not notice["received"]

    # Delivered, stored once, searchable over there by words and HS code.
    wait_for(lambda: _notices(ug) == 1, message="the notice did not arrive", timeout=30)
    ug_officer = _bearer(ug, "ug-officer", Role.EXAMINING_OFFICER)
    found = httpx.get(f"{ug.url}/api/federation/notices?q=MAIZE%20wall&hs=2402", ug_officer)
    assert found.status_code == 200, found.text
    (there,) = found.json()
    assert there["notice_id"] == notice["notice_id"] and there["origin"] == KE
    assert there["received"] and there["concealment"] == "Behind a false wall of maize bags"
    assert float(there["quantity"]) == 400 and there["unit"] == "cartons"
    assert httpx.get(f"{ug.url}/api/federation/notices?hs=8703", ug_officer).json() == []
    assert httpx.get(f"{ug.url}/api/federation/notices?q=heroin", ug_officer).json() == []
    assert httpx.get(f"{ug.url}/api/federation/notices?hs=24x", ug_officer).status_code == 422
    page = httpx.get(f"{ug.url}/partners/notices?q=maize", ug_officer)
    assert page.status_code == 200 and 'role="search"' in page.text
    assert "Cigarettes without tax stamps" in page.text
    assert f'data-notice="{notice["notice_id"]}"' in page.text
    assert "Publish a notice" not in page.text  # an officer searches, does not publish
    empty = httpx.get(f"{ug.url}/partners/notices?q=heroin", ug_officer)
    assert "Cigarettes without tax stamps" not in empty.text

    # Both ledgers.
    wait_for(lambda: bool(ug.records("federation.notice_received")), timeout=10)
    (sent,) = ke.records("federation.notice_published")
    assert sent["partners"] == [UG] and sent["hs_code"] == "240220"
    (got,) = ug.records("federation.notice_received")
    assert got["notice_id"] == notice["notice_id"] and got["partner"] == KE


def test_a_partner_not_allowed_notices_is_refused_both_ways(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    ke, ug = pair
    signer = Ed25519Signer.generate("tz.example/ledger/federation")
    card = a_card(TZ, signer, url="https://customs.example.tz")
    for here in (ke, ug):  # both take Tanzania for transits only
        with here.ctx.unit() as unit:
            add_partner(unit, card.to_json(), own=here.card(), actor="admin", kinds=["transits"])
    analyst = _bearer(ke, "ke-analyst", Role.RISK_ANALYST)
    refused = httpx.post(
        f"{ke.url}/api/federation/notices", analyst, {"notice": _notice(), "partners": [UG, TZ]}
    )
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "partner_not_allowed"
    assert error["details"] == [{"field": "partners", "value": TZ}]
    assert _notices(ke) == 0  # all or nothing: not even Uganda's
    # Tanzania sending Uganda a notice: refused by the inbox, nothing stored.
    _, answer = send_message(
        signer, ug.url, "notice.published", {"notice_id": "x", "notice": _notice()}
    )
    assert answer.status == 403 and answer.error_code == "partner_not_allowed"
    assert _notices(ug) == 0
    # The page offers only the partners allowed notices.
    page = httpx.get(f"{ke.url}/partners/notices", analyst)
    assert 'name="partners" value="Uganda Revenue Authority"' in page.text
    assert TZ not in page.text
