"""The community page between two real instances: each cosigns the other's ledger over HTTP as
its witness, as partners do by themselves (the lag counted when the origin's log grows past it
while the partner is down), a transit handed over, a
rule offered and adopted, notices each way; the figures on both sides, over the API and on the
page in English, French and Arabic."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from smartcustoms.core.roles import Role
from smartcustoms.federation.exchange_tables import RuleReceivedRow
from smartcustoms.federation.notices import publish_notice
from smartcustoms.federation.rules_offered import offer_rule
from smartcustoms.federation.tables import DELIVERED
from smartcustoms.ledger.service import ledger_of
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.rulebook import propose, review
from smartcustoms.tracking.transits import hand_over_transit
from tests.federation.instances import Instance
from tests.federation.test_handover import _bearer, _fsck_clean, _outbox, httpx, pair  # noqa: F401
from tests.tracking.helpers import make_transit
from tests.waiting import wait_for

KE = "Kenya Revenue Authority"
UG = "Uganda Revenue Authority"
NOTICE = {
    "kind": "irregularity",
    "found": "Second-hand clothes declared as rags",
    "hs_code": "630900",
    "route": "Northern Corridor",
    "concealment": "none",
    "quantity": "12.5",
    "unit": "t",
    "found_on": date.today().isoformat(),
}


def _figures(instance: Instance, headers: dict[str, str], partner: str) -> dict[str, Any]:
    answer = httpx.get(f"{instance.url}/api/federation/community", headers)
    assert answer.status_code == 200, answer.text
    (found,) = [p for p in answer.json() if p["name"] == partner]
    return dict(found)


def test_the_community_page_shows_what_each_partner_does_for_the_other(
    pair: tuple[Instance, Instance],  # noqa: F811
) -> None:
    ke, ug = pair
    transit_id = make_transit(ke.ctx, "SEAL-COMMUNITY")
    with ke.ctx.unit() as unit:
        hand_over_transit(
            unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
        )
    with ke.ctx.unit() as unit:
        rule = propose(
            unit, name="rags", expression='hs4 = "6309"', lane=Lane.YELLOW,
            reason="Clothes declared as rags", actor="analyst",
        )  # fmt: skip
    with ke.ctx.unit() as unit:
        review(unit, rule.id, approve=True, actor="chief")
    with ke.ctx.unit() as unit:
        offer_rule(unit, UG, rule.id, actor="analyst")
        publish_notice(unit, NOTICE, [UG], own_name=KE, actor="analyst")
    with ug.ctx.unit() as unit:
        publish_notice(unit, NOTICE, [KE], own_name=UG, actor="ug-analyst")
    wait_for(
        lambda: len(_outbox(ke)) >= 3 and all(r.state == DELIVERED for r in _outbox(ke)),
        message="Kenya's messages were not delivered",
        timeout=30,
    )
    with ug.ctx.db.session() as session:
        proposal_id = session.scalar(select(RuleReceivedRow.rule_version_id))
    assert proposal_id is not None
    with ug.ctx.unit() as unit:
        review(unit, proposal_id, approve=True, actor="ug-chief")

    ke_chief = _bearer(ke, "ke-chief", Role.SUPERVISOR)
    ug_chief = _bearer(ug, "ug-chief", Role.SUPERVISOR)
    wait_for(
        lambda: _figures(ke, ke_chief, UG)["rules_adopted_there"] == 1,
        message="the adoption did not come back",
        timeout=30,
    )
    # Partners witness each other by themselves: both sides agree on what each cosigned.
    ke_ledger = ledger_of(ke.ctx)
    ke_ledger.flush()
    assert ke_ledger.wait_covered(ke_ledger.size() - 1)

    def agreed() -> tuple[int, int] | None:
        here, there = _figures(ke, ke_chief, UG), _figures(ug, ug_chief, KE)
        latest = ke_ledger.checkpoint()
        if latest is None or here["cosigned_size"] != latest.size:
            return None  # Uganda has not cosigned our latest checkpoint yet
        if here["cosigned_size"] != there["witnessed_size"]:
            return None
        if not there["cosigned_size"] or there["cosigned_size"] != here["witnessed_size"]:
            return None
        return here["cosigned_size"], there["cosigned_size"]

    wait_for(lambda: agreed() is not None, message="the partners did not witness", timeout=30)
    sizes = agreed()
    assert sizes is not None
    ke_size, ug_size = sizes
    # Uganda goes down: what Kenya records meanwhile is not cosigned, and the lag shows it.
    ug.stop_serving()
    with ke.ctx.unit() as unit:
        propose(
            unit, name="rags-2", expression='hs4 = "6310"', lane=Lane.YELLOW,
            reason="Rags", actor="analyst",
        )  # fmt: skip
    ke_ledger.flush()
    assert ke_ledger.wait_covered(ke_ledger.size() - 1)
    at_ke = _figures(ke, ke_chief, UG)
    assert at_ke["cosigned_size"] == ke_size and at_ke["witnessed_size"] >= ug_size
    latest = ke_ledger.checkpoint()
    assert latest is not None and at_ke["lag_entries"] == latest.size - ke_size > 0
    assert at_ke["lag_s"] >= 0
    assert (at_ke["transits_out"], at_ke["transits_in"]) == (1, 0)
    assert (at_ke["rules_offered"], at_ke["rules_adopted_there"]) == (1, 1)
    assert (at_ke["rules_received"], at_ke["rules_adopted_here"]) == (0, 0)
    assert (at_ke["notices_sent"], at_ke["notices_received"]) == (1, 1)
    assert (at_ke["scans_sent"], at_ke["scans_received"]) == (0, 0)
    # The page, in each language: the figures, the words translated, Arabic right to left.
    headings = {
        "en": ("The community", "Cosigns our ledger", "adopted"),
        "fr": ("La communauté", "Cosigne notre registre", "adoptée"),
        "ar": ("المجتمع", "يوقّع على سجلنا", "معتمدة"),
    }
    for language, words in headings.items():
        page = httpx.get(f"{ke.url}/partners/community", {**ke_chief, "accept-language": language})
        assert page.status_code == 200, page.text
        assert all(word in page.text for word in words), language
        assert ('dir="rtl"' in page.text) == (language == "ar")
        row = page.text.split(f'data-partner="{UG}"', 1)[1].split("</tr>", 1)[0]
        assert 'data-testid="transits">1 / 0<' in row
        assert 'data-testid="rules-offered">1 / 1<' in row
        assert 'data-testid="notices">1 / 1<' in row
        assert f"{ke_size}" in row.split('data-testid="witnessing"')[1]
    # Uganda back: its own figures (it cosigned at least as far as both sides agreed).
    ug.start_serving()
    at_ug = _figures(ug, ug_chief, KE)
    assert at_ug["cosigned_size"] >= ug_size and at_ug["witnessed_size"] >= ke_size
    assert (at_ug["transits_out"], at_ug["transits_in"]) == (0, 1)
    assert (at_ug["rules_received"], at_ug["rules_adopted_here"]) == (1, 1)
    assert (at_ug["notices_sent"], at_ug["notices_received"]) == (1, 1)
    # Who may read it: supervisors, auditors, administrators; not an officer.
    officer = _bearer(ke, "ke-officer", Role.EXAMINING_OFFICER)
    assert httpx.get(f"{ke.url}/partners/community", officer).status_code == 403
    assert httpx.get(f"{ke.url}/api/federation/community", officer).status_code == 403
    # Both ledgers still check out, the new records included.
    _fsck_clean(ke)
    _fsck_clean(ug)
