"""Two real instances (uvicorn, each its own SQLite database and keys) exchange cards and ping
each other over signed requests; forged, altered, replayed, stale, unknown and suspended
requests are refused with their code, and each refusal is in the receiver's ledger."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from smartcustoms.core import clock
from smartcustoms.federation.client import envelope, post_signed, send_message
from smartcustoms.federation.directory import add_partner, set_state
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.outbox import enqueue, outbox_summary
from smartcustoms.federation.refusals import RefusalLimiter
from smartcustoms.federation.service import own_signer, ping
from smartcustoms.federation.signing import sign_request
from smartcustoms.federation.tables import DEAD, DELIVERED, InboxRow, OutboxRow, PartnerRow
from smartcustoms.ledger.tlog.keys import Ed25519Signer
from tests.federation.instances import Instance, serve
from tests.waiting import wait_for

UG = "Uganda Revenue Authority"


@pytest.fixture
def pair(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Instance, Instance]]:
    """Kenya and Uganda, partners: each added the other's card (what `partners add` does).
    Started per test: the suite checks that no ledger thread outlives a test."""
    tmp = tmp_path
    with (
        serve(tmp / "ke", "Kenya Revenue Authority", "KE", template=sqlite_template) as ke,
        serve(tmp / "ug", "Uganda Revenue Authority", "UG", template=sqlite_template) as ug,
    ):
        for here, there in ((ke, ug), (ug, ke)):
            with here.ctx.unit() as unit:
                add_partner(unit, there.card().to_json(), own=here.card(), actor="admin")
        yield ke, ug


def inbox_count(instance: Instance) -> int:
    with instance.ctx.db.session() as session:
        return session.query(InboxRow).count()


def test_ping_each_way(pair: tuple[Instance, Instance]) -> None:
    ke, ug = pair
    answer = ping(ke.ctx, "Uganda Revenue Authority", actor="admin")
    assert answer["answer"] == {
        "hello": "Kenya Revenue Authority",
        "from": "Uganda Revenue Authority",
    }
    assert answer["duplicate"] is False
    back = ping(ug.ctx, "Kenya Revenue Authority", actor="admin")
    assert back["answer"]["from"] == "Kenya Revenue Authority"
    # Both ledgers: the receiver recorded the message, the sender its acknowledged send.
    received = ug.records("federation.message_received")
    assert any(r["message_id"] == answer["id"] for r in received)
    assert received[-1]["partner"] == "Kenya Revenue Authority"
    sent = ke.records("federation.message_sent")
    assert any(r["message_id"] == answer["id"] and r["status"] == 200 for r in sent)
    assert ke.records("federation.partner_added")[0]["name"] == "Uganda Revenue Authority"


def test_a_redelivered_message_is_acknowledged_not_processed_twice(
    pair: tuple[Instance, Instance],
) -> None:
    ke, ug = pair
    before = inbox_count(ug)
    message_id = str(uuid.uuid4())
    signer = own_signer(ke.ctx)
    _, first = send_message(signer, ug.url, "partner.hello", {}, message_id=message_id)
    _, again = send_message(signer, ug.url, "partner.hello", {}, message_id=message_id)
    assert first.status == again.status == 200
    assert first.body["duplicate"] is False
    assert again.body["duplicate"] is True
    assert again.body["answer"] == first.body["answer"]
    assert inbox_count(ug) == before + 1
    received = [
        r for r in ug.records("federation.message_received") if r["message_id"] == message_id
    ]
    assert len(received) == 1
    # The same id with another body is not a redelivery.
    _, other = send_message(signer, ug.url, "partner.hello", {"x": 1}, message_id=message_id)
    assert (other.status, other.error_code) == (409, "message_id_reused")


def _refusals(instance: Instance, code: str) -> list[dict[str, object]]:
    return [r for r in instance.records("federation.request_refused") if r["code"] == code]


def _post(instance: Instance, body: bytes, headers: dict[str, str]) -> tuple[int, str | None]:
    answer = post_signed(instance.url + INBOX_PATH, body, headers)
    return answer.status, answer.error_code


def test_forged_altered_replayed_stale_and_unknown_requests_are_refused_and_recorded(
    pair: tuple[Instance, Instance],
) -> None:
    ke, ug = pair
    url = ug.url + INBOX_PATH
    signer = own_signer(ke.ctx)
    body = envelope("partner.hello", {})

    # Forged: signed by another key that claims Kenya's key id.
    forger = Ed25519Signer.generate(signer.name)
    headers = sign_request(forger, "POST", url, body)
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        f"{forger.key_id:08x}", f"{signer.key_id:08x}"
    )
    assert _post(ug, body, headers) == (401, "signature_invalid")

    # Altered: the body changed after signing (the digest no longer matches).
    headers = sign_request(signer, "POST", url, body)
    assert _post(ug, body.replace(b"{}", b'{"a":1}'), headers) == (401, "digest_mismatch")

    # Replayed: the same signed request twice.
    headers = sign_request(signer, "POST", url, envelope("partner.hello", {}))
    replayed = envelope("partner.hello", {})
    headers = sign_request(signer, "POST", url, replayed)
    assert _post(ug, replayed, headers)[0] == 200
    assert _post(ug, replayed, headers) == (401, "nonce_replayed")

    # Stale: created outside the window (60 s here), in the past and in the future.
    old = sign_request(signer, "POST", url, body, created=clock.now() - timedelta(seconds=300))
    assert _post(ug, body, old) == (401, "stale_request")
    ahead = sign_request(signer, "POST", url, body, created=clock.now() + timedelta(seconds=300))
    assert _post(ug, body, ahead) == (401, "stale_request")

    # Unknown key, and no signature at all.
    stranger = Ed25519Signer.generate("tz.example/ledger/federation")
    assert _post(ug, body, sign_request(stranger, "POST", url, body)) == (401, "unknown_key")
    assert _post(ug, body, {"Content-Type": "application/json"}) == (401, "signature_missing")

    # Signed for another instance's URL: the target URI is covered.
    elsewhere = sign_request(signer, "POST", "http://127.0.0.1:1" + INBOX_PATH, body)
    assert _post(ug, body, elsewhere) == (401, "signature_invalid")

    for code in (
        "signature_invalid",
        "digest_mismatch",
        "nonce_replayed",
        "stale_request",
    ):
        assert _refusals(ug, code), f"no ledger record of the {code} refusal"
    # A stranger's requests are logged, not recorded: nobody outside grows our ledger.
    assert not _refusals(ug, "unknown_key") and not _refusals(ug, "signature_missing")
    replay = _refusals(ug, "nonce_replayed")[-1]
    assert replay["partner"] == "Kenya Revenue Authority"
    assert str(replay["key_id"]).startswith("ke.example/ledger/federation+")
    assert replay["path"] == INBOX_PATH


def test_a_suspended_partner_is_refused_until_reactivated(pair: tuple[Instance, Instance]) -> None:
    ke, ug = pair
    with ug.ctx.unit() as unit:
        set_state(unit, "Kenya Revenue Authority", "suspended", actor="admin")
    try:
        _, answer = send_message(own_signer(ke.ctx), ug.url, "partner.hello", {})
        assert (answer.status, answer.error_code) == (401, "partner_suspended")
        assert _refusals(ug, "partner_suspended")
        # And our side will not send to a partner it suspended.
        with ke.ctx.unit() as unit:
            set_state(unit, "Uganda Revenue Authority", "suspended", actor="admin")
        with pytest.raises(Exception, match="suspended"):
            ping(ke.ctx, "Uganda Revenue Authority", actor="admin")
    finally:
        for here, name in ((ug, "Kenya Revenue Authority"), (ke, "Uganda Revenue Authority")):
            with here.ctx.unit() as unit:
                set_state(unit, name, "active", actor="admin")
    assert ping(ke.ctx, "Uganda Revenue Authority", actor="admin")["duplicate"] is False


def test_an_unknown_kind_and_a_malformed_message_are_named(pair: tuple[Instance, Instance]) -> None:
    ke, ug = pair
    signer = own_signer(ke.ctx)
    _, answer = send_message(signer, ug.url, "gossip.rumour", {})
    assert (answer.status, answer.error_code) == (422, "validation_failed")
    assert answer.body["error"]["details"] == [{"field": "kind"}]
    body = json.dumps({"id": "x y", "kind": "partner.hello"}).encode()
    url = ug.url + INBOX_PATH
    assert _post(ug, body, sign_request(signer, "POST", url, body)) == (422, "validation_failed")


def test_the_inbox_is_public_only_through_the_signature(tmp_path: Path) -> None:
    from smartcustoms.web.policy import PUBLIC_ROUTES

    assert ("POST", INBOX_PATH) in PUBLIC_ROUTES


def test_a_flood_of_forged_requests_fills_the_ledger_only_up_to_the_address_s_share(
    pair: tuple[Instance, Instance],
) -> None:
    """A partner's key id is public: forged requests claiming it are each refused, but only the
    first ``federation_refusals_recorded_per_minute`` from one address become ledger records."""
    ke, ug = pair
    limit = ug.ctx.settings.federation_refusals_recorded_per_minute
    url = ug.url + INBOX_PATH
    signer = own_signer(ke.ctx)
    forger = Ed25519Signer.generate(signer.name)
    before = len(_refusals(ug, "signature_invalid"))
    for _ in range(limit + 15):
        body = envelope("partner.hello", {})
        headers = sign_request(forger, "POST", url, body)
        headers["Signature-Input"] = headers["Signature-Input"].replace(
            f"{forger.key_id:08x}", f"{signer.key_id:08x}"
        )
        assert _post(ug, body, headers) == (401, "signature_invalid")  # every one refused
    assert len(_refusals(ug, "signature_invalid")) - before == limit
    # The partner itself is not shut out by the flood.
    assert ping(ke.ctx, "Uganda Revenue Authority", actor="admin")["duplicate"] is False


def test_the_refusal_limiter_opens_a_new_window_and_forgets_the_oldest_addresses() -> None:
    limiter = RefusalLimiter(2, window_s=60)
    assert [limiter.admit("a", now=t) for t in (0, 1, 2, 59)] == [True, True, False, False]
    assert limiter.admit("b", now=3)  # another address, its own share
    assert limiter.admit("a", now=60) and limiter.admit("a", now=61)
    assert not limiter.admit("a", now=62)


def test_a_message_refused_for_good_is_set_aside_and_the_queue_goes_on(
    pair: tuple[Instance, Instance],
) -> None:
    """A message the partner refuses for what it is (here a kind it does not receive: 422)
    would block everything after it if retried for ever; it is set aside, recorded, counted."""
    ke, _ = pair
    with ke.ctx.unit() as unit:
        conn = unit.session.connection()
        pid = conn.scalar(select(PartnerRow.id).where(PartnerRow.name == UG))
        bad = enqueue(conn, pid, "no.such-kind", {})
        good = enqueue(conn, pid, "partner.hello", {"after": "the bad one"})

    def states() -> dict[str, str]:
        with ke.ctx.db.session() as session:
            rows = session.execute(select(OutboxRow.message_id, OutboxRow.state)).all()
        return {m: s for m, s in rows}

    wait_for(lambda: states().get(good) == DELIVERED, timeout=30, message="the queue stuck")
    assert states()[bad] == DEAD
    aside = ke.records("federation.message_set_aside")
    assert [(r["message_id"], r["status"]) for r in aside] == [(bad, 422)]
    with ke.ctx.db.engine.connect() as conn:
        summary = {r["partner"]: r for r in outbox_summary(conn)}
    assert summary[UG]["set_aside"] == 1 and summary[UG]["pending"] == 0
