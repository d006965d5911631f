"""Benchmark of the stored ledger's append path: durable appends/s, and append → signed checkpoint.

    .venv/bin/python bench/ledger_append.py                     # SQLite in a temporary folder
    .venv/bin/python bench/ledger_append.py --database-url postgresql+psycopg://postgres@127.0.0.1/db

Prints, each the median (min–max) of ``--reps`` repetitions measured in this same process:

1. baselines on the same entries: raw ``hashlib`` SHA-256 leaf hashing (SHA-256(0x00 || entry))
   and a raw ``sqlite3`` batched insert of one row per entry (WAL, synchronous=NORMAL);
2. durable appends/s through ``Ledger.append_entries`` — the whole path: the sequencer thread,
   leaf hashing, the Merkle frontier, entry bundles, every tree hash and the tree head written
   in one transaction, acknowledged only after the commit — in batches of ``--batch``; then with
   records encoded as canonical JSON first (``Ledger.append_many``); then one record per call
   from ``--threads`` threads (the sequencer batches them itself);
3. append → covered by a signed checkpoint, open loop: single appends scheduled at ``--rate``
   per second for ``--seconds``; each latency runs from the append's scheduled time to the
   signing of the first checkpoint covering it (checkpoints at most every ``--interval-ms``).

"Durable": committed before acknowledged; SQLite runs in WAL mode with synchronous=NORMAL,
which survives a crash of the process at any moment (a power cut may lose the last
transactions, never corrupt the file).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import platform
import queue
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from smartcustoms.core.context import AppContext
from smartcustoms.core.schema import target_metadata, upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.ledger.checkpoints import SignedCheckpoint
from smartcustoms.ledger.service import Ledger, attach_ledger
from smartcustoms.ledger.tlog.records import encode_record


def make_records(n: int, start: int = 0) -> list[dict[str, object]]:
    """Records shaped like a risk decision (about 200 bytes as canonical JSON)."""
    return [
        {
            "type": "risk.decision",
            "v": 1,
            "declaration": f"22KE{start + i:010d}",
            "lane": "red" if i % 7 == 0 else "green",
            "score": f"0.{(start + i) * 7919 % 10000:04d}",
            "reasons": ["unit value below reference", "importer history"],
            "model": "lgbm-2026-11-01",
            "at": "2026-11-26T12:00:00+00:00",
        }
        for i in range(n)
    ]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):>12,.0f}  ({min(values):,.0f}–{max(values):,.0f})"


def timed_rate(fn: Callable[[], object], items: int, reps: int) -> list[float]:
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        rates.append(items / (time.perf_counter() - t0))
    return rates


def raw_sqlite(entries: list[bytes], batch: int, folder: Path, rep: int) -> None:
    path = folder / f"raw-{rep}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE e (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    for start in range(0, len(entries), batch):
        rows = [(start + k, e) for k, e in enumerate(entries[start : start + batch])]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO e VALUES (?, ?)", rows)
        conn.execute("COMMIT")
    conn.close()


def fresh_ledger(a: argparse.Namespace, folder: Path, name: str) -> tuple[AppContext, Ledger]:
    url = a.database_url or f"sqlite:///{folder / (name + '.db')}"
    settings = load_settings(
        None,
        data_dir=folder / name,
        database_url=url,
        secret_key="b" * 48,
        ledger_checkpoint_interval_ms=a.interval_ms,
    )
    ctx = AppContext.from_settings(settings)
    upgrade(ctx.db)
    if a.database_url:  # each run starts from an empty ledger
        tables = ", ".join(
            t.name for t in target_metadata().sorted_tables if t.name.startswith("ledger_")
        )
        with ctx.db.writer.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables}")
    return ctx, attach_ledger(ctx)


def bench_throughput(a: argparse.Namespace, folder: Path) -> None:
    records = make_records(a.appends)
    entries = [encode_record(r) for r in records]
    size = sum(map(len, entries)) / len(entries)
    print(f"\nthroughput: {a.appends:,} appends of {size:.0f}-byte records, batches of {a.batch:,}")

    sha = hashlib.sha256
    raw_hash = timed_rate(
        lambda: [sha(b"\x00" + e).digest() for e in entries], len(entries), a.reps
    )
    raw_db = []
    for rep in range(a.reps):
        raw_db += timed_rate(
            lambda rep=rep: raw_sqlite(entries, a.batch, folder, rep), len(entries), 1
        )

    def ledger_run(name: str, call: Callable[[Ledger, int], None]) -> list[float]:
        rates = []
        for rep in range(a.reps):
            ctx, ledger = fresh_ledger(a, folder, f"{name}-{rep}")
            try:
                ledger.append_entries(entries[:1])  # start-up (keys, lease) outside the timing
                rates += timed_rate(partial(call, ledger, rep), len(entries), 1)
            finally:
                ctx.close()
        return rates

    def by_entries(ledger: Ledger, rep: int) -> None:
        for start in range(0, len(entries), a.batch):
            ledger.append_entries(entries[start : start + a.batch])

    def by_records(ledger: Ledger, rep: int) -> None:
        for start in range(0, len(records), a.batch):
            ledger.append_many(records[start : start + a.batch])

    def by_threads(ledger: Ledger, rep: int) -> None:
        per = len(records) // a.threads
        workers = [
            threading.Thread(
                target=lambda t=t: [ledger.append(r) for r in records[t * per : (t + 1) * per]]
            )
            for t in range(a.threads)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    ledger_entries = ledger_run("entries", by_entries)
    ledger_records = ledger_run("records", by_records)
    threaded = ledger_run("threads", by_threads) if a.threads else []
    base = statistics.median(raw_hash)
    print("  per second, median (min–max)")
    print(f"  raw hashlib SHA-256 leaf hashing      {spread(raw_hash)}   baseline")
    print(f"  raw sqlite3 batched insert, 1 row/entry {spread(raw_db)}   reference")
    for label, rates in (
        ("ledger: durable appends (entries)", ledger_entries),
        ("ledger: durable appends (records)", ledger_records),
        (f"ledger: single appends, {a.threads} threads", threaded),
    ):
        if rates:
            print(
                f"  {label:<37} {spread(rates)}   "
                f"{statistics.median(rates) / base:.2f} of hashing, "
                f"{statistics.median(rates) / statistics.median(raw_db):.2f} of raw insert"
            )


def bench_latency(a: argparse.Namespace, folder: Path) -> None:
    print(
        f"\nappend → covered by a signed checkpoint: open loop, {a.rate:,} appends/s for "
        f"{a.seconds} s, checkpoints at most every {a.interval_ms} ms"
    )
    ctx, ledger = fresh_ledger(a, folder, "latency")
    signed: list[tuple[int, float]] = []  # (size, perf_counter when signed)
    notify = ledger.witnesses.notify

    def seen(cp: SignedCheckpoint) -> None:
        signed.append((cp.size, time.perf_counter()))
        notify(cp)

    ledger.sequencer._on_checkpoint = seen
    ledger.append({"type": "bench.start", "v": 1})
    ledger.wait_covered(0, 10)
    jobs: queue.Queue[float | None] = queue.Queue()
    done: list[tuple[int, float]] = []  # (index, scheduled time)
    lock = threading.Lock()

    def worker() -> None:
        while (scheduled := jobs.get()) is not None:
            index = ledger.append({"type": "bench.tick", "v": 1, "at": f"{scheduled:.6f}"})
            with lock:
                done.append((index, scheduled))

    workers = [threading.Thread(target=worker) for _ in range(a.workers)]
    for w in workers:
        w.start()
    start = time.perf_counter() + 0.1
    total = int(a.rate * a.seconds)
    for k in range(total):
        due = start + k / a.rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        jobs.put(due)
    for _ in workers:
        jobs.put(None)
    for w in workers:
        w.join()
    last = max(i for i, _ in done)
    ledger.wait_covered(last, 30)
    ctx.close()
    sizes = [s for s, _ in signed]
    latencies = []
    for index, scheduled in done:
        # The first checkpoint whose tree holds the entry.
        at = next(t for s, t in signed if s > index)
        latencies.append(at - scheduled)
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    gaps = [b - a_ for (_, a_), (_, b) in itertools.pairwise(signed)]
    print(
        f"  appends {len(done):,}, checkpoints {len(sizes)}, least gap between checkpoints "
        f"{min(gaps) * 1000:.0f} ms"
    )
    print(f"  latency, s: p50 {p50:.3f}  p99 {p99:.3f}  max {latencies[-1]:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--appends", type=int, default=200_000, help="appends per throughput run")
    p.add_argument("--batch", type=int, default=10_000, help="entries per append call")
    p.add_argument("--threads", type=int, default=16, help="threads appending one at a time")
    p.add_argument("--reps", type=int, default=3, help="repetitions; medians are printed")
    p.add_argument("--rate", type=int, default=500, help="open-loop appends per second")
    p.add_argument("--seconds", type=float, default=20.0, help="open-loop duration")
    p.add_argument("--workers", type=int, default=32, help="threads the open loop appends from")
    p.add_argument("--interval-ms", type=int, default=1000, help="checkpoint interval")
    p.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    p.add_argument("--skip-latency", action="store_true")
    a = p.parse_args()

    print("settings")
    print(f"  date            {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  python          {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"  machine         {platform.machine()}, {os.cpu_count()} CPUs, {mem:.0f} GiB RAM")
    # The machine is shared: tail latencies move with what else runs (load average below).
    print("  load average    {:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg()))
    print(f"  database        {a.database_url or 'SQLite file (WAL, synchronous=NORMAL)'}")
    print(f"  command         {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}")
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        folder = Path(tmp)
        bench_throughput(a, folder)
        if not a.skip_latency:
            bench_latency(a, folder)


if __name__ == "__main__":
    main()
