"""``ledger fsck`` on the scan workflow: every received scan, review, re-check and examination
has its ledger record and still says what it says — whatever is changed behind the services'
back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.audit import AuditReport, audit
from smartcustoms.ledger.service import attach_ledger, ledger_of
from smartcustoms.scans.audit import auditors
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.reviews import recheck_scan, record_examination, review_scan
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.tables import ReviewRow, ScanRow
from tests.ledger.stored import FAST_MS, sql
from tests.scans.stored import CLEAN, FLAGGED, case, declaration_for, lodge, write


@pytest.fixture
def actx(settings: Settings) -> Iterator[AppContext]:
    """A context whose events go to its ledger, as in the server and the CLI."""
    ctx = AppContext.from_settings(
        settings.model_copy(update={"ledger_checkpoint_interval_ms": FAST_MS})
    )
    attach_ledger(ctx)
    yield ctx
    ctx.close()


def receive(ctx: AppContext, path: Path, declaration_id: int) -> ScanRow:
    with ctx.unit() as unit:
        return receive_scan(
            unit, store_for(ctx.settings), Upload(path.read_bytes(), path.name, declaration_id),
            actor="scanner", source="cli",
        ).scan  # fmt: skip


def checked(ctx: AppContext) -> AuditReport:
    ledger_of(ctx).flush()
    return audit(ctx.db, auditors())


def entry_of(ctx: AppContext, kind: str, scan_id: int) -> int:
    ledger = ledger_of(ctx)
    ledger.flush()
    return max(
        i
        for i in range(ledger.size())
        if (r := ledger.record(i))["type"] == kind and r["scan_id"] == scan_id
    )


@dataclass
class Scans:
    flagged: int  # suspect → re-checked clear → examined: concealment found
    clean: int  # cleared by the analyst
    waiting: int  # awaiting review


@pytest.fixture
def scans(actx: AppContext, tmp_path: Path) -> Scans:
    flagged, clean = case(FLAGGED), case(CLEAN)
    ids = lodge(actx, declaration_for(flagged), declaration_for(clean))
    alarm = receive(actx, write(flagged, tmp_path, "a"), ids[0])
    quiet = receive(actx, write(clean, tmp_path, "b"), ids[1])
    waiting = receive(actx, write(clean, tmp_path, "c", fmt="dicos"), ids[1])
    with actx.unit() as unit:
        review_scan(unit, alarm.id, decision="suspect", actor="ana")
    with actx.unit() as unit:
        recheck_scan(unit, alarm.id, decision="clear", note="pallet jack", actor="sup")
    with actx.unit() as unit:
        record_examination(unit, alarm.id, irregular=True, codes=["concealment"], actor="off")
    with actx.unit() as unit:
        review_scan(unit, quiet.id, decision="clear", actor="ana")
    return Scans(alarm.id, quiet.id, waiting.id)


def test_untouched_scans_have_their_records(actx: AppContext, scans: Scans) -> None:
    report = checked(actx)
    assert report.ok, report.problems
    assert report.checked == {"scans": 3}


def test_what_an_attacker_changes_in_the_tables_is_named(actx: AppContext, scans: Scans) -> None:
    ledger_of(actx).flush()
    reviewed = entry_of(actx, "scans.reviewed", scans.clean)
    examined = entry_of(actx, "scans.examined", scans.flagged)
    db = actx.db
    # The analyst's "clear" turned into a "physical examination" after the fact.
    sql(db, "UPDATE scan_reviews SET decision = 'suspect' WHERE scan_id = :s", s=scans.clean)
    # What the examination found, made to disappear.
    sql(
        db,
        "UPDATE scan_examinations SET irregular = :f WHERE scan_id = :s",
        f=False,
        s=scans.flagged,
    )
    # A review that nobody made, and the scan cleared on it.
    sql(
        db, "UPDATE scans SET status = 'cleared', decision = 'clear' WHERE id = :s", s=scans.waiting
    )
    with db.session() as session:
        session.add(
            ReviewRow(
                scan_id=scans.waiting, kind="review", decision="clear", regions=[], note=None,
                reviewer="nobody", reviewed_at=datetime.now(UTC), seconds_open=None,
            )
        )  # fmt: skip

    problems = checked(actx).problems
    assert sorted(problems) == sorted(
        [
            f"scan {scans.clean}: its reviews are [review:suspect] in scan_reviews but "
            f"[review:clear] in the ledger (ledger entry {reviewed})",
            f"scan {scans.flagged}: irregular is false in the table but true in ledger entry "
            f"{examined}",
            f"scan {scans.waiting} is cleared but the ledger has no review or examination record "
            "for it",
            f"scan {scans.waiting} has review decisions [review:clear] in scan_reviews and no "
            "scans.reviewed record in the ledger",
        ]
    )


def test_a_deleted_scan_leaves_its_records_behind(actx: AppContext, scans: Scans) -> None:
    ledger_of(actx).flush()
    received = entry_of(actx, "scans.received", scans.flagged)
    sql(actx.db, "DELETE FROM scans WHERE id = :s", s=scans.flagged)
    assert checked(actx).problems == [
        f"ledger entry {received} records scan {scans.flagged} (scans.received), which scans "
        "does not have"
    ]
