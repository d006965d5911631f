"""Sequencer failover under load: two ``smartcustoms serve`` instances on one database, a
declarant lodging through both, and ``kill -9`` of whichever holds the ledger's sequencer —
repeated. The survivor must take the sequencer over within seconds, lodging must go on through
the kill, and at the end the ledger must have no gap and no fork.

The two instances share the database (SQLite file or PostgreSQL) and a copy of the ledger key
directory, as the README's "several instances" section sets them up; each runs in its own
process group. The sequencer is one lease per database (``ledger/leader.py``: a PostgreSQL
advisory lock, or a ``flock`` beside the SQLite file); the instance holding it writes
``ledger sequencer started`` in its log when it takes it, which is how this script knows whom
to kill. After each kill it measures:

* **takeover**: kill → the survivor's ``ledger sequencer started`` line;
* **lodging through the kill**: lodgings per second in the ``--window`` seconds before the kill
  (the baseline, measured in the same run) and after it, and the survivor's failed requests.

The killed instance is started again (it becomes the standby) before the next kill. At the end
both stop and the check of ``bench/faults.py`` runs on the database: every acknowledged lodging
stored with its ``risk.lane_assigned`` record, and ``ledger fsck`` (every hash recomputed, every
checkpoint verified: a gap or a fork fails it).

    .venv/bin/python bench/ledger_failover.py [--kills 6] [--database sqlite|postgresql|both]
        [--window 2] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx2
from tracking_common import machine, temporary_folder

from faults import Acknowledged, Server, check, declaration, prepare_instance

STARTED = "ledger sequencer started"


@dataclasses.dataclass
class Failover:
    takeover_s: float  # kill → the survivor logs that it took the sequencer over
    before_per_s: float  # the survivor's lodgings acknowledged per second before the kill
    after_per_s: float  # … and after it (its own load only: the killed one's is cut)
    survivor_errors: int  # the survivor's failed lodgings in the window after the kill


@dataclasses.dataclass
class Outcome:
    database: str
    failovers: list[Failover]
    acknowledged_lodgings: int
    cut_requests: int  # requests to the killed instance cut by the kill (expected)
    not_stored: list[str]
    missing_from_ledger: list[str]
    ledger_size: int
    fsck_problems: list[str]

    @property
    def ok(self) -> bool:
        return not (
            self.not_stored
            or self.missing_from_ledger
            or self.fsck_problems
            or any(f.takeover_s < 0 for f in self.failovers)
        )


class Instance:
    """One ``serve`` (web only: no device listeners) and where its log is read from."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.server = Server(env, folder)
        self.server.env["SMARTCUSTOMS_TRACKING_LISTEN"] = "false"
        self.read_from = 0  # log offset at the latest start

    def start(self, timeout: float = 90.0) -> None:
        """As :meth:`faults.Server.start`, without waiting for device listeners."""
        server = self.server
        self.read_from = server.log.stat().st_size if server.log.exists() else 0
        with server.log.open("ab") as log:
            server.process = subprocess.Popen(
                [sys.executable, "-m", "smartcustoms", "serve", "--port", str(server.web_port)],
                env=server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as faults.Server's
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"the server stopped; see {server.log}")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{server.base}/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start in {timeout:g} s; see {server.log}")

    def leads(self) -> bool:
        """Whether this instance took the sequencer since its latest start (it keeps it until
        it dies: nothing else takes a lease that is held)."""
        with self.server.log.open("rb") as log:
            log.seek(self.read_from)
            return STARTED.encode() in log.read()


class Lodging:
    """A declarant lodging back to back through both instances, in turn."""

    def __init__(self, instances: list[Instance], token: str) -> None:
        self.instances = instances
        self.headers = {"Authorization": f"Bearer {token}"}
        self.acked = Acknowledged()
        self.times: list[tuple[float, int]] = []  # (time, instance index) of each 201
        self.failed: list[tuple[float, int]] = []  # (time, instance index) of each failure
        self.lrn = 0

    async def run(self, until: float) -> None:
        async with httpx2.AsyncClient(timeout=30) as client:
            await asyncio.gather(*(self._one(client, i, until) for i in range(len(self.instances))))

    async def _one(self, client: httpx2.AsyncClient, index: int, until: float) -> None:
        server = self.instances[index].server
        while time.monotonic() < until:
            self.lrn += 1
            try:
                r = await client.post(
                    f"{server.base}/api/declarations",
                    json=declaration(f"FO-{self.lrn:06d}"),
                    headers=self.headers,
                )
            except httpx2.TransportError:
                self.failed.append((time.monotonic(), index))
                await asyncio.sleep(0.1)  # the instance is down: try again shortly
                continue
            if r.status_code == 201:
                body = r.json()
                self.acked.lanes[int(body["id"])] = str(body["lane"])
                self.times.append((time.monotonic(), index))
            else:
                self.failed.append((time.monotonic(), index))
            await asyncio.sleep(0.01)

    def rate(self, index: int, start: float, end: float) -> float:
        """Lodgings acknowledged per second by instance ``index`` between ``start`` and ``end``."""
        return sum(1 for t, i in self.times if i == index and start <= t < end) / (end - start)


async def _wait(predicate: Any, timeout: float, step: float = 0.01) -> float:
    """Seconds until ``predicate()`` holds, or -1 after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        await asyncio.sleep(step)
    return -1.0


def run(database: str, args: argparse.Namespace, database_url: str | None) -> Outcome:
    folder = temporary_folder("smartcustoms-failover-")
    (folder / "a").mkdir()
    env, tokens, _ = prepare_instance(folder / "a", database_url, 0, 1)
    env["SMARTCUSTOMS_LOG_LEVEL"] = "INFO"  # the sequencer's takeover line is INFO
    # The second instance: the same database, its own data folder with a copy of the ledger's
    # keys (the sequencer's signing key must be the same wherever it runs).
    (folder / "b").mkdir()
    instances = [Instance(env, folder / "a")]
    first = instances[0]
    first.start()  # creates the ledger key if needed, and takes the sequencer
    if not asyncio.run(_until(first.leads, 30)):
        raise RuntimeError(f"the first instance never took the sequencer; see {first.server.log}")
    shutil.copytree(folder / "a" / "ledger", folder / "b" / "ledger")
    # The database URL is the same (SQLite's names the file in the first folder).
    env_b = {**env, "SMARTCUSTOMS_DATA_DIR": str(folder / "b")}
    instances.append(Instance(env_b, folder / "b"))
    instances[1].start()
    load = Lodging(instances, tokens["broker"])
    failovers: list[Failover] = []

    async def scenario() -> None:
        forever = time.monotonic() + 24 * 3600
        task = asyncio.create_task(load.run(forever))
        for _ in range(args.kills):
            await asyncio.sleep(args.window)
            leader = next((i for i in instances if i.leads()), None)
            if leader is None:
                raise RuntimeError("no instance holds the sequencer")
            survivor = instances[1 - instances.index(leader)]
            killed_at = time.monotonic()
            await asyncio.to_thread(leader.server.kill)
            takeover = await _wait(survivor.leads, 30)
            await asyncio.sleep(max(0.0, killed_at + args.window - time.monotonic()))
            survivor_index = instances.index(survivor)
            failovers.append(
                Failover(
                    takeover_s=round(takeover, 3),
                    before_per_s=round(
                        load.rate(survivor_index, killed_at - args.window, killed_at), 1
                    ),
                    after_per_s=round(
                        load.rate(survivor_index, killed_at, killed_at + args.window), 1
                    ),
                    survivor_errors=sum(
                        1
                        for t, i in load.failed
                        if i == survivor_index and killed_at <= t < killed_at + args.window
                    ),
                )
            )
            if not args.json:
                f = failovers[-1]
                print(
                    f"  kill {len(failovers)}: takeover {f.takeover_s:.2f} s; the survivor's "
                    f"lodgings/s {f.before_per_s:g} before, {f.after_per_s:g} after; "
                    f"{f.survivor_errors} failed on the survivor",
                    flush=True,
                )
            await asyncio.to_thread(leader.start)  # back as the standby
        await asyncio.sleep(1.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    started = time.monotonic()
    try:
        asyncio.run(scenario())
    finally:
        for instance in instances:
            if instance.server.process is not None and instance.server.process.poll() is None:
                instance.server.stop()
    result = check(database, env, load.acked, len(failovers), time.monotonic() - started)
    return Outcome(
        database=database,
        failovers=failovers,
        acknowledged_lodgings=result.acknowledged_lodgings,
        cut_requests=len(load.failed),
        not_stored=result.not_stored,
        missing_from_ledger=result.missing_from_ledger,
        ledger_size=result.ledger_size,
        fsck_problems=result.fsck_problems,
    )


async def _until(predicate: Any, timeout: float) -> bool:
    return await _wait(predicate, timeout, 0.05) >= 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("SMARTCUSTOMS_TEST_POSTGRES_URL", "")
    )
    parser.add_argument(
        "--window", type=float, default=2.0, help="seconds of load before and after each kill"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per database")
    args = parser.parse_args()
    pg = args.postgres_url or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    targets = {"sqlite": [("sqlite", None)], "postgresql": [("postgresql", pg)]}
    targets["both"] = targets["sqlite"] + targets["postgresql"]
    if not args.json:
        print(f"machine: {machine()}")
        print(
            f"two instances on one database; kill -9 of the sequencer's instance {args.kills} "
            f"times, {args.window:g} s of lodging before and after each"
        )
    failed = False
    for name, url in targets[args.database]:
        if not args.json:
            print(f"{name}:", flush=True)
        outcome = run(name, args, url)
        failed |= not outcome.ok
        if args.json:
            print(json.dumps({**dataclasses.asdict(outcome), "ok": outcome.ok}), flush=True)
            continue
        takeovers = [f.takeover_s for f in outcome.failovers]
        before = statistics.fmean(f.before_per_s for f in outcome.failovers)
        after = statistics.fmean(f.after_per_s for f in outcome.failovers)
        print(
            f"  takeover: median {statistics.median(takeovers):.2f} s, max {max(takeovers):.2f} s"
        )
        print(
            f"  the survivor's lodgings/s around a kill: {before:.1f} before, {after:.1f} after "
            f"(ratio {after / before if before else float('nan'):.2f})"
        )
        print(
            f"  acknowledged: {outcome.acknowledged_lodgings} lodgings; "
            f"{outcome.cut_requests} requests failed (mostly cut by the kills)"
        )
        print(f"  ledger: {outcome.ledger_size} entries")
        print(f"  acknowledged but not stored: {len(outcome.not_stored)} {outcome.not_stored[:5]}")
        print(
            f"  missing from the ledger: {len(outcome.missing_from_ledger)} "
            f"{outcome.missing_from_ledger[:5]}"
        )
        print(f"  fsck problems: {len(outcome.fsck_problems)} {outcome.fsck_problems[:5]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
