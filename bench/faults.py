"""Crash safety of everything acknowledged: ``kill -9`` of ``smartcustoms serve`` (web workers
and device listeners together) at random moments under load, then restart — repeated — and a
final check that every acknowledged decision, scan, review and alert has its ledger entry.

Load, all at once, against the server as a user runs it (its own process group, the device
listeners beside it with SMARTCUSTOMS_TRACKING_LISTEN=true):

* **lodging**: a declarant lodges declarations (``POST /api/declarations``) back to back; each
  201 answer (its declaration id and lane) is *acknowledged*;
* **scans**: an image analyst uploads scans (``POST /api/scans``) and reviews each one it got a
  201 for (``POST /api/scans/{id}/review``); each 201 is acknowledged;
* **tracking**: e-seals on armed transits report every ``--report-ms`` and open their seals now
  and then; every alert the listener stores must have its ledger record.

After the last kill the server runs once more (so whatever the outbox still queued is stored),
stops cleanly, and the check reads the database and the ledger directly:

* *acknowledged but not stored*: a 201 whose declaration, scan or review is not in the tables;
* *missing from the ledger*: a stored and acknowledged lane decision with no
  ``risk.lane_assigned`` record of that lane, a scan with no ``scans.received``, a review with no
  ``scans.reviewed``, an alert row with no ``tracking.alert_raised``;
* ``ledger fsck`` of the tree (every hash recomputed, every checkpoint verified).

Both must be 0. The script exits 1 otherwise.

    .venv/bin/python bench/faults.py [--kills 20] [--database sqlite|postgresql|both]
        [--seed 1] [--min-gap 0.5] [--max-gap 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx2
from sqlalchemy import select
from tracking_common import free_port, machine, prepare, temporary_folder

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import load_settings
from smartcustoms.core.tokens import create_token
from smartcustoms.core.traders import grant_traders
from smartcustoms.core.users import create_user, get_user
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.ledger.fsck import fsck
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.risk.tables import LaneDecisionRow
from smartcustoms.sandbox.scan_simulator import (
    CargoKind,
    ConcealmentKind,
    SimulationSpec,
    simulate_scan,
)
from smartcustoms.sandbox.traffic_simulator.encoders import ENCODERS
from smartcustoms.scans import write_tiff
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.tables import ReviewRow, ScanRow
from smartcustoms.tracking.records import Position, SealEvent
from smartcustoms.tracking.tables import AlertRow

DECLARANT = "BRK001"
SEALS = 40


def seal(n: int) -> str:
    return f"FLT{n:05d}"


def declaration(lrn: str) -> dict[str, Any]:
    return {
        "lrn": lrn,
        "issue_datetime": "2026-11-20T08:30:00+03:00",
        "office_of_declaration": "KEMBA",
        "declarant": {"id": DECLARANT, "name": "Coast Clearing Ltd"},
        "importer": {"id": "IMP042"},
        "export_country": "CN",
        "border_transport_mode": "1",
        "items": [
            {
                "sequence": 1,
                "hs_code": "850440",
                "origin_country": "CN",
                "customs_value": {"value": "12500.00", "currency": "USD"},
                "net_mass_kg": "840.5",
            }
        ],
    }


@dataclasses.dataclass
class Acknowledged:
    lanes: dict[int, str] = dataclasses.field(default_factory=dict)  # declaration id → lane
    scans: set[int] = dataclasses.field(default_factory=set)
    reviews: set[int] = dataclasses.field(default_factory=set)  # scan ids
    errors: int = 0  # requests cut by a kill (expected) or refused


@dataclasses.dataclass
class Result:
    database: str
    kills: int
    seconds: float
    acknowledged_lodgings: int
    acknowledged_scans: int
    acknowledged_reviews: int
    alerts: int
    cut_requests: int
    not_stored: list[str]
    missing_from_ledger: list[str]
    ledger_size: int
    fsck_problems: list[str]

    @property
    def ok(self) -> bool:
        return not (self.not_stored or self.missing_from_ledger or self.fsck_problems)


# -- set-up ------------------------------------------------------------------------------------


def scan_files(folder: Path, count: int, seed: int) -> tuple[list[tuple[str, str, bytes]], int]:
    """``count`` distinct scan files (container, reference, TIFF bytes) of one simulated load,
    each with its own reference (so each is a different file, for its own declaration), and
    the goods' gross mass to declare, kg."""
    base = simulate_scan(
        SimulationSpec(
            container=ContainerType.DRY_20,
            cargo=CargoKind.TEXTILE_BALES,
            concealment=ConcealmentKind.NONE,
            seed=seed,
            pitch_x_mm=11.0,
            pitch_y_mm=12.0,
            rows=260,
        )
    )
    files = []
    for n in range(count):
        reference = f"FLT-SCAN-{n:04d}"
        meta = dataclasses.replace(base.scan.metadata, declaration_ref=reference)
        scan = dataclasses.replace(base.scan, metadata=meta)
        path = write_tiff(scan, folder / f"scan-{n}.tif", sidecar=False, embed=True)
        container = meta.container_number
        assert container is not None
        files.append((container, reference, path.read_bytes()))
    gross = float(base.scan.metadata.extra["declared_gross_kg"])  # the goods, without the container
    return files, round(gross)


def prepare_instance(
    folder: Path, database_url: str | None, scans: int, seed: int
) -> tuple[dict[str, str], dict[str, str], list[tuple[int, bytes]]]:
    """Database with corridors and armed transits (one per seal), users and tokens, and the
    declarations the scans belong to. Returns the server's environment, tokens by role, and
    ``(declaration id, file)`` per scan."""
    env = prepare(folder, [seal(n) for n in range(SEALS)], database_url=database_url)
    settings = load_settings(
        None, data_dir=folder, database_url=env["SMARTCUSTOMS_DATABASE_URL"], secret_key="b" * 48
    )
    ctx = AppContext.from_settings(settings)
    tokens: dict[str, str] = {}
    files, goods = scan_files(folder, scans, seed)
    try:
        with ctx.unit() as unit:
            for name, role in (
                ("broker", Role.DECLARANT),
                ("analyst", Role.IMAGE_ANALYST),
                ("auditor", Role.AUDITOR),
            ):
                create_user(unit, username=name, password="x" * 16, roles=[role], actor="bench")
        _bind_trader(ctx, "broker", DECLARANT)
        with ctx.unit() as unit:
            for name in ("broker", "analyst", "auditor"):
                token = create_token(
                    unit, get_user(unit.session, name), name="faults", days=2, max_days=9, actor="b"
                )
                tokens[name] = token.secret
        documents = []
        for container, reference, _ in files:
            doc = declaration(reference)
            doc["transport_equipment"] = [{"container_id": container}]
            doc["items"][0]["gross_mass_kg"] = str(goods)
            doc["items"][0]["net_mass_kg"] = str(round(goods * 0.96))
            doc["items"][0]["hs_code"] = "620342"
            documents.append(doc)
        with ctx.unit() as unit:
            records = [SourceRecord(f"d{i}", data=d) for i, d in enumerate(documents)]
            report = import_records(unit.session, records, source="bench", submitted_by="bench")
            ids = [s.id for s in report.stored]
    finally:
        ctx.close()
    return env, tokens, [(i, f[2]) for i, f in zip(ids, files, strict=True)]


def _bind_trader(ctx: AppContext, username: str, trader: str) -> None:
    """Declarants act only for the trader identities an administrator bound them to."""
    with ctx.unit() as unit:
        grant_traders(unit, username, [trader], actor="bench")


# -- the server --------------------------------------------------------------------------------


class Server:
    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.web_port = free_port()
        self.device_port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")},
            **env,
            "SMARTCUSTOMS_TRACKING_LISTEN": "true",
            "SMARTCUSTOMS_TRACKING_HOST": "127.0.0.1",
            "SMARTCUSTOMS_TRACKING_LISTENERS": f'["eseal:tcp:{self.device_port}"]',
            "SMARTCUSTOMS_LEDGER_CHECKPOINT_INTERVAL_MS": "200",
        }
        self.log = folder / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self, timeout: float = 90.0) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smartcustoms", "serve", "--port", str(self.web_port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill takes the listeners too
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped; see {self.log}")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{self.base}/health", timeout=1).status_code == 200 and _accepting(
                    self.device_port
                ):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start in {timeout:g} s; see {self.log}")

    def kill(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        _wait_group_gone(self.process.pid)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()
        _wait_group_gone(self.process.pid)


def _accepting(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_group_gone(pgid: int, timeout: float = 30.0) -> None:
    """The listener child may outlive its parent by a moment: a restart must not share the
    database with a half-dead writer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        time.sleep(0.05)


# -- the load ----------------------------------------------------------------------------------


class Load:
    def __init__(
        self, server: Server, tokens: dict[str, str], scans: list[tuple[int, bytes]], seed: int
    ) -> None:
        self.server = server
        self.tokens = tokens
        self.scans = list(scans)
        self.acked = Acknowledged()
        self.lrn = 0
        self.rng = random.Random(seed)
        self.serial = 0

    async def lodging(self, client: httpx2.AsyncClient, until: float) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['broker']}"}
        while time.monotonic() < until:
            self.lrn += 1
            try:
                r = await client.post(
                    f"{self.server.base}/api/declarations",
                    json=declaration(f"FLT-{self.lrn:06d}"),
                    headers=headers,
                )
            except httpx2.TransportError:
                self.acked.errors += 1
                await asyncio.sleep(0.05)
                continue
            if r.status_code == 201:
                body = r.json()
                self.acked.lanes[int(body["id"])] = str(body["lane"])
            else:
                self.acked.errors += 1
            await asyncio.sleep(0.01)

    async def scanning(self, client: httpx2.AsyncClient, until: float) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['analyst']}"}
        while time.monotonic() < until and self.scans:
            declaration_id, data = self.scans[0]
            try:
                r = await client.post(
                    f"{self.server.base}/api/scans",
                    data={"declaration_id": str(declaration_id)},
                    files={"file": ("scan.tif", data, "image/tiff")},
                    headers=headers,
                )
                if r.status_code in (200, 201):
                    self.scans.pop(0)
                    scan_id = int(r.json()["id"])
                    if r.status_code == 201:
                        self.acked.scans.add(scan_id)
                    review = await client.post(
                        f"{self.server.base}/api/scans/{scan_id}/review",
                        json={"decision": "clear", "note": "faults"},
                        headers=headers,
                    )
                    if review.status_code in (200, 201):
                        self.acked.reviews.add(scan_id)
                else:
                    self.acked.errors += 1
                    if r.status_code < 500:
                        self.scans.pop(0)  # refused for good: do not retry
            except httpx2.TransportError:
                self.acked.errors += 1
            await asyncio.sleep(0.2)

    async def seals(self, until: float, report_ms: int) -> None:
        encoder = ENCODERS["eseal"]
        writers = []
        drains = []

        async def drain(reader: asyncio.StreamReader) -> None:
            with contextlib.suppress(ConnectionError):
                while await reader.read(65536):
                    pass

        with contextlib.suppress(OSError):
            for _ in range(SEALS):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.server.device_port)
                writers.append(writer)
                drains.append(asyncio.create_task(drain(reader)))
        try:
            while time.monotonic() < until and writers:
                n = self.rng.randrange(len(writers))
                self.serial += 1
                opened = self.rng.random() < 0.05
                position = Position(
                    device_id=seal(n),
                    time=datetime.now(UTC).replace(microsecond=0),
                    latitude=-3.39 + (n % 100) / 10_000,
                    longitude=38.55,
                    speed_kmh=0.0 if opened else 55.0,
                    course=300.0,
                    satellites=9,
                    valid=True,
                    events=(SealEvent.OPENED,) if opened else (),
                )
                try:
                    writers[n].write(encoder.report(seal(n), [position], self.serial))
                    await writers[n].drain()
                except ConnectionError:
                    break
                await asyncio.sleep(report_ms / 1000)
        finally:
            for task in drains:
                task.cancel()
            for writer in writers:
                writer.close()

    async def run(self, until: float, report_ms: int) -> None:
        """Keep the load on until ``until`` (``time.monotonic()``), through kills and
        restarts: a request cut by a kill is counted and the next one tried."""
        limits = httpx2.Limits(max_connections=8)
        async with httpx2.AsyncClient(timeout=30, limits=limits) as client:

            async def seals_forever() -> None:
                while time.monotonic() < until:
                    await self.seals(until, report_ms)
                    await asyncio.sleep(0.2)  # the listener is down: connect again

            await asyncio.gather(
                self.lodging(client, until), self.scanning(client, until), seals_forever()
            )


# -- the check ---------------------------------------------------------------------------------


def check(
    database: str, env: dict[str, str], acked: Acknowledged, kills: int, seconds: float
) -> Result:
    settings = load_settings(
        None,
        data_dir=Path(env["SMARTCUSTOMS_DATA_DIR"]),
        database_url=env["SMARTCUSTOMS_DATABASE_URL"],
        secret_key="b" * 48,
    )
    ctx = AppContext.from_settings(settings)
    try:
        ledger = attach_ledger(ctx)
        ledger.flush(60)
        size = ledger.size()
        lanes: dict[int, set[str]] = {}
        received: set[int] = set()
        reviewed: set[int] = set()
        raised: set[int] = set()
        for index in range(size):
            record = ledger.record(index)
            kind = record.get("type")
            if kind == "risk.lane_assigned":
                lanes.setdefault(int(record["declaration_id"]), set()).add(str(record["lane"]))
            elif kind == "scans.received":
                received.add(int(record["scan_id"]))
            elif kind == "scans.reviewed":
                reviewed.add(int(record["scan_id"]))
            elif kind == "tracking.alert_raised":
                raised.add(int(record["alert_id"]))
        with ctx.db.engine.connect() as conn:
            query = select(LaneDecisionRow.declaration_id, LaneDecisionRow.lane)
            stored_lanes = {int(d): str(lane) for d, lane in conn.execute(query)}
            stored_scans = set(conn.execute(select(ScanRow.id)).scalars())
            stored_reviews = set(
                conn.execute(select(ReviewRow.scan_id).where(ReviewRow.kind == "review")).scalars()
            )
            alerts = set(conn.execute(select(AlertRow.id)).scalars())
        report = fsck(ctx.db, settings.data_dir, settings.ledger_origin)
    finally:
        ctx.close()
    not_stored, missing = [], []
    for declaration_id, lane in sorted(acked.lanes.items()):
        if stored_lanes.get(declaration_id) != lane:
            not_stored.append(f"declaration {declaration_id} (lane {lane})")
        elif lane not in lanes.get(declaration_id, set()):
            missing.append(f"risk.lane_assigned {lane} for declaration {declaration_id}")
    for scan_id in sorted(acked.scans):
        if scan_id not in stored_scans:
            not_stored.append(f"scan {scan_id}")
    for scan_id in sorted(stored_scans):
        if scan_id not in received:
            missing.append(f"scans.received for scan {scan_id}")
    for scan_id in sorted(acked.reviews):
        if scan_id not in stored_reviews:
            not_stored.append(f"review of scan {scan_id}")
    for scan_id in sorted(stored_reviews):
        if scan_id not in reviewed:
            missing.append(f"scans.reviewed for scan {scan_id}")
    for alert_id in sorted(alerts):
        if alert_id not in raised:
            missing.append(f"tracking.alert_raised for alert {alert_id}")
    for declaration_id in sorted(set(stored_lanes) - set(lanes)):
        missing.append(f"risk.lane_assigned for stored declaration {declaration_id}")
    return Result(
        database=database,
        kills=kills,
        seconds=round(seconds, 1),
        acknowledged_lodgings=len(acked.lanes),
        acknowledged_scans=len(acked.scans),
        acknowledged_reviews=len(acked.reviews),
        alerts=len(alerts),
        cut_requests=acked.errors,
        not_stored=not_stored,
        missing_from_ledger=missing,
        ledger_size=size,
        fsck_problems=[p.message for p in report.problems],
    )


def run(database: str, args: argparse.Namespace, database_url: str | None) -> Result:
    folder = temporary_folder("smartcustoms-faults-")
    rng = random.Random(args.seed)
    env, tokens, scans = prepare_instance(folder, database_url, 2 * args.kills + 4, args.seed)
    server = Server(env, folder)
    load = Load(server, tokens, scans, args.seed)
    started = time.monotonic()
    server.start()

    async def scenario() -> int:
        forever = time.monotonic() + 24 * 3600
        load_task = asyncio.create_task(load.run(forever, args.report_ms))
        kills = 0
        while kills < args.kills:
            await asyncio.sleep(rng.uniform(args.min_gap, args.max_gap))
            await asyncio.to_thread(server.kill)  # requests and frames in flight are cut
            kills += 1
            if not args.json:
                print(
                    f"  kill {kills}: {len(load.acked.lanes)} lodgings, {len(load.acked.scans)} "
                    f"scans, {len(load.acked.reviews)} reviews acknowledged so far",
                    flush=True,
                )
            await asyncio.to_thread(server.start)
        await asyncio.sleep(1.0)
        load_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await load_task
        return kills

    kills = asyncio.run(scenario())
    server.stop()
    return check(database, env, load.acked, kills, time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("SMARTCUSTOMS_TEST_POSTGRES_URL", "")
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-gap", type=float, default=0.5, help="seconds of load before a kill")
    parser.add_argument("--max-gap", type=float, default=3.0)
    parser.add_argument("--report-ms", type=int, default=20, help="one seal report every …")
    parser.add_argument("--json", action="store_true", help="print one JSON object per database")
    args = parser.parse_args()
    pg = args.postgres_url or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    targets = {"sqlite": [("sqlite", None)], "postgresql": [("postgresql", pg)]}
    targets["both"] = targets["sqlite"] + targets["postgresql"]
    if not args.json:
        print(f"machine: {machine()}")
        print(
            f"kill -9 of `smartcustoms serve` (web + listeners) {args.kills} times, after "
            f"{args.min_gap:g}-{args.max_gap:g} s of load each, seed {args.seed}"
        )
    failed = False
    for name, url in targets[args.database]:
        if not args.json:
            print(f"{name}:", flush=True)
        result = run(name, args, url)
        failed |= not result.ok
        if args.json:
            print(json.dumps({**dataclasses.asdict(result), "ok": result.ok}), flush=True)
            continue
        print(f"  kills: {result.kills} in {result.seconds} s")
        print(
            f"  acknowledged: {result.acknowledged_lodgings} lane decisions, "
            f"{result.acknowledged_scans} scans, {result.acknowledged_reviews} reviews; "
            f"{result.alerts} alerts stored; {result.cut_requests} requests cut by the kills"
        )
        print(f"  ledger: {result.ledger_size} entries")
        print(f"  acknowledged but not stored: {len(result.not_stored)} {result.not_stored[:5]}")
        print(
            f"  missing from the ledger: {len(result.missing_from_ledger)} "
            f"{result.missing_from_ledger[:5]}"
        )
        print(f"  fsck problems: {len(result.fsck_problems)} {result.fsck_problems[:5]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
