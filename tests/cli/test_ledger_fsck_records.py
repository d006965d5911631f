"""`smartcustoms ledger fsck` as an auditor runs it: the tree, the checkpoints, and every stored
decision against its ledger record."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.core.settings import Settings
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.declarations.intake import import_records
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.risk.assess import assess
from tests.ledger.stored import sql
from tests.risk.history import kcs_slice

runner = CliRunner()


def fsck(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {
        "SMARTCUSTOMS_DATABASE_URL": database_url,
        "SMARTCUSTOMS_LEDGER_CHECKPOINT_INTERVAL_MS": "50",
    }
    result = runner.invoke(app, ["ledger", "fsck", *args], env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, " ".join(result.stdout.split()), " ".join(result.stderr.split())


def test_fsck_checks_decisions_against_their_records(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    ctx = AppContext.from_settings(settings)
    attach_ledger(ctx)
    try:
        with ctx.unit() as unit:
            report = import_records(
                unit.session, read_kcs(kcs_slice(tmp_path, 0, 3, labels=False)), source="api",
                submitted_by="t",
            )  # fmt: skip
            decisions = assess(ctx, unit, report.stored, actor="t")
    finally:
        ctx.close()  # stores what is queued, signs a checkpoint
    code, out, err = fsck(database_url)
    assert code == 0, err
    assert "ledger ok: 3 entries" in out
    assert "records ok: 3 lane decisions checked against 3 ledger records" in out

    target = decisions[0]
    forged = "green" if target.lane != "green" else "red"
    db = Database(database_url)
    sql(db, "UPDATE risk_decisions SET lane = :l WHERE id = :i", l=forged, i=target.id)
    db.dispose()
    code, out, err = fsck(database_url)
    assert code == 1
    assert "ledger ok: 3 entries" in out  # the tree itself is intact
    assert (
        f"records disagree with the ledger: risk_decisions declaration {target.declaration_id}: "
        f"lane is {forged} in the table but {target.lane} in ledger entry 0" in err
    )
    assert fsck(database_url, "--no-records")[0] == 0
