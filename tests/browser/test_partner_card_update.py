"""A partner's card updated from the partners page in a real browser, on an instance with its
federation identity (``tests/federation/instances.py``): the administrator uploads the
partner's new card, signed by a new request key; the page shows the new card's fingerprint and
asks for the one the partner reads by phone; a wrong one is refused by name; the right one
takes the card, and the page shows the fingerprints before and after. Then the form in Arabic.
No console error; nothing refused but the forms sent on purpose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smartcustoms.core.roles import Role
from smartcustoms.core.users import create_user
from smartcustoms.federation.card import Card, fingerprint_groups, sign_card
from smartcustoms.federation.directory import add_partner
from smartcustoms.ledger.tlog.cosignature import generate_witness_key
from smartcustoms.ledger.tlog.keys import Ed25519Signer, generate_key
from smartcustoms.web.i18n import translations
from tests.browser.conftest import BROWSER_PASSWORD, watch_problems
from tests.federation.instances import Instance, serve

pytestmark = pytest.mark.browser

UG = "Uganda Revenue Authority"


def _card(signer: Ed25519Signer) -> Card:
    return sign_card(
        signer,
        name=UG,
        country="UG",
        url="https://customs.example.ug",
        ledger_vkey=generate_key("customs.example.ug/ledger")[1],
        witness_vkey=generate_witness_key("ug.example/ledger/witness")[1],
    )


@pytest.fixture
def kenya(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Instance, Card]]:
    """Kenya with Uganda as a partner, and an administrator."""
    with serve(tmp_path / "ke", "Kenya Revenue Authority", "KE", template=sqlite_template) as ke:
        first = _card(Ed25519Signer.generate("ug.example/ledger/federation"))
        with ke.ctx.unit() as unit:
            add_partner(unit, first.to_json(), own=ke.card(), actor="setup")
            create_user(
                unit, username="root", password=BROWSER_PASSWORD,
                roles=[Role.ADMINISTRATOR], actor="test",
            )  # fmt: skip
        yield ke, first


def test_upload_a_card_with_a_new_key_confirm_its_fingerprint_and_read_it_in_arabic(
    browser: Any, kenya: tuple[Instance, Card], tmp_path: Path
) -> None:
    ke, first = kenya
    context = browser.new_context(base_url=ke.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_problems(page, documents=False)  # the refused forms answer 422
    page.goto("/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", BROWSER_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/")

    page.goto("/partners")
    update = page.get_by_test_id("card-update")
    assert update.count() == 1
    update.locator("summary").click()
    lost = _card(Ed25519Signer.generate("ug.example/ledger/federation"))
    path = tmp_path / "uganda-card.json"
    path.write_text(lost.to_json())
    form = update.get_by_test_id("card-form")
    form.locator("input[name=card_file]").set_input_files(str(path))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()

    said = fingerprint_groups(lost.fingerprint)
    update = page.get_by_test_id("card-update")
    assert update.get_attribute("open") is not None  # opened again, on this partner
    error = update.get_by_test_id("card-error")
    assert error.get_attribute("data-field") == "confirm_fingerprint"
    assert error.inner_text().startswith("Fingerprint read by phone")
    assert update.get_by_test_id("new-fingerprint").inner_text() == said
    form = update.get_by_test_id("card-form")
    assert form.locator("textarea[name=card]").input_value() == lost.to_json()  # kept

    form.locator("input[name=confirm_fingerprint]").fill(fingerprint_groups(first.fingerprint))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    update = page.get_by_test_id("card-update")
    assert update.get_by_test_id("card-error").get_attribute("data-code") == (
        "fingerprint_mismatch"
    )
    assert fingerprint_groups(first.fingerprint) in page.get_by_test_id("partners").inner_text()

    form = update.get_by_test_id("card-form")
    form.locator("input[name=confirm_fingerprint]").fill(said)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    done = page.get_by_test_id("updated")
    assert done.get_by_test_id("old-fingerprint").inner_text() == fingerprint_groups(
        first.fingerprint
    )
    assert done.get_by_test_id("now-fingerprint").inner_text() == said
    assert "request key" in done.inner_text()
    assert said in page.get_by_test_id("partners").inner_text()
    assert [r["confirmed"] for r in ke.records("federation.partner_updated")] == [True]

    page.goto("/partners")  # the answer to the form's POST is no page to switch language on
    page.click("button[lang=ar]")
    page.wait_for_load_state()
    ar = translations("ar").gettext
    assert page.locator("html").get_attribute("dir") == "rtl"
    update = page.get_by_test_id("card-update")
    update.locator("summary").click()
    words = update.inner_text()
    assert ar("Update the card") in words and ar("New card (JSON)") in words
    assert "Update the card" not in words and "Or the card's file" not in words
    assert problems == []
    context.close()
