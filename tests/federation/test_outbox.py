"""The federation outbox on one instance whose partner is unreachable: a hand-over queues its
message in the hand-over's own transaction (none for one rolled back, none for an
administration that is not a partner), the deliverer retries it with back-off in id order,
``partners outbox`` and ``/metrics`` show the queue, and only one deliverer of a database
holds the lease."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from smartcustoms.cli import app as cli
from smartcustoms.core.context import AppContext
from smartcustoms.core.events import UserLoggedOut
from smartcustoms.core.roles import Role
from smartcustoms.federation.directory import add_partner
from smartcustoms.federation.service import _lease_for, attach_federation, own_card
from smartcustoms.federation.tables import PENDING, OutboxRow
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.ledger.tlog.keys import Ed25519Signer
from smartcustoms.tracking.transits import hand_over_transit
from tests.federation.test_card import a_card
from tests.tracking.helpers import import_packaged, make_transit
from tests.waiting import wait_for
from tests.web.conftest import bearer

URA = "Uganda Revenue Authority"


def _partner(ctx: AppContext) -> None:
    signer = Ed25519Signer.generate("ug.example/ledger/federation")
    # Port 9 (discard) on the loopback: nothing answers, as a partner that is down.
    card = a_card(URA, signer, url="http://127.0.0.1:9")
    with ctx.unit() as unit:
        add_partner(unit, card.to_json(), own=own_card(ctx), actor="admin")


def _rows(ctx: AppContext) -> list[OutboxRow]:
    with ctx.db.session() as session:
        rows = list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        session.expunge_all()
        return rows


def test_queued_with_the_hand_over_and_retried(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    import_packaged(ctx)
    _partner(ctx)
    first, second, third = (make_transit(ctx, f"SEAL-OB{n}") for n in range(3))

    # Rolled back: no message.
    with pytest.raises(RuntimeError), ctx.unit() as unit:
        hand_over_transit(unit, first, actor="officer", border="KE-MALABA", to_administration=URA)
        raise RuntimeError("the officer's request failed after the hand-over")
    # To an administration that is not a partner: a hand-over on paper, no message.
    with ctx.unit() as unit:
        hand_over_transit(unit, first, actor="officer", border="KE-MALABA", to_administration="X")
    assert _rows(ctx) == []

    for tid in (second, third):
        with ctx.unit() as unit:
            hand_over_transit(unit, tid, actor="officer", border="KE-MALABA", to_administration=URA)
    rows = _rows(ctx)
    assert [r.kind for r in rows] == ["transit.handover", "transit.handover"]
    body = json.loads(rows[0].body)
    assert body["id"] == rows[0].message_id and body["body"]["transit"]["id"] == second
    assert body["body"]["corridor"]["code"] == "northern" and body["body"]["corridor"]["route"]
    assert body["body"]["declaration"]["lrn"] == "T-SEAL-OB1"

    # The deliverer (started with the application) tries the oldest, fails, backs off; the
    # newer waits behind it.
    wait_for(lambda: _rows(ctx)[0].attempts >= 2, timeout=20, message="no retry")
    head, behind = _rows(ctx)
    assert head.state == behind.state == PENDING
    assert head.last_error and "127.0.0.1:9" in head.last_error
    assert behind.attempts == 0

    metrics = client.get("/metrics", headers=bearer(role_tokens[Role.ADMINISTRATOR])).text
    assert "smartcustoms_federation_outbox_depth 2.0" in metrics
    assert "smartcustoms_federation_outbox_oldest_age_seconds" in metrics
    assert 'smartcustoms_federation_attempts_total{outcome="failed"}' in metrics

    env = {
        "SMARTCUSTOMS_DATA_DIR": str(ctx.settings.data_dir),
        "SMARTCUSTOMS_DATABASE_URL": ctx.settings.database_url,
        "SMARTCUSTOMS_ADMINISTRATION_NAME": ctx.settings.administration_name,
        "SMARTCUSTOMS_LEDGER_ORIGIN": ctx.settings.ledger_origin,
    }
    result = CliRunner().invoke(cli, ["partners", "outbox", "--json"], env=env)
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)
    assert summary["partner"] == URA and summary["pending"] == 2
    assert summary["head_kind"] == "transit.handover" and summary["last_error"]


def test_one_deliverer_per_database(ctx: AppContext) -> None:
    attach_federation(ctx, start=False)
    one, two = _lease_for(ctx), _lease_for(ctx)
    try:
        assert one.try_acquire()
        assert not two.try_acquire()
        one.release()
        assert two.try_acquire()
    finally:
        one.release()
        two.release()


def test_only_a_commit_that_queued_a_message_wakes_the_deliverer(ctx: AppContext) -> None:
    attach_ledger(ctx)  # the deliverer signs with the ledger's federation key
    outbox = attach_federation(ctx, start=False)
    import_packaged(ctx)
    _partner(ctx)
    tid = make_transit(ctx, "SEAL-WAKE")
    # Not started: a wake stays set until the deliverer's thread would have cleared it.
    woken = outbox.deliverer._worker._wake
    with ctx.unit() as unit:  # a commit that queues nothing for a partner
        unit.emit(UserLoggedOut(actor="officer"))
    assert not woken.is_set()
    with ctx.unit() as unit:
        hand_over_transit(unit, tid, actor="officer", border="KE-MALABA", to_administration=URA)
    assert woken.is_set()
