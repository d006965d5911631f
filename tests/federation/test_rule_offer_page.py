"""Offering an approved rule to a partner from the targeting rules page, through the real
application: only partners that take rules are offered, the offer is the API's (the same use
case: a ``rule.offered`` message queued and a ledger record) and shows on the rule with its
state; a refusal is a sentence on the page (in the reader's language) with the choice kept;
only analysts and supervisors may offer, and only with the session's CSRF token."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.federation.card import sign_card
from smartcustoms.federation.directory import add_partner, get_partner, set_state
from smartcustoms.federation.exchange_tables import RuleOfferRow
from smartcustoms.federation.rules_offered import RULE_OFFERED
from smartcustoms.federation.service import own_card
from smartcustoms.federation.tables import SUSPENDED, OutboxRow
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.tlog.cosignature import generate_witness_key
from smartcustoms.ledger.tlog.keys import Ed25519Signer, generate_key
from smartcustoms.risk import rulebook
from smartcustoms.risk.lanes import Lane
from tests.conftest import add_user, login

UG = "Uganda Revenue Authority"
TZ = "Tanzania Revenue Authority"  # takes transits only
RW = "Rwanda Revenue Authority"  # suspended


def _card(name: str, country: str) -> str:
    """A partner's signed card: its own URL and keys (the directory refuses shared ones)."""
    host = f"{name.split()[0].lower()}.example"
    return sign_card(
        Ed25519Signer.generate(f"{host}/ledger/federation"),
        name=name,
        country=country,
        url=f"https://customs.{host}",
        ledger_vkey=generate_key(f"{host}/ledger")[1],
        witness_vkey=generate_witness_key(f"{host}/ledger/witness")[1],
    ).to_json()


def _partners(ctx: AppContext) -> None:
    own = own_card(ctx)
    with ctx.unit() as unit:
        for name, country, kinds in ((UG, "UG", None), (TZ, "TZ", ["transits"]), (RW, "RW", None)):
            add_partner(unit, _card(name, country), own=own, actor="admin", kinds=kinds)
    with ctx.unit() as unit:
        set_state(unit, RW, SUSPENDED, actor="admin")


def _seed(ctx: AppContext) -> tuple[int, int]:
    """The partners, and an approved rule and a draft one, written by the analyst."""
    _partners(ctx)
    with ctx.unit() as unit:
        approved = rulebook.propose(
            unit, name="undervalued-cigarettes", expression='hs4 == "2402"', lane=Lane.YELLOW,
            reason="Undervalued at the border", actor="ke-analyst",
        ).id  # fmt: skip
        draft = rulebook.propose(
            unit, name="fresh-idea", expression='hs4 == "2403"', lane=Lane.YELLOW,
            reason="Not reviewed yet", actor="ke-analyst",
        ).id  # fmt: skip
    with ctx.unit() as unit:
        rulebook.review(unit, approved, approve=True, actor="ke-chief")
    return approved, draft


def _row(page: str, ref: str) -> str:
    """The table row of rule version ``ref`` (``name@version``)."""
    return page.split(f'data-rule="{ref}"', 1)[1].split("</tr>", 1)[0]


def _options(row: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', row)


def _offers(ctx: AppContext) -> list[tuple[str, int, str]]:
    with ctx.db.session() as session:
        return [
            (r.rule_name, r.rule_version, r.state)
            for r in session.scalars(select(RuleOfferRow).order_by(RuleOfferRow.id))
        ]


def test_an_analyst_offers_an_approved_rule_from_the_page(
    client: TestClient, ctx: AppContext
) -> None:
    approved, _draft = _seed(ctx)
    add_user(ctx, "ke-analyst", Role.RISK_ANALYST)
    csrf = login(client, "ke-analyst")

    page = client.get("/risk/rules").text
    row = _row(page, "undervalued-cigarettes@1")
    assert 'data-testid="offer-form"' in row
    assert _options(row) == [UG]  # neither the transits-only partner nor the suspended one
    assert 'data-testid="offer-form"' not in _row(page, "fresh-idea@1")  # a draft is not offered

    # Without the session's CSRF token nothing is offered.
    forged = client.post(f"/risk/rules/{approved}/offer", data={"partner": UG})
    assert forged.status_code == 403
    assert _offers(ctx) == []

    done = client.post(
        f"/risk/rules/{approved}/offer",
        data={"partner": UG, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert _offers(ctx) == [("undervalued-cigarettes", 1, "offered")]
    shown = _row(client.get("/risk/rules").text, "undervalued-cigarettes@1")
    offer = shown.split('data-testid="rule-offers"', 1)[1]
    assert f"Offered to {UG}" in offer and "waiting for the partner" in offer

    # The same as the API's offer: the message queued to the partner, and its ledger record.
    with ctx.db.session() as session:
        queued = session.scalars(select(OutboxRow).where(OutboxRow.kind == RULE_OFFERED)).all()
        assert [m.partner_id for m in queued] == [get_partner(session, UG).id]
    ledger = ledger_of(ctx)
    ledger.flush()
    records = [ledger.record(i) for i in range(ledger.size())]
    (offered,) = [r for r in records if r["type"] == "federation.rule_offered"]
    assert (offered["partner"], offered["rule"], offered["actor"]) == (
        UG,
        "undervalued-cigarettes",
        "ke-analyst",
    )


def test_a_refused_offer_is_a_sentence_and_the_choice_is_kept(
    client: TestClient, ctx: AppContext
) -> None:
    approved, draft = _seed(ctx)
    add_user(ctx, "ke-chief", Role.SUPERVISOR)
    csrf = login(client, "ke-chief")

    def offer(version: int, partner: str, lang: str = "en") -> tuple[int, str]:
        answer = client.post(
            f"/risk/rules/{version}/offer?lang={lang}",
            data={"partner": partner, "csrf_token": csrf},
            headers={"accept-language": lang},
        )
        return answer.status_code, answer.text

    def error(page: str) -> str:
        return html.unescape(page.split('data-testid="rule-error">', 1)[1].split("</p>", 1)[0])

    status, page = offer(approved, TZ)
    assert status == 403
    assert error(page) == f"{TZ} does not take targeting rules from this administration."
    row = _row(page, "undervalued-cigarettes@1")
    assert re.search(rf'<option value="{TZ}" selected>', row)  # what was chosen stays chosen
    status, page = offer(approved, RW)
    assert status == 409 and error(page).startswith(f"{RW} is suspended")
    status, page = offer(approved, "Atlantis Customs")
    assert status == 404 and error(page) == "There is no partner named “Atlantis Customs”."
    assert re.search(r'<option value="Atlantis Customs" selected>', page)
    status, page = offer(2_000_000, UG)
    assert status == 404 and error(page) == "This rule no longer exists."
    status, page = offer(draft, UG)
    assert status == 409 and error(page) == "Only an approved rule is offered to a partner."
    status, page = offer(approved, "")
    assert status == 422 and error(page) == "Choose the partner to offer the rule to."
    assert _offers(ctx) == []

    assert client.post(
        f"/risk/rules/{approved}/offer",
        data={"partner": UG, "csrf_token": csrf},
        follow_redirects=False,
    ).status_code == 303  # fmt: skip
    status, page = offer(approved, UG)
    assert status == 409
    assert error(page) == f"This rule version was already offered to {UG} and is not declined."

    # In the reader's language.
    status, page = offer(approved, TZ, "fr")
    assert status == 403 and "n'accepte pas" in error(page) and TZ in error(page)
    status, page = offer(approved, "Atlantis Customs", "ar")
    assert status == 404 and "Atlantis Customs" in error(page)
    assert "There is no partner" not in error(page)
    assert _offers(ctx) == [("undervalued-cigarettes", 1, "offered")]


def test_only_analysts_and_supervisors_offer(client: TestClient, ctx: AppContext) -> None:
    approved, _draft = _seed(ctx)
    add_user(ctx, "ke-auditor", Role.AUDITOR)
    add_user(ctx, "ke-officer", Role.EXAMINING_OFFICER)

    csrf = login(client, "ke-officer")
    refused = client.post(f"/risk/rules/{approved}/offer", data={"partner": UG, "csrf_token": csrf})
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf})

    csrf = login(client, "ke-auditor")
    page = client.get("/risk/rules").text
    assert 'data-testid="offer-form"' not in page  # an auditor reads, offers nothing
    refused = client.post(f"/risk/rules/{approved}/offer", data={"partner": UG, "csrf_token": csrf})
    assert refused.status_code == 403
    assert _offers(ctx) == []
