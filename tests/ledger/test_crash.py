"""Durability: every append acknowledged before a kill -9 is there after a restart, and the
stored tree is whole (the interrupted batch is either all there or not at all)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.fsck import fsck
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.ledger.tlog.records import parse_record

ROOT = Path(__file__).resolve().parents[2]
ACKED_BEFORE_KILL = 1500


def test_acknowledged_appends_survive_kill_9(ledger_settings: Settings) -> None:
    env = {
        **os.environ,
        "SMARTCUSTOMS_DATABASE_URL": ledger_settings.sqlalchemy_url,
        "SMARTCUSTOMS_DATA_DIR": str(ledger_settings.data_dir),
        "SMARTCUSTOMS_LEDGER_CHECKPOINT_INTERVAL_MS": "100",
        "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.appender"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acked: dict[int, int] = {}  # entry index -> the n the child wrote there
    try:
        assert child.stdout is not None
        for line in child.stdout:
            first, count, n = map(int, line.split())
            acked.update({first + k: n + k for k in range(count)})
            if len(acked) >= ACKED_BEFORE_KILL:
                break
        # The child is mid-append now: kill it without any chance to clean up.
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
        assert child.stderr is not None
        errors = child.stderr.read()
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()
    assert len(acked) >= ACKED_BEFORE_KILL, errors

    ctx = AppContext.from_settings(ledger_settings)
    try:
        ledger = attach_ledger(ctx)
        size = ledger.size()
        assert size >= len(acked)
        for index, n in acked.items():
            assert parse_record(ledger.entry(index)) == {"type": "test.crash", "v": 1, "n": n}
        report = fsck(ctx.db, ledger_settings.data_dir, ledger_settings.ledger_origin)
        assert report.ok, report.problems
        assert report.size == size
        # The restarted ledger continues the same tree and signs it.
        assert ledger.append({"type": "test.after", "v": 1}) == size
        assert ledger.wait_covered(size, 10)
    finally:
        ctx.close()
