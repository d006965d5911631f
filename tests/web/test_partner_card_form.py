"""Updating a partner's card from the partners page (``POST /partners/{name}/card``): pasted or
uploaded; a card signed by the request key already held is taken at once, one with a new request
key only once the administrator types the fingerprint the partner read by phone (the form comes
back with the card kept and its new fingerprint shown). Each refusal names its field and changes
nothing; each update is one ``federation.partner_updated`` record (the service's); only
administrators."""

from __future__ import annotations

import html
import json
import re
import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings, load_settings
from smartcustoms.federation.card import Card, fingerprint_groups, sign_card
from smartcustoms.federation.directory import add_partner, get_partner
from smartcustoms.federation.service import own_card
from smartcustoms.ledger.tlog.cosignature import generate_witness_key
from smartcustoms.ledger.tlog.keys import Ed25519Signer, generate_key
from smartcustoms.web.i18n import translations
from tests.conftest import add_user, login
from tests.web.admin_helpers import records, sign_in

UG = "Uganda Revenue Authority"
URL = f"/partners/{UG.replace(' ', '%20')}/card"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The suite's settings with this instance's federation identity (its own card)."""
    return load_settings(
        None,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=secrets.token_urlsafe(48),
        administration_name="Kenya Revenue Authority",
        ledger_origin="ke.example/ledger",
        federation_country="KE",
        federation_url="https://customs.example.ke",
    )


def _card(signer: Ed25519Signer, *, url: str = "https://customs.example.ug") -> Card:
    return sign_card(
        signer,
        name=UG,
        country="UG",
        url=url,
        ledger_vkey=generate_key("customs.example.ug/ledger")[1],
        witness_vkey=generate_witness_key("ug.example/ledger/witness")[1],
    )


@pytest.fixture
def uganda(ctx: AppContext) -> tuple[Ed25519Signer, Card]:
    """Uganda in the directory; the request key it signs its cards with."""
    signer = Ed25519Signer.generate("ug.example/ledger/federation")
    first = _card(signer)
    with ctx.unit() as unit:
        add_partner(unit, first.to_json(), own=own_card(ctx), actor="setup")
    return signer, first


def _fingerprint(ctx: AppContext) -> str:
    with ctx.db.read_session() as session:
        return get_partner(session, UG).fingerprint


def _refusal(page: str) -> tuple[str, str, str]:
    found = re.search(
        r'data-testid="card-error" data-field="([^"]*)" data-code="([^"]*)">([^<]*)<', page
    )
    assert found, page
    return found.group(1), found.group(2), html.unescape(found.group(3))


def _kept_card(page: str) -> str:
    found = re.search(r'<textarea name="card" rows="8"[^>]*>([^<]*)</textarea>', page)
    assert found, page
    return html.unescape(found.group(1))


def test_a_card_from_the_same_key_is_taken_and_recorded(
    ctx: AppContext, client: TestClient, uganda: tuple[Ed25519Signer, Card]
) -> None:
    signer, first = uganda
    add_user(ctx, "root", Role.ADMINISTRATOR)
    csrf = login(client, "root")
    page = client.get("/partners").text
    assert f'action="{URL}"' in page and 'enctype="multipart/form-data"' in page

    moved = _card(signer, url="https://new.customs.example.ug")
    done = client.post(URL, data={"csrf_token": csrf, "card": moved.to_json()})
    assert done.status_code == 200, done.text
    assert 'data-testid="updated"' in done.text
    assert fingerprint_groups(first.fingerprint) in done.text
    assert fingerprint_groups(moved.fingerprint) in done.text
    assert "instance URL" in done.text and "ledger key" in done.text
    assert _fingerprint(ctx) == moved.fingerprint
    (record,) = records(ctx, "federation.partner_updated")
    assert (record["actor"], record["confirmed"]) == ("root", False)
    assert (record["old_fingerprint"], record["fingerprint"]) == (
        first.fingerprint,
        moved.fingerprint,
    )

    # The same card again, as a file this time: nothing changed, nothing recorded.
    again = client.post(
        URL,
        data={"csrf_token": csrf},
        files={"card_file": ("ug.json", moved.to_json().encode(), "application/json")},
    )
    assert again.status_code == 200
    assert "nothing changed" in again.text
    assert len(records(ctx, "federation.partner_updated")) == 1


def test_a_new_request_key_needs_the_fingerprint_read_by_phone(
    ctx: AppContext, client: TestClient, uganda: tuple[Ed25519Signer, Card]
) -> None:
    _, first = uganda
    add_user(ctx, "root", Role.ADMINISTRATOR)
    csrf = login(client, "root")
    lost = _card(Ed25519Signer.generate("ug.example/ledger/federation"))
    said = fingerprint_groups(lost.fingerprint)

    # Uploaded: the form comes back with the card pasted in, its fingerprint, the field to fill.
    asked = client.post(
        URL,
        data={"csrf_token": csrf},
        files={"card_file": ("ug.json", lost.to_json().encode(), "application/json")},
    )
    assert asked.status_code == 422
    field, code, text = _refusal(asked.text)
    assert (field, code) == ("confirm_fingerprint", "fingerprint_confirmation_required")
    assert text.startswith("Fingerprint read by phone: this card has a new request key.")
    assert f'<code data-testid="new-fingerprint">{said}</code>' in asked.text
    assert 'name="confirm_fingerprint"' in asked.text
    assert _kept_card(asked.text) == lost.to_json()
    assert _fingerprint(ctx) == first.fingerprint

    # A fingerprint that is not the card's: refused, named, still not taken.
    wrong = client.post(
        URL,
        data={
            "csrf_token": csrf,
            "card": lost.to_json(),
            "confirm_fingerprint": fingerprint_groups(first.fingerprint),
        },
    )
    assert wrong.status_code == 422
    assert _refusal(wrong.text)[:2] == ("confirm_fingerprint", "fingerprint_mismatch")
    assert _fingerprint(ctx) == first.fingerprint
    assert records(ctx, "federation.partner_updated") == []

    # Read by phone in groups as printed (blanks and case do not matter).
    taken = client.post(
        URL, data={"csrf_token": csrf, "card": lost.to_json(), "confirm_fingerprint": said.upper()}
    )
    assert taken.status_code == 200, taken.text
    assert "request key" in taken.text
    assert _fingerprint(ctx) == lost.fingerprint
    (record,) = records(ctx, "federation.partner_updated")
    assert record["confirmed"] is True and record["actor"] == "root"


def _tampered(card: Card) -> str:
    doc = json.loads(card.to_json())
    doc["url"] = "https://evil.example.ug"  # changed after signing
    return json.dumps(doc)


def _signed_by_another(card: Card) -> str:
    doc = json.loads(card.to_json())
    other = _card(Ed25519Signer.generate("ug.example/ledger/federation"))
    doc["signature"] = json.loads(other.to_json())["signature"]
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("make", "code", "field", "sentence"),
    [
        (lambda c: "{not json", "validation_failed", "card", "Card: not a partner card."),
        (lambda c: "[1, 2]", "validation_failed", "card", "Card: not a partner card."),
        (lambda c: " \n ", "card_missing", "card", "Card: paste the partner's new card"),
        (
            lambda c: c.to_json() + " " * 20_000,
            "card_too_large",
            "card",
            "Card: at most 20,000 bytes",
        ),
        (_tampered, "card_signature_invalid", "card", "Card: its signature does not verify"),
        (
            _signed_by_another,
            "card_signature_invalid",
            "card",
            "Card: its signature does not verify",
        ),
        (
            lambda c: sign_card(
                Ed25519Signer.generate("tz.example/ledger/federation"),
                name="Tanzania Revenue Authority",
                country="TZ",
                url="https://customs.example.tz",
                ledger_vkey=generate_key("customs.example.tz/ledger")[1],
                witness_vkey=generate_witness_key("tz.example/ledger/witness")[1],
            ).to_json(),
            "validation_failed",
            "card",
            "Card: this is the card of “Tanzania Revenue Authority”, not of this partner.",
        ),
    ],
)
def test_hostile_cards_are_refused_by_name_and_change_nothing(
    ctx: AppContext,
    client: TestClient,
    uganda: tuple[Ed25519Signer, Card],
    make: object,
    code: str,
    field: str,
    sentence: str,
) -> None:
    signer, first = uganda
    add_user(ctx, "root", Role.ADMINISTRATOR)
    csrf = login(client, "root")
    text = make(_card(signer))  # type: ignore[operator]
    refused = client.post(URL, data={"csrf_token": csrf, "card": text})
    assert refused.status_code in (413, 422), refused.text
    named, got, said = _refusal(refused.text)
    assert (named, got) == (field, code) and said.startswith(sentence), said
    # As a file too: the same refusal.
    filed = client.post(
        URL,
        data={"csrf_token": csrf},
        files={"card_file": ("card.json", text.encode(), "application/json")},
    )
    assert _refusal(filed.text)[:2] == (field, code)
    assert _fingerprint(ctx) == first.fingerprint
    assert records(ctx, "federation.partner_updated") == []


def test_a_file_that_is_not_text_is_refused(
    ctx: AppContext, client: TestClient, uganda: tuple[Ed25519Signer, Card]
) -> None:
    add_user(ctx, "root", Role.ADMINISTRATOR)
    csrf = login(client, "root")
    refused = client.post(
        URL,
        data={"csrf_token": csrf},
        files={"card_file": ("card.json", b"\xff\xfe\x00\xd8garbage", "application/json")},
    )
    assert refused.status_code == 422
    assert _refusal(refused.text)[0] == "card"
    assert records(ctx, "federation.partner_updated") == []


def test_only_administrators(
    ctx: AppContext, client: TestClient, uganda: tuple[Ed25519Signer, Card]
) -> None:
    signer, first = uganda
    moved = _card(signer, url="https://new.customs.example.ug")
    for n, role in enumerate(r for r in Role if r is not Role.ADMINISTRATOR):
        client.cookies.clear()
        client.headers.pop("Authorization", None)
        csrf = sign_in(ctx, client, role, username=f"u{n}")
        page = client.get("/partners")
        if page.status_code == 200:  # supervisors and auditors read the page, without the form
            assert 'data-testid="card-form"' not in page.text, role
        answer = client.post(URL, data={"csrf_token": csrf, "card": moved.to_json()})
        assert answer.status_code in (401, 403), role
    assert _fingerprint(ctx) == first.fingerprint
    assert records(ctx, "federation.partner_updated") == []


def test_the_form_in_french_and_arabic(
    ctx: AppContext, client: TestClient, uganda: tuple[Ed25519Signer, Card]
) -> None:
    add_user(ctx, "root", Role.ADMINISTRATOR)
    csrf = login(client, "root")
    lost = _card(Ed25519Signer.generate("ug.example/ledger/federation"))
    for language in ("fr", "ar"):
        gettext = translations(language).gettext
        page = client.get("/partners", headers={"accept-language": language}).text
        assert html.escape(gettext("Update the card"), quote=False) in page
        asked = client.post(
            URL,
            data={"csrf_token": csrf, "card": lost.to_json()},
            headers={"accept-language": language},
        )
        text = _refusal(asked.text)[2]
        assert text != "" and not text.startswith("Fingerprint read by phone"), text
        assert gettext("Fingerprint of the new card:") in html.unescape(asked.text)
