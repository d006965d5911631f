"""Partner cards: signed, verified, refused when tampered with, signed by another key, our own,
or already in the directory; adding a partner is a ledger record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.federation.card import (
    Card,
    check_url,
    fingerprint_groups,
    parse_card,
    sign_card,
)
from smartcustoms.federation.directory import add_partner, list_partners, set_state
from smartcustoms.federation.errors import CardRejected, PartnerConflict
from smartcustoms.federation.service import own_card
from smartcustoms.ledger.service import attach_ledger, ledger_of
from smartcustoms.ledger.tlog.cosignature import generate_witness_key
from smartcustoms.ledger.tlog.keys import Ed25519Signer, generate_key
from tests.federation.instances import context_for


def a_card(
    name: str = "Uganda Revenue Authority",
    signer: Ed25519Signer | None = None,
    url: str = "https://customs.example.ug",
) -> Card:
    signer = signer or Ed25519Signer.generate("ug.example/ledger/federation")
    return sign_card(
        signer,
        name=name,
        country="UG",
        url=url,
        # Each administration's log has a name of its own (a witness keeps one tree per name).
        ledger_vkey=generate_key(f"{urlsplit(url).hostname}/ledger")[1],
        witness_vkey=generate_witness_key("ug.example/ledger/witness")[1],
    )


@pytest.fixture
def kenya(tmp_path: Path, sqlite_template: Path) -> Iterator[AppContext]:
    ctx = context_for(tmp_path / "ke", "Kenya Revenue Authority", "KE", template=sqlite_template)
    attach_ledger(ctx)
    yield ctx
    ctx.close()


def test_a_card_round_trips_and_its_fingerprint_is_stable() -> None:
    card = a_card()
    again = parse_card(card.to_json())
    assert again == card
    assert again.fingerprint == card.fingerprint
    assert len(fingerprint_groups(card.fingerprint).split()) == 8
    assert again.key_id.startswith("ug.example/ledger/federation+")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Someone Else"),
        ("country", "TZ"),
        ("url", "https://evil.example.ug"),
        ("kinds", ["transits"]),
        # Named by field: the key differs at each collection, and parallel test processes must
        # collect the same test names.
        pytest.param("ledger_vkey", generate_key("ug.example/ledger")[1], id="ledger_vkey"),
    ],
)
def test_a_tampered_field_fails_the_signature(field: str, value: object) -> None:
    doc = json.loads(a_card().to_json())
    doc[field] = value
    with pytest.raises(CardRejected) as err:
        parse_card(json.dumps(doc))
    assert err.value.code == "card_signature_invalid"
    assert err.value.details == [{"field": "signature.value"}]


def test_a_card_signed_by_another_key_is_refused() -> None:
    card = a_card()
    other = a_card(signer=Ed25519Signer.generate("ug.example/ledger/federation"))
    doc = json.loads(card.to_json())
    doc["signature"]["value"] = json.loads(other.to_json())["signature"]["value"]
    with pytest.raises(CardRejected, match="does not verify"):
        parse_card(json.dumps(doc))
    doc = json.loads(card.to_json())
    doc["request_vkey"] = json.loads(other.to_json())["request_vkey"]  # keyid no longer matches
    with pytest.raises(CardRejected) as err:
        parse_card(json.dumps(doc))
    assert err.value.details[0]["field"] == "signature.keyid"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("country", "XX", "not an ISO 3166-1"),
        ("url", "http://customs.example.ug", "https is required"),
        ("url", "https://customs.example.ug/?q=1", "no query"),
        ("kinds", ["transits", "gossip"], "not one of"),
        ("witness_vkey", "not a key", "witness_vkey"),
        ("extra", 1, "not a field"),
    ],
)
def test_a_field_that_does_not_fit_is_named(field: str, value: object, problem: str) -> None:
    doc = json.loads(a_card().to_json())
    doc[field] = value
    with pytest.raises(ValidationFailed, match=problem) as err:
        parse_card(json.dumps(doc))
    assert field in json.dumps(err.value.details) or field in err.value.message


def test_urls_are_https_or_loopback_http() -> None:
    assert check_url("https://customs.example.ke/") == "https://customs.example.ke"
    assert check_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert check_url("http://localhost:8000/sc") == "http://localhost:8000/sc"
    with pytest.raises(ValidationFailed, match="https is required"):
        check_url("http://10.0.0.1:8000")


def test_adding_refuses_our_own_card_and_a_duplicate_and_is_recorded(kenya: AppContext) -> None:
    own = own_card(kenya)
    assert own == own_card(kenya)  # the same card every time: a stable fingerprint
    with kenya.unit() as unit, pytest.raises(PartnerConflict) as err:
        add_partner(unit, own.to_json(), own=own, actor="admin")
    assert err.value.code == "partner_is_self"

    card = a_card()
    with kenya.unit() as unit:
        row = add_partner(unit, card.to_json(), own=own, actor="admin", kinds=["transits"])
        assert row.kinds == "transits"
    with kenya.unit() as unit, pytest.raises(PartnerConflict) as err:
        add_partner(unit, card.to_json(), own=own, actor="admin")
    assert err.value.code == "partner_exists"
    # Same keys under another name: still the same partner.
    doc = json.loads(card.to_json())
    with kenya.unit() as unit, pytest.raises((PartnerConflict, CardRejected)):
        add_partner(unit, json.dumps({**doc, "name": "URA"}), own=own, actor="admin")

    with kenya.unit() as unit:
        set_state(unit, card.name, "suspended", actor="admin")
    with kenya.db.session() as session:
        assert [(p.name, p.state) for p in list_partners(session)] == [(card.name, "suspended")]
    ledger = ledger_of(kenya)
    ledger.flush()
    records = [ledger.record(i) for i in range(ledger.size())]
    added = [r for r in records if r["type"] == "federation.partner_added"]
    assert len(added) == 1
    assert added[0]["fingerprint"] == card.fingerprint
    assert added[0]["actor"] == "admin"
    states = [r["state"] for r in records if r["type"] == "federation.partner_state_changed"]
    assert states == ["suspended"]


def test_a_card_needs_the_instance_url_and_country(tmp_path: Path) -> None:
    from smartcustoms.core.errors import ConfigurationError
    from smartcustoms.core.settings import load_settings

    ctx = AppContext.from_settings(load_settings(None, data_dir=tmp_path / "d"))
    attach_ledger(ctx)
    try:
        with pytest.raises(ConfigurationError, match="SMARTCUSTOMS_FEDERATION_COUNTRY"):
            own_card(ctx)
    finally:
        ctx.close()
