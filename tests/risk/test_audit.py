"""``ledger fsck`` as an auditor uses it on the risk engine: every lane decision and officer's
examination result has its ledger record and still says what it says — whatever an attacker
with SQL access changed, inserted or deleted behind the services' back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.declarations.intake import import_records
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.ledger.audit import AuditReport, audit
from smartcustoms.ledger.service import attach_ledger, ledger_of
from smartcustoms.risk.assess import assess
from smartcustoms.risk.audit import auditors
from smartcustoms.risk.inspections import record_inspection
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.rulebook import propose, review
from smartcustoms.risk.tables import LaneDecisionRow
from tests.ledger.stored import FAST_MS, sql
from tests.risk.history import kcs_slice, load_history


@pytest.fixture
def actx(settings: Settings) -> Iterator[AppContext]:
    """A context whose events go to its ledger, as in the server and the CLI."""
    ctx = AppContext.from_settings(
        settings.model_copy(update={"ledger_checkpoint_interval_ms": FAST_MS})
    )
    attach_ledger(ctx)
    yield ctx
    ctx.close()


def lodge(ctx: AppContext, path: Path) -> list[LaneDecisionRow]:
    with ctx.unit() as unit:
        report = import_records(
            unit.session, read_kcs(path), source="api", submitted_by="t", skip_invalid=True
        )
        return assess(ctx, unit, report.stored, actor="t")


def checked(ctx: AppContext) -> AuditReport:
    return audit(ctx.db, auditors())


def entry_of(ctx: AppContext, kind: str, declaration_id: int) -> int:
    """The index of the stored record of ``kind`` for a declaration."""
    ledger = ledger_of(ctx)
    ledger.flush()
    return next(
        i
        for i in range(ledger.size())
        if (r := ledger.record(i))["type"] == kind and r.get("declaration_id") == declaration_id
    )


@dataclass
class Lodged:
    red: int  # the timber declaration a rule sent to red, examined
    others: list[int]  # green or yellow


@pytest.fixture
def lodged(actx: AppContext, tmp_path: Path) -> Lodged:
    load_history(actx, kcs_slice(tmp_path, 100, 5))  # imported results: no ledger record
    with actx.unit() as unit:
        rule = propose(
            unit, name="wood", expression='hs2 = "44"', lane=Lane.RED,
            reason="Timber: check the CITES permit", actor="analyst",
        )  # fmt: skip
    with actx.unit() as unit:
        review(unit, rule.id, approve=True, actor="supervisor")
    decisions = lodge(actx, kcs_slice(tmp_path, 0, 6, labels=False))  # row 0 is HS 440890
    red = [d.declaration_id for d in decisions if d.lane == Lane.RED and d.rules_fired]
    assert red
    with actx.unit() as unit:
        record_inspection(
            unit, red[0], irregular=True, codes=["undervaluation"],
            revenue_raised=Decimal("1250.50"), actor="officer",
        )  # fmt: skip
    others = [d.declaration_id for d in decisions if d.lane != Lane.RED]
    assert len(others) >= 2
    ledger_of(actx).flush()
    return Lodged(red[0], others)


def test_untouched_decisions_all_have_their_records(actx: AppContext, lodged: Lodged) -> None:
    report = checked(actx)
    assert report.ok, report.problems
    assert report.checked == {"lane decisions": 6, "examination results": 1}
    assert report.queued == 0


def test_what_an_attacker_changes_in_the_tables_is_named(
    actx: AppContext, lodged: Lodged, tmp_path: Path
) -> None:
    red, (green, other) = lodged.red, lodged.others[:2]
    red_entry = entry_of(actx, "risk.lane_assigned", red)
    inspection_entry = entry_of(actx, "risk.inspection_recorded", red)
    other_entry = entry_of(actx, "risk.lane_assigned", other)
    db = actx.db
    # The lane an officer acted on, quietly changed.
    sql(db, "UPDATE risk_decisions SET lane = 'green' WHERE declaration_id = :d", d=red)
    sql(db, "UPDATE risk_inspections SET revenue_raised = 12.5 WHERE declaration_id = :d", d=red)
    # The lodged document changed after it was assessed.
    with db.session() as session:
        row = session.get(DeclarationRow, green)
        assert row is not None
        row.document = {**row.document, "lrn": "SOMETHING-ELSE"}
    # A decision that never went through the engine.
    with actx.db.session() as session:
        (forged,) = import_records(
            session, read_kcs(kcs_slice(tmp_path, 50, 1, labels=False)), source="api",
            submitted_by="t",
        ).stored  # fmt: skip
    sql(
        db,
        "INSERT INTO risk_decisions (declaration_id, lane, score, threshold, model_version, "
        "rules_fired, reasons, random_control, exploration, decided_at) VALUES "
        "(:d, 'green', NULL, NULL, NULL, '[]', '[]', false, false, CURRENT_TIMESTAMP)",
        d=forged.id,
    )
    # A decision deleted (its record stays in the ledger).
    sql(db, "DELETE FROM risk_decisions WHERE declaration_id = :d", d=other)

    report = checked(actx)
    assert (
        f"risk_decisions declaration {red}: lane is green in the table but red in ledger entry "
        f"{red_entry}" in report.problems
    )
    assert (
        f"risk_inspections declaration {red}: revenue_raised is 12.50 in the table but 1250.50 "
        f"in ledger entry {inspection_entry}" in report.problems
    )
    digest = [m for m in report.problems if m.startswith(f"risk_decisions declaration {green}:")]
    assert len(digest) == 1 and "document_sha256 is " in digest[0], report.problems
    assert (
        f"risk_decisions declaration {forged.id} has a lane decision (green) and no "
        "risk.lane_assigned record in the ledger" in report.problems
    )
    assert any(
        m.startswith(f"ledger entry {other_entry} records lane ")
        and m.endswith(f"for declaration {other}, which risk_decisions does not have")
        for m in report.problems
    ), report.problems
    assert len(report.problems) == 5, report.problems


def test_a_queued_record_counts_and_a_deleted_one_is_missed(
    actx: AppContext, lodged: Lodged, tmp_path: Path
) -> None:
    ledger_of(actx).stop()  # no sequencer: the next records stay queued in the outbox
    (late,) = lodge(actx, kcs_slice(tmp_path, 60, 1, labels=False))
    report = checked(actx)
    assert report.ok, report.problems
    assert report.queued == 1 and report.checked["lane decisions"] == 7
    # An attacker removes the queued record before any sequencer stores it.
    sql(actx.db, "DELETE FROM ledger_pending WHERE idx IS NULL")
    report = checked(actx)
    assert report.problems == [
        f"risk_decisions declaration {late.declaration_id} has a lane decision ({late.lane}) "
        "and no risk.lane_assigned record in the ledger"
    ]
