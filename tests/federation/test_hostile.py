"""Partner cards and signed requests from a hostile or careless partner: a validly signed card
with a dangerous URL, duplicate JSON keys, hidden characters or a slash in the name, a card far
too large, markup in what the page shows; a signed request that covers too little."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from http_message_signatures import HTTPMessageSigner, algorithms

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.federation.card import Card, parse_card
from smartcustoms.federation.client import envelope
from smartcustoms.federation.directory import add_partner
from smartcustoms.federation.errors import PartnerConflict
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.keys import key_id_of
from smartcustoms.federation.service import own_card, own_signer
from smartcustoms.federation.signing import LABEL, TAG, Message, new_nonce
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.ledger.tlog.cosignature import generate_witness_key
from smartcustoms.ledger.tlog.keys import Ed25519Signer, generate_key
from tests.conftest import add_user, login
from tests.federation.instances import Instance, context_for, serve
from tests.federation.test_requests import _post, _refusals


def signed_anyway(signer: Ed25519Signer | None = None, **fields: object) -> Card:
    """A card signed over whatever fields it is given, bypassing sign_card's own checks: what a
    hostile instance can produce with its own key."""
    signer = signer or Ed25519Signer.generate("ug.example/ledger/federation")
    base: dict[str, object] = {
        "name": "Uganda Revenue Authority",
        "country": "UG",
        "url": "https://customs.example.ug",
        "ledger_vkey": generate_key("ug.example/ledger")[1],
        "witness_vkey": generate_witness_key("ug.example/ledger/witness")[1],
        "request_vkey": signer.verifier().key_string(),
        "kinds": ("transits", "scans", "rules", "notices"),
    }
    card = Card(**{**base, **fields})  # type: ignore[arg-type]
    signature = base64.b64encode(signer.sign(card.signed_bytes())).decode("ascii")
    return Card(**{**card.__dict__, "signature": signature})


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,<script>alert(1)</script>",
        "http://customs.example.ug",  # http beyond loopback
        "https://user:pw@customs.example.ug",
        "https://customs.example.ug/?next=evil",
        "https:///nohost",
    ],
)
def test_a_validly_signed_card_with_a_dangerous_url_is_refused(url: str) -> None:
    card = signed_anyway(url=url)
    with pytest.raises(ValidationFailed) as caught:
        parse_card(card.to_json())
    assert caught.value.details[0]["field"] == "url"


def test_a_card_with_duplicate_keys_is_refused() -> None:
    # A reader of the file sees the first "name"; a parser that keeps the last would add the
    # second under the signature: the card must not say two things at once.
    card = signed_anyway(name="Evil Revenue Authority")
    text = card.to_json().replace(
        '"name": "Evil Revenue Authority"',
        '"name": "Uganda Revenue Authority",\n  "name": "Evil Revenue Authority"',
    )
    assert text.count('"name"') == 2
    with pytest.raises(ValidationFailed) as caught:
        parse_card(text)
    assert caught.value.details[0]["field"] == "name"
    # Also inside the signature object.
    doc = card.to_json()
    nested = doc.replace('"alg": "ed25519",', '"alg": "none", "alg": "ed25519",')
    with pytest.raises(ValidationFailed) as caught:
        parse_card(nested)
    assert caught.value.details[0]["field"] == "signature.alg"


@pytest.mark.parametrize(
    "name",
    [
        "Uganda \u202eytirohtuA",  # right-to-left override: reads as another name
        "Uganda\u200bRevenue",  # zero-width space: looks like a name already in the directory
        "Uganda\x00Revenue",
        "x" * 10_000,
        "Revenue/Tax Authority",  # could never be addressed by /partners/{name}/suspend
        "..",
        " Uganda Revenue Authority",  # invisible twin of a name already in the directory
        "Card",  # /api/partners/card is this instance's own card
    ],
)
def test_a_validly_signed_card_with_a_hostile_name_is_refused(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_card(signed_anyway(name=name).to_json())
    assert caught.value.details[0]["field"] == "name"


def test_markup_and_emoji_in_a_card_are_kept_and_shown_escaped(
    client: TestClient, ctx: AppContext
) -> None:
    add_user(ctx, "root", Role.ADMINISTRATOR)
    csrf = login(client, "root")
    name = "<img src=x onerror=alert('x')> Autorité 🚢 الجمارك"
    card = signed_anyway(name=name)
    added = client.post("/partners", data={"card": card.to_json(), "csrf_token": csrf})
    assert added.status_code == 201, added.text
    page = client.get("/partners").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(" in page
    assert "🚢 الجمارك" in page
    listed = client.get("/api/partners").json()  # session cookie: administrators read
    assert any(p["name"] == name for p in listed)
    # The hostile partner is suspendable from the page's own form (its name travels in the
    # form's URL, with its quote, percent, question mark and hash).
    odd = signed_anyway(
        name="50% Customs? #1 'Q&A'",
        url="https://odd.example.ug",
        ledger_vkey=generate_key("odd.example/ledger")[1],  # a log name of its own
    )
    assert (
        client.post("/partners", data={"card": odd.to_json(), "csrf_token": csrf}).status_code
        == 201
    )
    page = client.get("/partners").text
    for who in (name, odd.name):
        actions = re.findall(r'action="(/partners/[^"]+/suspend)"', page)
        action = next(a for a in actions if unquote(html.unescape(a)).split("/")[2] == who)
        done = client.post(html.unescape(action), data={"csrf_token": csrf}, follow_redirects=False)
        assert done.status_code == 303, (who, done.text[:300])
    states = {p["name"]: p["state"] for p in client.get("/api/partners").json()}
    assert states == {name: "suspended", odd.name: "suspended"}


def test_a_huge_or_unsigned_card_is_refused_cleanly(client: TestClient, ctx: AppContext) -> None:
    add_user(ctx, "root", Role.ADMINISTRATOR)
    csrf = login(client, "root")
    big = signed_anyway(name="Uganda Revenue Authority").to_json()
    huge = big.replace('"card":', '"padding": "' + "x" * 1_000_000 + '", "card":')
    page = client.post("/partners", data={"card": huge, "csrf_token": csrf})
    assert page.status_code in (413, 422)
    api = client.post(
        "/api/partners",
        json={"card": json.loads(huge)},
        headers={"x-csrf-token": csrf},
    )
    assert api.status_code in (413, 422)
    missing = client.post("/partners", data={"card": big})  # no CSRF token
    assert missing.status_code == 403
    assert client.get("/api/partners").json() == []


@pytest.fixture
def pair(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Instance, Instance]]:
    with (
        serve(tmp_path / "ke", "Kenya Revenue Authority", "KE", template=sqlite_template) as ke,
        serve(tmp_path / "ug", "Uganda Revenue Authority", "UG", template=sqlite_template) as ug,
    ):
        for here, there in ((ke, ug), (ug, ke)):
            with here.ctx.unit() as unit:
                add_partner(unit, there.card().to_json(), own=here.card(), actor="admin")
        yield ke, ug


def _sign(
    signer: Ed25519Signer, url: str, body: bytes | None, covered: tuple[str, ...]
) -> dict[str, str]:
    """Headers signed by the partner's real key, covering only ``covered``."""
    from smartcustoms.federation.signing import _OwnKey

    headers = {"Content-Type": "application/json"}
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_OwnKey(signer)).sign(
        Message("POST", url, headers),
        key_id=key_id_of(signer),
        created=clock.now(),
        nonce=new_nonce(),
        label=LABEL,
        tag=TAG,
        covered_component_ids=covered,
        body=body,
    )
    return headers


def test_a_signature_covering_too_little_is_refused(pair: tuple[Instance, Instance]) -> None:
    ke, ug = pair
    url = ug.url + INBOX_PATH
    signer = own_signer(ke.ctx)
    body = envelope("partner.hello", {})
    # No digest: the body could be anything.
    headers = _sign(signer, url, None, ("@method", "@target-uri", "content-type"))
    assert _post(ug, body, headers)[0] == 401
    # No target URI: the request could be replayed against another instance.
    headers = _sign(signer, url, body, ("@method", "content-type"))
    assert _post(ug, body, headers)[0] == 401
    # Nothing but the method.
    headers = _sign(signer, url, None, ("@method",))
    assert _post(ug, body, headers)[0] == 401
    assert _refusals(ug, "signature_invalid") or _refusals(ug, "signature_missing")


@pytest.fixture
def kenya(tmp_path: Path, sqlite_template: Path) -> Iterator[AppContext]:
    ctx = context_for(tmp_path / "ke", "Kenya Revenue Authority", "KE", template=sqlite_template)
    attach_ledger(ctx)
    yield ctx
    ctx.close()


def _renamed(vkey: str, name: str) -> str:
    """The same public key under another key name (a vkey's name is the signer's to choose)."""
    _, _, key = vkey.split("+", 2)
    key_hash = hashlib.sha256(name.encode() + b"\n" + base64.b64decode(key)).digest()[:4]
    return f"{name}+{key_hash.hex()}+{key}"


def test_a_card_claiming_our_keys_or_another_partner_s_is_refused(kenya: AppContext) -> None:
    own = own_card(kenya)
    uganda = signed_anyway()
    with kenya.unit() as unit:
        add_partner(unit, uganda.to_json(), own=own, actor="admin")
    claims = {
        # Our witness key as theirs: our own cosignatures would count as the partner's.
        "our witness key": {"witness_vkey": own.witness_vkey},
        # Our ledger key under another key name: the same key, another string.
        "our ledger key renamed": {"ledger_vkey": _renamed(own.ledger_vkey, "tz.example/l")},
        "uganda's witness key": {"witness_vkey": uganda.witness_vkey},
        "uganda's ledger key renamed": {
            "ledger_vkey": _renamed(uganda.ledger_vkey, "tz.example/l")
        },
    }
    for what, fields in claims.items():
        card = signed_anyway(
            None, name="Tanzania Revenue Authority", url="https://customs.example.tz", **fields
        )
        with pytest.raises(PartnerConflict), kenya.unit() as unit:
            add_partner(unit, card.to_json(), own=own, actor="admin")
            pytest.fail(f"a card with {what} was added")
