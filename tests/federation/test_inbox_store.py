"""The inbox on each database (SQLite and PostgreSQL): a request is accepted once even when
two workers get it at the same moment (the nonce table's unique key), a redelivered message is
answered from the inbox, and expired nonces are pruned."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import load_settings
from smartcustoms.federation.client import envelope
from smartcustoms.federation.directory import add_partner
from smartcustoms.federation.errors import RequestRefused
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.nonces import remember_nonce
from smartcustoms.federation.service import handle_inbox, own_card
from smartcustoms.federation.signing import sign_request
from smartcustoms.federation.tables import InboxRow, NonceRow
from smartcustoms.ledger.service import attach_ledger, ledger_of
from smartcustoms.ledger.tlog.keys import Ed25519Signer
from tests.federation.test_card import a_card

URL = "https://customs.example.ke"


@pytest.fixture
def kenya(database_url: str, tmp_path: Path) -> Iterator[AppContext]:
    ctx = AppContext.from_settings(
        load_settings(
            None,
            data_dir=tmp_path / "data",
            database_url=database_url,
            secret_key=secrets.token_urlsafe(48),
            administration_name="Kenya Revenue Authority",
            federation_country="KE",
            federation_url=URL,
        )
    )
    attach_ledger(ctx)
    yield ctx
    ctx.close()


@pytest.fixture
def uganda(kenya: AppContext) -> Ed25519Signer:
    """Uganda's request key, its card added to Kenya's directory."""
    signer = Ed25519Signer.generate("ug.example/ledger/federation")
    with kenya.unit() as unit:
        add_partner(unit, a_card(signer=signer).to_json(), own=own_card(kenya), actor="admin")
    return signer


def deliver(ctx: AppContext, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return handle_inbox(
        ctx,
        method="POST",
        path=INBOX_PATH,
        headers={k.lower(): v for k, v in headers.items()},
        body=body,
        client="127.0.0.1",
    )


def test_two_workers_given_the_same_request_accept_it_once(
    kenya: AppContext, uganda: Ed25519Signer
) -> None:
    body = envelope("partner.hello", {})
    headers = sign_request(uganda, "POST", URL + INBOX_PATH, body)
    results: list[object] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        try:
            results.append(deliver(kenya, body, headers))
        except RequestRefused as exc:
            results.append(exc.code)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    accepted = [r for r in results if isinstance(r, dict)]
    assert len(accepted) == 1, results
    assert [r for r in results if not isinstance(r, dict)] == ["nonce_replayed"]
    with kenya.db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboxRow)) == 1
    ledger = ledger_of(kenya)
    ledger.flush()
    types = [ledger.record(i)["type"] for i in range(ledger.size())]
    assert types.count("federation.message_received") == 1
    assert types.count("federation.request_refused") == 1


def test_a_redelivery_is_answered_from_the_inbox(kenya: AppContext, uganda: Ed25519Signer) -> None:
    body = envelope("partner.hello", {}, message_id="m-1")
    first = deliver(kenya, body, sign_request(uganda, "POST", URL + INBOX_PATH, body))
    again = deliver(kenya, body, sign_request(uganda, "POST", URL + INBOX_PATH, body))
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert again["answer"] == first["answer"]
    with kenya.db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboxRow)) == 1


def test_nonces_are_unique_per_key_and_expired_ones_pruned(kenya: AppContext) -> None:
    keep = timedelta(seconds=60)
    with kenya.unit() as unit:
        assert remember_nonce(unit.session, "k+1", "n" * 20, keep=keep)
        assert not remember_nonce(unit.session, "k+1", "n" * 20, keep=keep)
        assert remember_nonce(unit.session, "k+2", "n" * 20, keep=keep)  # another key
        unit.session.add(
            NonceRow(key_id="k+1", nonce="old" * 7, expires_at=clock.now() - timedelta(seconds=1))
        )
    with kenya.unit() as unit:
        assert remember_nonce(unit.session, "k+1", "m" * 20, keep=keep)
        nonces = set(unit.session.scalars(select(NonceRow.nonce)))
    assert nonces == {"n" * 20, "m" * 20}
