"""Every event a unit of work emits becomes a ledger record, queued in the same transaction
(the outbox) and stored by the sequencer: security events, administrator actions, and whatever
later modules emit. Client addresses enter only as salted commitments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import NotFound, Unauthenticated
from smartcustoms.core.events import AdminAction, Event
from smartcustoms.core.login import authenticate
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token, revoke_token
from smartcustoms.core.users import create_user, get_user, set_roles
from smartcustoms.ledger.commitments import reveal
from smartcustoms.ledger.errors import MalformedRecord
from smartcustoms.ledger.service import Ledger
from smartcustoms.ledger.tlog.records import check_commitment
from tests.conftest import PASSWORD
from tests.ledger.stored import sql


@dataclass(frozen=True, kw_only=True)
class DecisionMade(Event):
    """What a later module (the risk engine) publishes: the ledger needs no change for it."""

    type: ClassVar[str] = "risk.decision"
    declaration: str
    lane: str
    score: str  # decimals as strings


def records_of(ledger: Ledger) -> list[dict[str, object]]:
    ledger.flush()
    return [ledger.record(i) for i in range(ledger.size())]


def test_security_and_admin_events_are_recorded_in_order(lctx: AppContext, ledger: Ledger) -> None:
    with lctx.unit() as unit:
        create_user(unit, username="amina", password=PASSWORD, roles=[Role.AUDITOR], actor="admin")
    authenticate(lctx, "amina", PASSWORD, "10.1.2.3")
    with pytest.raises(Unauthenticated):
        authenticate(lctx, "amina", "wrong password!", "10.9.9.9")
    with lctx.unit() as unit:
        set_roles(unit, "amina", [Role.AUDITOR, Role.SUPERVISOR], actor="admin")
    with lctx.unit() as unit:
        token = create_token(
            unit, get_user(unit.session, "amina"), name="cms", days=5, max_days=9, actor="amina"
        )
    with lctx.unit() as unit:
        revoke_token(unit, token.token_id, actor="admin")
    lctx.record(AdminAction(actor="cli:root", action="schema_upgrade", target="0001 -> 0002"))
    lctx.record(DecisionMade(actor="engine", declaration="D1", lane="red", score="0.93"))

    got = records_of(ledger)
    assert [r["type"] for r in got] == [
        "admin.user_created",
        "security.login",
        "security.login_failed",
        "admin.roles_changed",
        "security.token_created",
        "security.token_revoked",
        "admin.action",
        "risk.decision",
    ]
    assert all(r["v"] == 1 for r in got)
    assert got[3]["after"] == ["auditor", "supervisor"] and got[3]["actor"] == "admin"
    assert got[7] == {
        "type": "risk.decision",
        "v": 1,
        "actor": "engine",
        "at": got[7]["at"],
        "declaration": "D1",
        "lane": "red",
        "score": "0.93",
    }
    # The address is committed to, never written in clear; its opening stays with us.
    login, failed = got[1], got[2]
    for record, address in ((login, "10.1.2.3"), (failed, "10.9.9.9")):
        commitment = record["address"]
        assert isinstance(commitment, str) and commitment.startswith("sha256:")
        assert address.encode() not in ledger.entry(got.index(record))
        with lctx.db.engine.connect() as conn:
            value, salt = reveal(conn, commitment)
        assert value == address and check_commitment(commitment, value, salt)
        assert not check_commitment(commitment, "10.1.2.4", salt)


def test_opening_a_damaged_or_unknown_commitment_fails(lctx: AppContext, ledger: Ledger) -> None:
    with lctx.unit() as unit:
        create_user(unit, username="bob", password=PASSWORD, roles=[Role.AUDITOR], actor="t")
    authenticate(lctx, "bob", PASSWORD, "192.0.2.1")
    ledger.flush()
    commitment = ledger.record(1)["address"]
    sql(lctx.db, "UPDATE ledger_commitments SET value = :v", v='"192.0.2.2"')
    with lctx.db.engine.connect() as conn, pytest.raises(Exception, match="does not match"):
        reveal(conn, str(commitment))
    with lctx.db.engine.connect() as conn, pytest.raises(NotFound):
        reveal(conn, "sha256:" + "0" * 64)


def test_an_event_that_is_not_a_valid_record_rolls_its_change_back(
    lctx: AppContext, ledger: Ledger
) -> None:
    @dataclass(frozen=True, kw_only=True)
    class Floaty(Event):
        type: ClassVar[str] = "test.floaty"
        weight: float

    with pytest.raises(MalformedRecord, match="floats"), lctx.unit() as unit:
        create_user(unit, username="float", password=PASSWORD, roles=[Role.AUDITOR], actor="x")
        unit.emit(Floaty(actor="x", weight=1.5))
    with pytest.raises(NotFound), lctx.unit() as unit:
        get_user(unit.session, "float")  # the change went with its record
    ledger.flush()
    assert ledger.size() == 0


def test_events_while_the_ledger_is_stopped_are_kept_and_stored_later(
    lctx: AppContext, ledger: Ledger
) -> None:
    """The outbox decouples the change from the sequencer: a unit commits with its records
    queued even when no sequencer runs, and the next sequencer stores them, in order."""
    ledger.stop()
    lctx.record(AdminAction(actor="x", action="first"))
    lctx.record(AdminAction(actor="x", action="second"))
    assert ledger.queued() == 2 and ledger.size() == 0
    later = Ledger(lctx.settings, lctx.db)
    try:
        later.flush()
        assert [later.record(i)["action"] for i in range(later.size())] == ["first", "second"]
        assert later.queued() == 0
    finally:
        later.stop()


def test_a_unit_of_work_is_recorded_as_one_batch(lctx: AppContext, ledger: Ledger) -> None:
    """An import that decides a thousand lanes publishes a thousand events: one transaction."""
    with lctx.unit() as unit:
        for n in range(1000):
            unit.emit(DecisionMade(actor="engine", declaration=f"D{n}", lane="green", score="0.1"))
    ledger.flush()
    assert ledger.size() == 1000
    assert [ledger.record(i)["declaration"] for i in (0, 999)] == ["D0", "D999"]
    with lctx.db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT COUNT(*) FROM ledger_entry_bundles").scalar()
    assert rows == 3  # 768 entries in full bundles, written at once
