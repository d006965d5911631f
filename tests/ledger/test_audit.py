"""The ledger's side of auditing stored decisions: every stored record, then every queued one,
shown once and in order to the auditors of its type; re-read on demand; one snapshot."""

from __future__ import annotations

from typing import Any

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import AdminAction
from smartcustoms.ledger.audit import (
    Audit,
    Auditor,
    Latest,
    Position,
    audit,
    differences,
    fingerprint,
)
from smartcustoms.ledger.service import Ledger
from tests.ledger.stored import records


class Collector(Auditor):
    types = frozenset({"test.entry", "admin.action"})

    def __init__(self) -> None:
        self.seen: list[tuple[Position, dict[str, Any]]] = []
        self.reread: list[dict[str, Any]] = []

    def see(self, record: dict[str, Any], at: Position) -> None:
        self.seen.append((at, record))

    def check(self, audit: Audit) -> None:
        audit.checked("things", len(self.seen))
        self.reread = [audit.record(at) for at, _ in self.seen]


def test_stored_then_queued_records_each_once_in_order(lctx: AppContext, ledger: Ledger) -> None:
    ledger.append_many(records(300))  # a full bundle and a tail
    ledger.append_entries([b"not a record", b'{"type": "other.kind", "v": 1}'])
    ledger.append_many(records(2, start=300))
    ledger.stop()
    lctx.record(AdminAction(actor="x", action="queued after the sequencer stopped"))
    assert ledger.queued() == 1

    collector = Collector()
    report = audit(lctx.db, [collector])
    assert report.ok and report.unreadable == 1
    assert (report.records, report.queued) == (303, 1)
    positions = [at for at, _ in collector.seen]
    assert positions[:302] == [*range(300), 302, 303]
    assert positions[302] < 0  # queued: minus its ledger_pending id
    assert [r.get("n") for _, r in collector.seen[:3]] == [0, 1, 2]
    assert collector.seen[-1][1]["action"] == "queued after the sequencer stopped"
    assert collector.reread == [r for _, r in collector.seen]
    assert Audit.where(302) == "ledger entry 302"
    assert Audit.where(positions[302]) == f"queued record {-positions[302]} (ledger_pending)"
    assert report.summary() == "303 things checked against 303 ledger records (1 still queued)"


def test_latest_keeps_position_and_fingerprint_per_key() -> None:
    latest = Latest()
    assert latest.put(7, 12, "red", "0.9") is None
    assert latest.put(7, -3, "green", None) == 12  # a queued record replaces a stored one
    assert latest.put(8, 2**40, "green", None) is None
    assert latest.take(7) == (-3, fingerprint("green", None))
    assert latest.take(7) is None
    assert list(latest.remaining()) == [(8, 2**40)]
    assert fingerprint("green", None) != fingerprint("green", "None")


def test_differences_name_each_field() -> None:
    fields = [("lane", "green", "red"), ("score", "0.9", "0.9"), ("rules", ("a",), ())]
    assert differences(fields, "ledger entry 4") == (
        "lane is green in the table but red in ledger entry 4; "
        "rules is [a] in the table but [] in ledger entry 4"
    )
