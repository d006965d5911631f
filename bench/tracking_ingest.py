"""Sustained positions/s end to end on SQLite and PostgreSQL, 1 and 2 listener processes,
each beside what the database alone takes of the same rows (measured in the same run).

    .venv/bin/python bench/tracking_ingest.py [--engines sqlite,postgresql] [--workers 1,2]
        [--seconds 5] [--repeat 1] [--connections 100] [--records-per-frame 20] [--window 4]
        [--postgres-admin-url URL | --database-url URL] [--no-transits] [--full]

End to end means: Teltonika Codec 8 devices on real TCP sockets (a load generator in its own
process) → ``smartcustoms tracking listen`` (its own process or processes, as a user runs it)
frames and decodes → the writer makes the positions durable (SQLite: WAL, synchronous=NORMAL,
durable against a process crash; PostgreSQL: a committed transaction, synchronous_commit as the
server has it) → acknowledgement to the device → the pipeline's rules, in the same transaction.
Each device is on an armed transit, so every position goes through match, corridor, zones and
rules. A position counts when the device has received the acknowledgement that covers it.

The baselines, measured in the same run on the same machine, into the same table and indexes,
the same rows (decoded from the same frames, with the same digests), a commit per batch:

* SQLite: ``sqlite3.executemany`` (WAL, synchronous=NORMAL);
* PostgreSQL: a raw ``COPY … FROM STDIN`` of the rows' text, prepared before the clock starts.

Also printed: the listener's CPU time per position (user + system, all its threads and
workers, over the same steady window), which depends much less than positions/s on what else
the machine runs, how busy the whole machine was, and the load average at each measurement
(a shared machine: compare the ratios, which are measured side by side).

PostgreSQL runs in a throwaway database created on the server of ``--postgres-admin-url`` and
dropped at the end (or in ``--database-url``, which is EMPTIED). Each repetition starts from an
empty database. Figures: median (min, max) over the repetitions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import secrets
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tracking_common import (
    Figures,
    TeltonikaFrames,
    cpu_seconds,
    family,
    free_port,
    machine,
    peak_rss_mb,
    prepare,
    running_listener,
    temporary_folder,
)

from smartcustoms.core.db import Database
from smartcustoms.core.schema import upgrade
from smartcustoms.tracking.protocols import Context, get_protocol
from smartcustoms.tracking.store import _COLUMNS, Incoming, position_row

# Device times start now (after the transits were armed, so the rules judge every position),
# one a second per device.
START = datetime.now(UTC).replace(microsecond=0)


def imei(n: int) -> str:
    return f"{356_000_000_000_000 + n:015d}"


# --- the load generator (a process of its own) ---------------------------------------------------


async def _device(
    port: int, n: int, frames: list[bytes], window: int, acked: list[int], stop: float
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(TeltonikaFrames(imei(n), START, 0, 0).login())
    assert await reader.readexactly(1) == b"\x01"
    sent = 0
    pending = 0
    index = 0
    while time.monotonic() < stop and index < len(frames):
        while pending < window and index < len(frames):
            writer.write(frames[index])
            index += 1
            pending += 1
        ack = await reader.readexactly(4)
        acked[0] += int.from_bytes(ack, "big")
        acked[1] += 1
        pending -= 1
        sent += 1
    writer.close()


def generator(port: int, args: dict[str, Any], queue: Any) -> None:
    """Pre-encode every device's frames, then drive them and report acks every 0.5 s."""
    per_device = args["frames_per_device"]
    records = args["records_per_frame"]
    frames = []
    for n in range(args["connections"]):
        maker = TeltonikaFrames(imei(n), START, -3.396 + n * 0.0001, 38.556)
        frames.append([maker.frame(records) for _ in range(per_device)])
    queue.put(("ready", None))
    go = queue_get(queue)
    assert go == "go"
    acked = [0, 0]  # records, frames
    stop = time.monotonic() + args["seconds"]

    async def main() -> None:
        tasks = [
            asyncio.create_task(_device(port, n, f, args["window"], acked, stop))
            for n, f in enumerate(frames)
        ]
        started = time.monotonic()
        while time.monotonic() < stop:
            await asyncio.sleep(0.5)
            queue.put(("tick", (time.monotonic() - started, acked[0], acked[1])))
        await asyncio.gather(*tasks, return_exceptions=True)

    import uvloop

    uvloop.run(main())
    queue.put(("done", (acked[0], acked[1])))


def queue_get(queue: Any) -> Any:
    kind, value = queue.get()
    return value if kind != "go" else "go"


# --- the baseline --------------------------------------------------------------------------------


def raw_insert(folder: Path, rows: list[tuple[Any, ...]], batch: int) -> float:
    """Rows/s of sqlite3.executemany into the same table, WAL + synchronous=NORMAL."""
    db = Database(f"sqlite:///{folder / 'raw.db'}")
    upgrade(db)
    db.dispose()
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    columns = (
        "device_id,time,received_at,latitude,longitude,speed_kmh,course,satellites,valid,"
        "altitude,events,attributes,implausible,protocol,digest"
    )
    sql = f"INSERT INTO tracking_positions ({columns}) VALUES ({','.join('?' * 15)})"

    def iso(value: datetime) -> str:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    prepared = [(r[0], iso(r[1]), iso(r[2]), *r[3:]) for r in rows]
    started = time.perf_counter()
    for start in range(0, len(prepared), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, prepared[start : start + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(prepared) / elapsed


def raw_copy(database_url: str, rows: list[tuple[Any, ...]], batch: int) -> float:
    """Rows/s of a raw COPY of the rows' text into the (emptied) table, a commit per batch."""
    empty_positions(database_url)
    texts = []
    for start in range(0, len(rows), batch):  # the text is made before the clock starts
        texts.append("".join(_copy_line(row) for row in rows[start : start + batch]))
    sql = f"COPY tracking_positions ({','.join(_COLUMNS)}) FROM STDIN"
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        for chunk in texts:
            with conn.transaction(), conn.cursor() as cursor, cursor.copy(sql) as copy:
                copy.write(chunk)
        elapsed = time.perf_counter() - started
    empty_positions(database_url)
    return len(rows) / elapsed


def _copy_line(row: tuple[Any, ...]) -> str:
    """One row in COPY's text format (made here, not by the code under test)."""
    fields = []
    for value in row:
        if value is None:
            fields.append("\\N")
        elif isinstance(value, bool):
            fields.append("t" if value else "f")
        elif isinstance(value, datetime):
            fields.append(value.isoformat())
        elif isinstance(value, str):
            escaped = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            fields.append(escaped.replace("\r", "\\r"))
        else:
            fields.append(repr(value))
    return "\t".join(fields) + "\n"


def empty_positions(database_url: str) -> None:
    db = Database(database_url)
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE tracking_positions RESTART IDENTITY"))
    db.dispose()


def baseline_rows(count: int, records: int) -> list[tuple[Any, ...]]:
    """The same rows the listener stores: decoded from the same frames, same digests."""
    teltonika = get_protocol("teltonika")
    rows: list[tuple[Any, ...]] = []
    n = 0
    while len(rows) < count:
        maker = TeltonikaFrames(imei(n), START, -3.396 + n * 0.0001, 38.556)
        context = Context(device_id=imei(n))
        for _ in range(50):
            message = teltonika.decode(maker.frame(records), context)
            now = datetime.now(UTC)
            rows.extend(
                position_row(Incoming(p, now, "teltonika"), imei(n)) for p in message.records
            )
        n += 1
    return rows[:count]


# --- one repetition ------------------------------------------------------------------------------


def repetition(args: argparse.Namespace, engine: str, workers: int) -> dict[str, float]:
    folder = temporary_folder("smartcustoms-bench-ingest-")
    devices = [imei(n) for n in range(args.connections)] if args.transits else []
    url = args.postgres_url if engine == "postgresql" else None
    env = prepare(folder, devices, database_url=url)
    rate_needed = 150_000  # records/s the pre-encoded frames must cover
    per_device = max(
        10, int(rate_needed * args.seconds / args.connections / args.records_per_frame) + 10
    )
    gen_args = {
        "connections": args.connections,
        "records_per_frame": args.records_per_frame,
        "window": args.window,
        "seconds": args.seconds,
        "frames_per_device": per_device,
    }
    spec = "teltonika:tcp:0" if workers == 1 else f"teltonika:tcp:{free_port()}"
    load_before = os.getloadavg()[0]
    with running_listener(env, [spec], folder, workers=workers) as (listener, ports):
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        process = ctx.Process(target=generator, args=(ports[spec], gen_args, queue))
        process.start()
        kind, _ = queue.get(timeout=600)
        assert kind == "ready"
        queue.put(("go", None))
        time.sleep(0.1)
        ticks = []
        listeners = family(listener.pid)
        while True:
            kind, value = queue.get(timeout=args.seconds + 120)
            if kind == "tick":
                # CPU used so far by the listener(s) and the load generator, and the machine's
                # busy time: CPU per position does not depend on what else the machine runs.
                cpu = (cpu_seconds(listeners), cpu_seconds([process.pid]), _busy_seconds())
                ticks.append((*value, *cpu))
            elif kind == "done":
                total_records, _frames = value
                break
        process.join(60)
        rss = peak_rss_mb(listener.pid)
    load_after = os.getloadavg()[0]
    # Steady state: from 2 s in to the end (the first seconds fill the pipe).
    steady = [t for t in ticks if t[0] >= min(2.0, args.seconds / 3)]
    (t0, r0, f0, l0, g0, b0), (t1, r1, f1, l1, g1, b1) = steady[0], steady[-1]
    positions = (r1 - r0) / (t1 - t0)
    frames = (f1 - f0) / (t1 - t0)
    listener_us = (l1 - l0) / max(1, r1 - r0) * 1e6
    generator_us = (g1 - g0) / max(1, r1 - r0) * 1e6
    busy = (b1 - b0) / (t1 - t0)
    db = Database(env["SMARTCUSTOMS_DATABASE_URL"])
    with db.engine.connect() as conn:
        from sqlalchemy import func, select

        from smartcustoms.tracking.tables import AlertRow, PositionRow

        stored = conn.execute(select(func.count()).select_from(PositionRow)).scalar_one()
        alerts = conn.execute(select(func.count()).select_from(AlertRow)).scalar_one()
    db.dispose()
    assert stored >= total_records, (stored, total_records)  # every acknowledged one is stored
    rows = baseline_rows(args.baseline_rows, args.records_per_frame)
    if engine == "postgresql":
        baseline = raw_copy(args.postgres_url, rows, args.baseline_batch)
    else:
        baseline = raw_insert(folder, rows, args.baseline_batch)
    shutil.rmtree(folder, ignore_errors=True)  # the databases: some 100 MiB
    return {
        "positions_per_s": positions,
        "frames_per_s": frames,
        "baseline_rows_per_s": baseline,
        "listener_cpu_us_per_position": listener_us,
        "generator_cpu_us_per_position": generator_us,
        "machine_busy_cores": busy,
        "load_average": (load_before + load_after) / 2,
        "listener_peak_rss_mb": rss,
        "stored": float(stored),
        "alerts": float(alerts),
    }


def _busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all processes, all cores), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--workers", default="1,2", help="listener processes to measure")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--records-per-frame", type=int, default=20)
    parser.add_argument("--window", type=int, default=4, help="frames in flight per connection")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--full", action="store_true", help="10 s and 3 repetitions each")
    parser.add_argument("--baseline-batch", type=int, default=2000)
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--no-transits", dest="transits", action="store_false")
    parser.add_argument(
        "--postgres-admin-url",
        default=os.environ.get(
            "SMARTCUSTOMS_TEST_POSTGRES_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        ),
        help="a server where a throwaway database is created (and dropped at the end)",
    )
    parser.add_argument(
        "--database-url", help="a PostgreSQL database to EMPTY and use instead of a throwaway one"
    )
    args = parser.parse_args()
    if args.full:
        args.seconds, args.repeat = 10.0, 3
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    workers = [int(w) for w in args.workers.split(",")]
    print(f"machine: {machine()}")
    print(
        "settings: "
        + ", ".join(f"{k}={v}" for k, v in vars(args).items() if k != "postgres_admin_url")
        + f", date={datetime.now(UTC):%Y-%m-%d}, pid={os.getpid()}"
    )
    for engine in engines:
        if engine == "postgresql":
            with postgres_database(args) as url:
                if url is None:
                    continue
                args.postgres_url = url
                report(args, engine, workers)
        else:
            report(args, engine, workers)


@contextlib.contextmanager
def postgres_database(args: argparse.Namespace) -> Iterator[str | None]:
    """``--database-url``, or a throwaway database on the admin URL's server."""
    if args.database_url:
        yield args.database_url
        return
    admin = create_engine(args.postgres_admin_url, isolation_level="AUTOCOMMIT")
    name = f"smartcustoms_bench_ingest_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # say why, and go on with the other engines
        print(f"\nPostgreSQL: skipped, {make_url(args.postgres_admin_url).host}: {exc!r:.200}")
        admin.dispose()
        yield None
        return
    try:
        yield make_url(args.postgres_admin_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def report(args: argparse.Namespace, engine: str, workers: list[int]) -> None:
    baseline_name = {
        "sqlite": "raw batched SQLite insert (executemany), rows/s",
        "postgresql": "raw COPY of the same rows, rows/s",
    }[engine]
    print(f"\n== {engine}: {args.records_per_frame} records per frame ==")
    for count in workers:
        runs = [repetition(args, engine, count) for _ in range(args.repeat)]
        figures = {key: Figures([r[key] for r in runs]) for key in runs[0]}
        ratio = Figures([r["positions_per_s"] / r["baseline_rows_per_s"] * 100 for r in runs])
        print(f"-- {count} listener process{'es' if count > 1 else ''}")
        print(f"  end to end, positions/s (acknowledged, durable): {figures['positions_per_s']}")
        print(f"  end to end, frames/s:                            {figures['frames_per_s']}")
        print(f"  baseline, {baseline_name}: {figures['baseline_rows_per_s']}")
        print(f"  end to end as % of the baseline:                 {ratio}")
        print(f"  listener CPU per position, µs:                   {_us(figures, 'listener')}")
        print(f"  load generator CPU per position, µs:             {_us(figures, 'generator')}")
        print(f"  machine busy during the window, cores:           {_cores(figures)}")
        print(f"  load average (1 min) around the run:             {_load(figures)}")
        rss = figures["listener_peak_rss_mb"]
        print(f"  listener peak RSS, MiB:                          {rss}")
        print(
            f"  positions stored per run: {figures['stored']}; alerts raised: {figures['alerts']}"
        )


def _load(figures: dict[str, Figures]) -> str:
    values = figures["load_average"].values
    return f"{statistics.median(values):.1f} (min {min(values):.1f}, max {max(values):.1f})"


def _us(figures: dict[str, Figures], who: str) -> str:
    values = figures[f"{who}_cpu_us_per_position"].values
    return f"{statistics.median(values):.1f} (min {min(values):.1f}, max {max(values):.1f})"


def _cores(figures: dict[str, Figures]) -> str:
    values = figures["machine_busy_cores"].values
    return f"{statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


if __name__ == "__main__":
    main()
