"""A partner's card updated from a newer one: a real partner rotates its ledger key, is updated
here from its new card, and its checkpoints signed with the new key are then cosigned by our
witness, whose state for its log keeps its tree. A card with another request key needs the
fingerprint read by phone; a card taking another partner's log or our keys is refused; the
ledger records each update; the command line and the API (administrators only) do the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import NotFound, ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.federation.card import Card, fingerprint_groups, sign_card
from smartcustoms.federation.directory import add_partner, get_partner, update_partner
from smartcustoms.federation.errors import CardRejected, PartnerConflict
from smartcustoms.federation.service import own_card
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.tlog.cosignature import generate_witness_key
from smartcustoms.ledger.tlog.errors import QuorumNotMet, UnknownKey
from smartcustoms.ledger.tlog.keys import Ed25519Signer, generate_key
from smartcustoms.ledger.tlog.offline import check_bundle
from smartcustoms.ledger.witness import WitnessedLog, list_logs
from tests.cli.test_partners import _env, run
from tests.federation.instances import Instance, serve
from tests.federation.test_card import a_card, kenya  # noqa: F401 - the fixture
from tests.waiting import wait_for
from tests.web.conftest import bearer

KE, UG = "Kenya Revenue Authority", "Uganda Revenue Authority"


@pytest.fixture
def pair(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Instance, Instance]]:
    """Kenya and Uganda, each the other's partner (so each the other's witness)."""
    with ExitStack() as stack:
        ke, ug = (
            stack.enter_context(serve(tmp_path / c, n, c, template=sqlite_template))
            for n, c in ((KE, "KE"), (UG, "UG"))
        )
        for here, there in ((ke, ug), (ug, ke)):
            with here.ctx.unit() as unit:
                add_partner(unit, there.card().to_json(), own=here.card(), actor="admin")
        yield ke, ug


def _record(instance: Instance, name: str) -> int:
    """A real ledger record at ``instance`` (a partner added there); its ledger index."""
    with instance.ctx.unit() as unit:
        add_partner(
            unit, a_card(name, url=f"https://{name}.example").to_json(),
            own=instance.card(), actor="admin",
        )  # fmt: skip
    ledger = ledger_of(instance.ctx)
    ledger.flush()
    return ledger.size() - 1


def _cosigned(instance: Instance, index: int, vkey: str, witness: str) -> str | None:
    """The entry's proof bundle once its checkpoint, signed by ``vkey``, is cosigned by
    ``witness``; else None."""
    try:
        bundle = ledger_of(instance.ctx).proof_bundle(index)
        check_bundle(bundle, vkey, [witness])
    except (QuorumNotMet, NotFound, UnknownKey):
        return None
    return bundle


def _witnessed(instance: Instance, origin: str) -> WitnessedLog:
    with instance.ctx.db.engine.connect() as conn:
        return next(w for w in list_logs(conn) if w.origin == origin)


def test_a_rotated_ledger_key_is_taken_in_and_its_checkpoints_cosigned_with_the_same_tree(
    pair: tuple[Instance, Instance],
) -> None:
    ke, ug = pair
    ours = ke.card().witness_vkey
    old_vkey = ledger_of(ug.ctx).vkey()
    before = _record(ug, "before")
    wait_for(lambda: _cosigned(ug, before, old_vkey, ours) is not None, timeout=30,
             message="Uganda's checkpoint not cosigned by Kenya")  # fmt: skip
    old_card = ug.card()

    ledger_of(ug.ctx).rotate_key("admin")
    new_vkey = ledger_of(ug.ctx).vkey()
    assert new_vkey != old_vkey
    # The first checkpoint under the new key also carries the old key's signature: Kenya still
    # cosigns it (by the old key), and the ones after it are signed by the new key alone.
    bridge = _record(ug, "bridge")
    wait_for(lambda: _cosigned(ug, bridge, old_vkey, ours) is not None, timeout=30,
             message="Uganda's rotation checkpoint not cosigned by Kenya")  # fmt: skip
    origin = ug.ctx.settings.ledger_origin
    size = _witnessed(ke, origin).size
    assert size > 0

    with ke.ctx.unit() as unit:
        done = update_partner(unit, ug.card().to_json(), own=ke.card(), actor="admin")
    assert done.changed == ("ledger_vkey",)
    assert done.old_fingerprint == old_card.fingerprint != done.row.fingerprint
    kept = _witnessed(ke, origin)
    # The same log, its tree kept (a checkpoint of Uganda's may have landed since: never less).
    assert kept.size >= size and list(kept.vkeys) == [old_vkey, new_vkey]

    after = _record(ug, "after")
    wait_for(lambda: _cosigned(ug, after, new_vkey, ours) is not None, timeout=30,
             message="Uganda's checkpoint under its new key not cosigned by Kenya")  # fmt: skip
    bundle = _cosigned(ug, after, new_vkey, ours)
    assert bundle is not None
    with pytest.raises(UnknownKey):  # signed by the new key alone: cosigned because updated
        check_bundle(bundle, old_vkey, [ours])
    assert _witnessed(ke, origin).size > size

    [updated] = ke.records("federation.partner_updated")
    assert updated["name"] == UG and updated["actor"] == "admin"
    assert (updated["old_fingerprint"], updated["fingerprint"]) == (
        old_card.fingerprint,
        ug.card().fingerprint,
    )
    assert updated["changed"] == ["ledger_vkey"] and updated["confirmed"] is False


def _card_of(signer: Ed25519Signer, *, ledger_vkey: str | None = None, url: str = "") -> Card:
    return sign_card(
        signer,
        name=UG,
        country="UG",
        url=url or "https://customs.example.ug",
        ledger_vkey=ledger_vkey or generate_key("customs.example.ug/ledger")[1],
        witness_vkey=generate_witness_key("ug.example/ledger/witness")[1],
    )


def test_another_request_key_needs_the_fingerprint_and_taken_keys_are_refused(
    kenya: AppContext,  # noqa: F811 - the fixture
) -> None:
    own = own_card(kenya)
    request_key = Ed25519Signer.generate("ug.example/ledger/federation")
    first = _card_of(request_key)
    other = a_card("Tanzania Revenue Authority", url="https://customs.example.tz")
    with kenya.unit() as unit:
        add_partner(unit, first.to_json(), own=own, actor="admin", kinds=["transits", "scans"])
        add_partner(unit, other.to_json(), own=own, actor="admin")

    lost = _card_of(Ed25519Signer.generate("ug.example/ledger/federation"))
    with kenya.unit() as unit, pytest.raises(CardRejected) as refused:
        update_partner(unit, lost.to_json(), own=own, actor="admin")
    assert refused.value.code == "fingerprint_confirmation_required"
    assert refused.value.details == [{"field": "confirm_fingerprint"}]
    with kenya.unit() as unit, pytest.raises(CardRejected) as refused:
        update_partner(
            unit, lost.to_json(), own=own, actor="admin",
            confirm_fingerprint=fingerprint_groups(first.fingerprint),
        )  # fmt: skip
    assert refused.value.code == "fingerprint_mismatch"
    with kenya.unit() as unit:
        done = update_partner(
            unit, lost.to_json(), own=own, actor="admin",
            confirm_fingerprint=fingerprint_groups(lost.fingerprint),
        )  # fmt: skip
        assert done.changed == ("request_vkey", "ledger_vkey", "witness_vkey")
    with kenya.db.session() as session:
        row = get_partner(session, UG)
        # What it may receive stays as it was (its card accepts all four).
        assert (row.request_vkey, row.kinds) == (lost.request_vkey, "transits,scans")

    # From now on the key it vouches with is the new one: a card the old key signs is not.
    stale = _card_of(request_key, ledger_vkey=lost.ledger_vkey, url="https://new.example.ug")
    with kenya.unit() as unit, pytest.raises(CardRejected) as refused:
        update_partner(unit, stale.to_json(), own=own, actor="admin")
    assert refused.value.code == "fingerprint_confirmation_required"

    refusals = (
        # Tanzania's log, under another key: we would cosign a second tree under its name.
        (_card_of(request_key, ledger_vkey=generate_key(other.ledger_vkey.split("+")[0])[1]),
         "partner_exists", "ledger_vkey"),
        # Tanzania's own ledger key.
        (_card_of(request_key, ledger_vkey=other.ledger_vkey), "partner_exists", "ledger_vkey"),
        # Our ledger key: our cosignatures would count as the partner's.
        (_card_of(request_key, ledger_vkey=own.ledger_vkey), "partner_is_self", "card"),
        # Tanzania's URL.
        (_card_of(request_key, url=other.url), "partner_exists", "url"),
    )  # fmt: skip
    for card, code, field in refusals:
        with kenya.unit() as unit, pytest.raises(PartnerConflict) as conflict:
            update_partner(
                unit, card.to_json(), own=own, actor="admin",
                confirm_fingerprint=card.fingerprint,
            )  # fmt: skip
        assert (conflict.value.code, conflict.value.details[0]["field"]) == (code, field)
    with kenya.unit() as unit, pytest.raises(NotFound):
        update_partner(unit, a_card("Rwanda Revenue Authority").to_json(), own=own, actor="a")
    with kenya.unit() as unit, pytest.raises(ValidationFailed) as wrong:
        update_partner(unit, lost.to_json(), own=own, actor="admin", name=other.name)
    assert wrong.value.details[0]["field"] == "card.name"

    # Kinds are narrowed, never widened, by an update.
    wider = _card_of(request_key, url="https://customs.example.ug")
    with kenya.unit() as unit, pytest.raises(ValidationFailed) as widened:
        update_partner(
            unit, wider.to_json(), own=own, actor="admin", kinds=["notices"],
            confirm_fingerprint=wider.fingerprint,
        )  # fmt: skip
    assert widened.value.details == [{"field": "kinds", "value": ["notices"]}]

    ledger = ledger_of(kenya)
    ledger.flush()
    records = [ledger.record(i) for i in range(ledger.size())]
    [updated] = [r for r in records if r["type"] == "federation.partner_updated"]
    assert updated["confirmed"] is True
    assert (updated["old_fingerprint"], updated["fingerprint"]) == (
        first.fingerprint,
        lost.fingerprint,
    )


def test_the_api_updates_a_card_for_administrators_only(
    client: TestClient, ctx: AppContext, role_tokens: dict[Role, str]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    signer = Ed25519Signer.generate("ug.example/ledger/federation")
    first = _card_of(signer)
    added = client.post("/api/partners", json={"card": json.loads(first.to_json())}, headers=admin)
    assert added.status_code == 201, added.text
    rotated = _card_of(signer, ledger_vkey=generate_key("customs.example.ug/ledger")[1])
    body = {"card": json.loads(rotated.to_json())}
    url = f"/api/partners/{UG}/card"
    for role in (Role.SUPERVISOR, Role.AUDITOR, Role.PARTNER_ADMINISTRATION):
        assert client.put(url, json=body, headers=bearer(role_tokens[role])).status_code == 403
    wrong = client.put("/api/partners/Somebody/card", json=body, headers=admin)
    assert (wrong.status_code, wrong.json()["error"]["details"][0]["field"]) == (422, "card.name")

    done = client.put(url, json=body, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["old_fingerprint"] == fingerprint_groups(first.fingerprint)
    assert done.json()["partner"]["fingerprint"] == fingerprint_groups(rotated.fingerprint)
    assert done.json()["changed"] == ["ledger_vkey", "witness_vkey"]

    lost = _card_of(Ed25519Signer.generate("ug.example/ledger/federation"))
    body = {"card": json.loads(lost.to_json())}
    refused = client.put(url, json=body, headers=admin)
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        422,
        "fingerprint_confirmation_required",
    )
    said = fingerprint_groups(lost.fingerprint)
    confirmed = client.put(url, json={**body, "confirm_fingerprint": said}, headers=admin)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["partner"]["request_vkey"] == lost.request_vkey

    ledger = ledger_of(ctx)
    ledger.flush()
    types = [ledger.record(i)["type"] for i in range(ledger.size())]
    assert types.count("federation.partner_updated") == 2


def test_the_command_line_updates_and_prints_both_fingerprints(
    tmp_path: Path, sqlite_template: Path
) -> None:
    ke = _env(tmp_path / "ke", sqlite_template, KE, "KE", "https://customs.example.ke")
    signer = Ed25519Signer.generate("ug.example/ledger/federation")
    first = _card_of(signer)
    (tmp_path / "ug.json").write_text(first.to_json())
    code, _, err = run(ke, "partners", "add", str(tmp_path / "ug.json"))
    assert code == 0, err

    moved = _card_of(signer, ledger_vkey=first.ledger_vkey, url="https://new.customs.example.ug")
    (tmp_path / "moved.json").write_text(moved.to_json())
    code, out, err = run(ke, "partners", "update", str(tmp_path / "moved.json"))
    assert code == 0, err
    assert f"old fingerprint: {fingerprint_groups(first.fingerprint)}" in out
    assert f"new fingerprint: {fingerprint_groups(moved.fingerprint)}" in out
    assert "url" in out

    lost = _card_of(Ed25519Signer.generate("ug.example/ledger/federation"))
    (tmp_path / "lost.json").write_text(lost.to_json())
    code, _, err = run(ke, "partners", "update", str(tmp_path / "lost.json"))
    assert code == 1 and "confirm its fingerprint" in err
    said = fingerprint_groups(lost.fingerprint)
    code, out, err = run(
        ke, "partners", "update", str(tmp_path / "lost.json"), "--confirm-fingerprint", said
    )
    assert code == 0, err
    assert f"new fingerprint: {said}" in out
    code, out, _ = run(ke, "partners", "list", "--json")
    assert json.loads(out)[0]["request_vkey"] == lost.request_vkey
