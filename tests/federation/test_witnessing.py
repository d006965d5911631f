"""Partners witness each other's ledgers, and a third administration witnesses both: three real
instances (uvicorn, each its own SQLite database, keys and ledger). A hand-over made while the
partner is down is queued, retried and delivered once it is back, nothing doubled; Kenya's
genuine request replayed is refused; the partner's account at Kenya reads only the transit
handed to it. Every step of the hand-over —
handed over, handed in, accepted, discharged, guarantee released — is provable at each side by
a bundle whose checkpoint the other side and the third have cosigned, verified offline with keys
only and by Go (sumdb/note for the log's signature, crypto/ed25519 for the cosignatures).

Also: a card whose ledger takes another partner's log name is refused, and a suspended partner is
no longer asked to cosign."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import delete

from smartcustoms.core.errors import NotFound
from smartcustoms.core.roles import Role
from smartcustoms.federation.card import sign_card
from smartcustoms.federation.client import post_signed
from smartcustoms.federation.directory import add_partner, set_state
from smartcustoms.federation.errors import PartnerConflict
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.service import own_signer
from smartcustoms.federation.signing import sign_request
from smartcustoms.federation.tables import ACTIVE, DELIVERED, SUSPENDED
from smartcustoms.federation.witnessing import PartnerWitnesses, witness_partner_logs
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.tables import LedgerWitnessedLog
from smartcustoms.ledger.tlog.cosignature import generate_witness_key
from smartcustoms.ledger.tlog.errors import QuorumNotMet
from smartcustoms.ledger.tlog.keys import Ed25519Signer, generate_key
from smartcustoms.ledger.tlog.offline import check_bundle
from smartcustoms.ledger.tlog.proof_bundle import parse_bundle
from smartcustoms.ledger.witness import add_log, list_logs
from smartcustoms.tracking.transits import hand_over_transit
from tests.federation.instances import Instance, serve
from tests.federation.test_handover import (
    DEVICE,
    KE,
    UG,
    _bearer,
    _fsck_clean,
    _incoming_transit,
    _ingest,
    _outbox,
    _positions,
    httpx,
)
from tests.go_note import build_verifynote, run
from tests.tracking.helpers import MALABA_KE, VOI, import_packaged, make_transit
from tests.waiting import wait_for

TZ = "Tanzania Revenue Authority"


@pytest.fixture(scope="module")
def verifynote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_verifynote(tmp_path_factory.mktemp("gopath"))


@pytest.fixture
def three(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Instance, Instance, Instance]]:
    """Kenya and Uganda, partners (so each other's witnesses), and Tanzania, configured at both
    as a witness (``ledger_witnesses``) and witnessing both logs."""
    with ExitStack() as stack:
        tz = stack.enter_context(serve(tmp_path / "tz", TZ, "TZ", template=sqlite_template))
        witnesses = [f"{tz.url}/ledger/witness {tz.card().witness_vkey}"]
        ke, ug = (
            stack.enter_context(
                serve(tmp_path / c, n, c, template=sqlite_template, ledger_witnesses=witnesses)
            )
            for n, c in ((KE, "KE"), (UG, "UG"))
        )
        with tz.ctx.db.writer.begin() as conn:
            for log_of in (ke, ug):
                add_log(conn, ledger_of(log_of.ctx).vkey())
        for here, there in ((ke, ug), (ug, ke)):
            with here.ctx.unit() as unit:
                add_partner(unit, there.card().to_json(), own=here.card(), actor="admin")
        import_packaged(ke.ctx)
        import_packaged(ug.ctx)
        yield ke, ug, tz


def _index(instance: Instance, type_: str) -> int:
    """The ledger index of the first record of ``type_``."""
    ledger = ledger_of(instance.ctx)
    ledger.flush()
    return next(i for i in range(ledger.size()) if ledger.record(i).get("type") == type_)


def _proved(instance: Instance, index: int, witnesses: list[str]) -> str | None:
    """The entry's proof bundle once its checkpoint carries every one of ``witnesses``'
    cosignatures (verified offline, keys only), else None."""
    ledger = ledger_of(instance.ctx)
    try:
        bundle = ledger.proof_bundle(index)
        check_bundle(bundle, ledger.vkey(), witnesses)
    except (QuorumNotMet, NotFound):  # not cosigned by all of them yet, or not signed yet
        return None
    return bundle


def test_every_hand_over_step_is_cosigned_by_the_partner_and_the_third_witness(
    three: tuple[Instance, Instance, Instance], verifynote: Path
) -> None:
    ke, ug, tz = three
    transit_id = make_transit(ke.ctx, DEVICE)
    not_handed = make_transit(ke.ctx, "SEAL-FED-KEPT")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    _ingest(ke, [VOI, MALABA_KE], start)
    ug.stop_serving()  # the partner is down at the hand-over: queued and retried
    with ke.ctx.unit() as unit:
        hand_over_transit(
            unit, transit_id, actor="officer", border="KE-MALABA", to_administration=UG
        )
    wait_for(lambda: any(r.attempts >= 2 for r in _outbox(ke)), message="no retry", timeout=20)
    assert _incoming_transit(ug) is None
    ug.start_serving()
    wait_for(lambda: _incoming_transit(ug) is not None, message="not handed in", timeout=30)
    handed = _incoming_transit(ug)
    assert handed is not None
    assert _positions(ug) == 2  # the track so far, once
    # The hand-over again, Kenya's genuine signature replayed: refused, nothing doubled.
    sent = next(r for r in _outbox(ke) if r.kind == "transit.handover")
    url = ug.url + INBOX_PATH
    headers = sign_request(own_signer(ke.ctx), "POST", url, sent.body.encode())
    assert post_signed(url, sent.body.encode(), headers).body["duplicate"] is True
    replayed = post_signed(url, sent.body.encode(), headers)
    assert replayed.status == 401 and replayed.error_code == "nonce_replayed"
    # Uganda's liaison account at Kenya reads the transit handed to Uganda, not another.
    liaison = _bearer(ke, "ug-liaison", Role.PARTNER_ADMINISTRATION)
    admin = _bearer(ke, "ke-admin", Role.ADMINISTRATOR)
    linked = httpx.put(f"{ke.url}/api/partners/{quote(UG)}/accounts/ug-liaison", headers=admin)
    assert linked.status_code == 200, linked.text
    assert httpx.get(f"{ke.url}/api/tracking/transits/{transit_id}", headers=liaison).is_success
    refused = httpx.get(f"{ke.url}/api/tracking/transits/{not_handed}", headers=liaison)
    assert refused.status_code == 403
    officer = _bearer(ug, "ug-officer", Role.EXAMINING_OFFICER)
    base = f"{ug.url}/api/tracking/transits/{handed.id}"
    assert httpx.post(f"{base}/accept", headers=officer).status_code == 200
    done = httpx.post(f"{base}/discharge", headers=officer, json={"seal_intact": True})
    assert done.status_code == 200, done.text
    wait_for(lambda: bool(ke.records("federation.guarantee_released")), timeout=30)
    wait_for(lambda: all(r.state == DELIVERED for r in _outbox(ke) + _outbox(ug)), timeout=30)

    tz_key = tz.card().witness_vkey
    # Each side's own steps, proved at that side with the other's and the third's cosignature.
    sides = (
        (ke, ug, ("tracking.transit_handed_over", "federation.guarantee_released")),
        (
            ug,
            ke,
            (
                "federation.transit_handed_in",
                "federation.transit_accepted",
                "tracking.transit_discharged",
            ),
        ),
    )
    for side, other, steps in sides:
        witnesses = [other.card().witness_vkey, tz_key]
        for type_ in steps:
            index = _index(side, type_)
            wait_for(
                lambda s=side, i=index, w=witnesses: _proved(s, i, w) is not None,
                message=f"{side.name}'s {type_} not cosigned by {other.name} and {TZ}",
                timeout=40,
            )
            bundle = _proved(side, index, witnesses)
            assert bundle is not None
            checked = check_bundle(bundle, ledger_of(side.ctx).vkey(), witnesses)
            assert checked.record is not None and checked.record["type"] == type_
            # Go, with nothing of ours: the log's signature and both cosignatures.
            note = parse_bundle(bundle).checkpoint
            go = run(verifynote, note, ledger_of(side.ctx).vkey(), *witnesses)
            assert go.returncode == 0, go.stderr
            assert go.stdout.count("\ncosigned ") == 2 and "unverified 0" in go.stdout
            # Without the partner's cosignature the bundle no longer meets the two witnesses.
            partner_name = other.card().witness_vkey.split("+")[0]
            theirs = next(x for x in note.splitlines() if x.startswith(f"— {partner_name} "))
            stripped = bundle.replace(theirs + "\n", "")
            with pytest.raises(QuorumNotMet):
                check_bundle(stripped, ledger_of(side.ctx).vkey(), witnesses)

    # Each side's witness state holds the other's log, as far as it cosigned it.
    for side, other in ((ke, ug), (ug, ke)):
        with side.ctx.db.engine.connect() as conn:
            logs = {w.origin: w for w in list_logs(conn)}
        assert logs[other.ctx.settings.ledger_origin].size > 0
    _fsck_clean(ke)
    _fsck_clean(ug)


def test_a_card_taking_another_partner_s_log_name_is_refused(
    three: tuple[Instance, Instance, Instance],
) -> None:
    ke, ug, _ = three
    # A new administration's card whose ledger key is named as Uganda's log: we would cosign a
    # second tree under Uganda's name, and Uganda's own checkpoints would then be refused.
    impostor = generate_key(ug.ctx.settings.ledger_origin)[1]
    card = sign_card(
        Ed25519Signer.generate("rw.example/ledger/federation"),
        name="Rwanda Revenue Authority",
        country="RW",
        url="https://customs.example.rw",
        ledger_vkey=impostor,
        witness_vkey=generate_witness_key("rw.example/ledger/witness")[1],
    )
    with pytest.raises(PartnerConflict) as refused, ke.ctx.unit() as unit:
        add_partner(unit, card.to_json(), own=ke.card(), actor="admin")
    assert refused.value.details[0]["field"] == "ledger_vkey"
    with ke.ctx.db.engine.connect() as conn:
        ug_log = next(w for w in list_logs(conn) if w.origin == ug.ctx.settings.ledger_origin)
    assert impostor not in ug_log.vkeys
    # A card whose ledger takes our own log's name: refused as a card of ourselves.
    own_name = sign_card(
        Ed25519Signer.generate("rw.example/ledger/federation"),
        name="Rwanda Revenue Authority",
        country="RW",
        url="https://customs.example.rw",
        ledger_vkey=generate_key(ke.ctx.settings.ledger_origin)[1],
        witness_vkey=generate_witness_key("rw.example/ledger/witness")[1],
    )
    with pytest.raises(PartnerConflict) as refused, ke.ctx.unit() as unit:
        add_partner(unit, own_name.to_json(), own=ke.card(), actor="admin")
    assert refused.value.code == "partner_is_self"


def test_a_suspended_partner_is_no_longer_asked_and_old_partners_are_witnessed_at_start(
    three: tuple[Instance, Instance, Instance],
) -> None:
    ke, ug, _ = three
    assert [p.verifier.key_string() for p in PartnerWitnesses(ke.ctx.db, 0.0)()] == [
        ug.card().witness_vkey
    ]
    with ke.ctx.unit() as unit:
        set_state(unit, UG, SUSPENDED, actor="admin")
    assert PartnerWitnesses(ke.ctx.db, 0.0)() == []
    with ke.ctx.unit() as unit:
        set_state(unit, UG, ACTIVE, actor="admin")
    # A partner added before partners witnessed each other: registered when the server starts.
    with ke.ctx.db.writer.begin() as conn:
        conn.execute(delete(LedgerWitnessedLog))
    assert witness_partner_logs(ke.ctx.db, ke.ctx.settings.ledger_origin) == 1
    assert witness_partner_logs(ke.ctx.db, ke.ctx.settings.ledger_origin) == 0
    with ke.ctx.db.engine.connect() as conn:
        assert [w.origin for w in list_logs(conn)] == [ug.ctx.settings.ledger_origin]
