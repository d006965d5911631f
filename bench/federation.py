"""Benchmark of transit hand-over between two instances: hand-overs per second, positions
forwarded per second to the partner, and border crossing → visible on the partner's side.

    .venv/bin/python bench/federation.py                       # SQLite, in a temporary folder
    .venv/bin/python bench/federation.py --positions 60000 --rate 12000 --transits 50

Two administrations (Kenya, Uganda) each run ``smartcustoms serve`` as a user would (its own
process, database, keys and ledger), partners of each other from their exchanged cards. This
process plays the seals: it stores positions at the origin through the origin's own ingest
writer (what a listener does), so the origin's federation deliverer forwards them through its
outbox, signed, to the partner's inbox, which stores them through the partner's pipeline.

It prints:

1. the baseline, measured in this run on the partner's database: storing the same positions
   with ``tracking.store.insert_positions`` in batches of the same size, no HTTP, no pipeline
   — the ceiling of the partner's store;
2. hand-overs: ``--transits`` armed transits handed over at once (each in its own unit of
   work, as an officer's click); hand-overs/s until every one exists at the partner;
3. forwarding, open loop: ``--positions`` positions stored at the origin at ``--rate`` per
   second (frames of ``--frame`` records across the handed-over transits); positions/s stored
   at the partner while they flow, and the latency from a frame's storage at the origin to the
   moment the partner has it (p50/p99/max, by polling the partner's database every 5 ms from a
   thread of its own while the positions are offered);
4. steady traffic: ``--steady-seconds`` at ``--steady-rate`` positions/s (a corridor's normal
   load, not a saturating burst) and the same latency: a border crossing → on the partner's
   map.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import Settings, load_settings
from smartcustoms.declarations.model import Amount, Declaration, Item, Party
from smartcustoms.declarations.store import store_declarations
from smartcustoms.federation.directory import add_partner
from smartcustoms.federation.service import attach_federation, own_card
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.tracking.corridors import import_geojson
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.packaged import packaged_geojson
from smartcustoms.tracking.records import Position
from smartcustoms.tracking.store import insert_positions, position_rows
from smartcustoms.tracking.tables import PositionRow, TransitRow
from smartcustoms.tracking.transits import (
    TransitRequest,
    arm_transit,
    create_transit,
    hand_over_transit,
)

KE, UG = "Kenya Revenue Authority", "Uganda Revenue Authority"
VOI = (38.55609, -3.39605)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(root: Path, name: str, country: str, port: int) -> tuple[Settings, dict[str, str]]:
    env = {
        "SMARTCUSTOMS_DATA_DIR": str(root / "data"),
        "SMARTCUSTOMS_DATABASE_URL": f"sqlite:///{root / 'smartcustoms.db'}",
        "SMARTCUSTOMS_SECRET_KEY": secrets.token_urlsafe(48),
        "SMARTCUSTOMS_ADMINISTRATION_NAME": name,
        "SMARTCUSTOMS_LEDGER_ORIGIN": f"{country.lower()}.example/ledger",
        "SMARTCUSTOMS_FEDERATION_COUNTRY": country,
        "SMARTCUSTOMS_FEDERATION_URL": f"http://127.0.0.1:{port}",
        "SMARTCUSTOMS_FEDERATION_AUTO_ACCEPT": "true",
        "SMARTCUSTOMS_PORT": str(port),
        "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
    }
    settings = load_settings(
        None,
        data_dir=root / "data",
        database_url=env["SMARTCUSTOMS_DATABASE_URL"],
        secret_key=env["SMARTCUSTOMS_SECRET_KEY"],
        administration_name=name,
        ledger_origin=env["SMARTCUSTOMS_LEDGER_ORIGIN"],
        federation_country=country,
        federation_url=env["SMARTCUSTOMS_FEDERATION_URL"],
    )
    return settings, env


def _context(settings: Settings) -> AppContext:
    ctx = AppContext.from_settings(settings)
    attach_ledger(ctx, start=False)
    attach_federation(ctx, start=False)  # hand-overs made here queue; the server sends
    return ctx


def _serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("smartcustoms")
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(exe), "serve"], env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )


def _wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 240  # a loaded machine starts a worker slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} exited ({process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server on port {port} did not start")


def _transits(ctx: AppContext, count: int) -> list[int]:
    declaration = Declaration(
        lrn="B-0",
        type_code="TR",
        office_of_declaration="KEMBA",
        declarant=Party(id="BRK001", name="Coast Clearing Ltd"),
        importer=Party(id="IMP042"),
        border_transport_mode="1",
        items=[
            Item(
                sequence=1,
                hs_code="850440",
                origin_country="CN",
                customs_value=Amount(value=12500, currency="USD"),
                net_mass_kg=840,
            )
        ],
    )
    ids = []
    for n in range(count):
        with ctx.unit() as unit:
            stored = store_declarations(
                unit.session,
                [declaration.model_copy(update={"lrn": f"B-{n}"})],
                source="bench",
                submitted_by="bench",
            )
            row = create_transit(
                unit,
                TransitRequest(
                    declaration_id=stored.stored[0].id,
                    device_id=f"SEAL-B{n:05d}",
                    vehicle=f"KB{n:05d}",
                    corridor="northern",
                    origin="KEMBA",
                    destination="UGKLA",
                    deadline=datetime.now(UTC) + timedelta(days=2),
                    containers=[],
                ),
                actor="bench",
                administration=KE,
            )
            ids.append(row.id)
        with ctx.unit() as unit:
            arm_transit(unit, ids[-1], actor="bench")
    return ids


def _count(ctx: AppContext, what: object) -> int:
    with ctx.db.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


def _position(device: str, at: datetime) -> Position:
    return Position(
        device_id=device,
        time=at,
        latitude=VOI[1],
        longitude=VOI[0],
        speed_kmh=60.0,
        course=300.0,
        satellites=9,
        valid=True,
    )


def _baseline(ctx: AppContext, total: int, batch: int) -> float:
    """The partner's store alone: positions of a device no transit names, batched."""
    start = datetime.now(UTC)
    positions = [_position("BASELINE", start + timedelta(milliseconds=n)) for n in range(total)]
    text_times = ctx.db.is_sqlite
    writer = ctx.db.engine.execution_options(sqlite_immediate=True)
    began = time.perf_counter()
    for at in range(0, total, batch):
        rows = position_rows(
            positions[at : at + batch], "BASELINE", start, "bench", text_times=text_times
        )
        with writer.begin() as conn:
            insert_positions(conn, rows)
    return total / (time.perf_counter() - began)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _forward(
    ke: AppContext,
    ug: AppContext,
    devices: list[str],
    start: datetime,
    positions: int,
    rate: int,
    frame: int,
) -> tuple[float, int, int, list[float]]:
    """Store ``positions`` at the origin at ``rate``/s in frames of ``frame`` (open loop) while
    a thread polls the partner's database every 5 ms; return (positions/s end to end, stored at
    the partner, sent, latencies in seconds from a frame's commit at the origin to the first
    poll that found the partner holding it)."""
    before = _count(ug, PositionRow)
    polls: list[tuple[float, int]] = []  # (when, positions at the partner)
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            polls.append((time.perf_counter(), _count(ug, PositionRow) - before))
            time.sleep(0.005)

    poller = threading.Thread(target=poll, name="poll-partner", daemon=True)
    poller.start()
    writer = Ingestor(ke)
    writer.start()
    frames: list[tuple[float, int]] = []  # (stored at origin, cumulative count)
    interval = frame / rate
    sent = 0
    t0 = time.perf_counter()
    n = 0
    while sent < positions:
        due = t0 + n * interval
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        device = devices[n % len(devices)]
        records = [
            _position(device, start + timedelta(milliseconds=n * frame + k)) for k in range(frame)
        ]
        sent += len(records)

        def stored(ok: bool, total: int = sent) -> None:
            if ok:  # committed at the origin: the clock of this frame starts
                frames.append((time.perf_counter(), total))

        writer.submit_records(records, datetime.now(UTC), "bench", device, stored)
        n += 1
    writer.stop()
    while (not polls or polls[-1][1] < sent) and time.perf_counter() - t0 < 300:
        time.sleep(0.01)
    done.set()
    poller.join()
    total = polls[-1][1] if polls else 0
    if total < sent:
        print(f"stopped waiting: {sent - total} positions not at the partner after 300 s")
    flow = total / (polls[-1][0] - t0) if polls else 0.0
    # Each frame: the first poll at or after its commit that saw its cumulative count.
    latencies = []
    ordered = sorted(frames, key=lambda f: f[1])
    at = 0
    for committed, count in ordered:
        while at < len(polls) and (polls[at][1] < count or polls[at][0] < committed):
            at += 1
        if at == len(polls):
            break
        latencies.append(polls[at][0] - committed)
    return flow, total, sent, latencies


def _print_latency(what: str, latencies: list[float]) -> None:
    if latencies:
        print(
            f"{what}: p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p99 {_pct(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
            f"({len(latencies)} frames)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transits", type=int, default=20)
    parser.add_argument("--positions", type=int, default=40_000)
    parser.add_argument("--rate", type=int, default=12_000, help="positions/s stored at origin")
    parser.add_argument("--frame", type=int, default=50, help="records per frame")
    parser.add_argument(
        "--steady-rate", type=int, default=1000, help="positions/s of the latency phase (0: none)"
    )
    parser.add_argument("--steady-seconds", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="sc-federation-bench-"))
    ports = (_free_port(), _free_port())
    ke_settings, ke_env = _settings(root / "ke", KE, "KE", ports[0])
    ug_settings, ug_env = _settings(root / "ug", UG, "UG", ports[1])
    contexts = []
    for settings in (ke_settings, ug_settings):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        ctx = _context(settings)
        upgrade(ctx.db)
        with ctx.unit() as unit:
            import_geojson(unit, packaged_geojson(), actor="bench")
        contexts.append(ctx)
    ke, ug = contexts
    for here, there in ((ke, ug), (ug, ke)):
        with here.unit() as unit:
            add_partner(unit, own_card(there).to_json(), own=own_card(here), actor="bench")
    transits = _transits(ke, args.transits)
    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}; SQLite (WAL) in {root}")

    baseline = statistics.median(_baseline(ug, 20_000, 2000) for _ in range(3))
    print(f"baseline: partner's store alone, batches of 2000: {baseline:,.0f} positions/s")

    servers = [_serve(ke_env, root / "ke.log"), _serve(ug_env, root / "ug.log")]
    try:
        for port, process in zip(ports, servers, strict=True):
            _wait_port(port, process)
        began = time.perf_counter()
        for tid in transits:
            with ke.unit() as unit:
                hand_over_transit(
                    unit, tid, actor="bench", border="KE-MALABA", to_administration=UG
                )
        while _count(ug, TransitRow) < len(transits):
            time.sleep(0.005)
        took = time.perf_counter() - began
        print(f"hand-overs: {len(transits)} in {took:.2f} s = {len(transits) / took:,.1f}/s")

        devices = [f"SEAL-B{n:05d}" for n in range(len(transits))]
        start = datetime.now(UTC)
        flow, total, sent, latencies = _forward(
            ke, ug, devices, start, args.positions, args.rate, args.frame
        )
        print(
            f"forwarding: {total:,} of {sent:,} positions at the partner, offered at "
            f"{args.rate:,}/s in frames of {args.frame}: {flow:,.0f} positions/s end to end "
            f"({flow / baseline:.2f} × the baseline)"
        )
        _print_latency("origin stored → partner stored, at that rate", latencies)
        if args.steady_rate:
            # A corridor's steady traffic (tens of thousands of seals, each reporting every
            # half minute or so: about 1,000 positions/s): the delay a border crossing takes to
            # show on the partner's map, not the queue of a saturating burst.
            later = start + timedelta(hours=1)
            steady = args.steady_rate * args.steady_seconds
            flow, total, sent, latencies = _forward(
                ke, ug, devices, later, steady, args.steady_rate, args.frame
            )
            print(
                f"steady: {total:,} of {sent:,} positions offered at {args.steady_rate:,}/s "
                f"for {args.steady_seconds} s: {flow:,.0f} positions/s"
            )
            _print_latency("border crossing → on the partner's map, steady", latencies)
    finally:
        for process in servers:
            process.send_signal(signal.SIGTERM)
        for process in servers:
            process.wait(30)
        for ctx in contexts:
            ctx.close()
        if args.keep:
            print(f"kept: {root} (the servers' logs in ke.log and ug.log)")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
