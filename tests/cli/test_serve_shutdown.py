"""SIGTERM to a loaded `smartcustoms serve`: it exits 0 within its grace, and every lodging it
acknowledged is in the database with its ledger record."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
from sqlalchemy import select

from smartcustoms.core.db import Database
from smartcustoms.declarations.tables import DeclarationRow
from tests.cli.serving import serving
from tests.declarations.helpers import declaration
from tests.waiting import wait_for

GRACE_S = 4.0
MARGIN_S = 2.5  # interpreter exit and the listeners' child process, on a slow machine


def test_sigterm_under_load_drains_within_grace_and_loses_nothing(tmp_path: Path) -> None:
    acknowledged: list[str] = []
    stop = threading.Event()

    async def load(url: str, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(base_url=url, timeout=30) as client:

            async def worker(w: int) -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    lrn = f"TERM-{w}-{n}"
                    try:
                        r = await client.post(
                            "/api/declarations", json=declaration(lrn=lrn), headers=headers
                        )
                    except httpx2.HTTPError:  # the server is going away: not acknowledged
                        await asyncio.sleep(0.05)
                        continue
                    if r.status_code == 201:
                        acknowledged.append(lrn)

            await asyncio.gather(*(worker(w) for w in range(8)))

    with serving(tmp_path, shutdown_grace_s=str(GRACE_S), log_level="INFO") as served:
        loader = threading.Thread(
            target=asyncio.run, args=(load(served.url, served.tokens["cms"]),), daemon=True
        )
        loader.start()
        wait_for(lambda: len(acknowledged) >= 20, timeout=60, message="no load")
        started = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        code = served.process.wait(GRACE_S + MARGIN_S + 10)
        took = time.monotonic() - started
        stop.set()
        loader.join(30)
        log = served.log_text()
    # The shutdown's own lines (uvicorn's and ours), not the access lines before them.
    shutdown = log[log.find("Shutting down") - 40 :][-4000:]
    assert code == 0, shutdown
    assert took <= GRACE_S + MARGIN_S, f"stopped in {took:.1f} s\n{shutdown}"
    db = Database(f"sqlite:///{tmp_path / 'smartcustoms.db'}")
    try:
        with db.read_session() as session:
            stored = set(session.execute(select(DeclarationRow.lrn)).scalars())
    finally:
        db.dispose()
    missing = [lrn for lrn in acknowledged if lrn not in stored]
    assert not missing, f"{len(missing)} acknowledged lodgings not stored: {missing[:5]}"
    # Every stored lane decision has its ledger record (stored, or queued in the outbox).
    fsck = subprocess.run(
        [sys.executable, "-m", "smartcustoms", "ledger", "fsck"],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")},
            "SMARTCUSTOMS_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert "records ok" in fsck.stdout
