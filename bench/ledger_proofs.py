"""Benchmark of proofs from the real store: inclusion-proof generation at 10 million entries.

    .venv/bin/python bench/ledger_proofs.py                  # builds 10 M entries (~2 min, ~2 GB)
    .venv/bin/python bench/ledger_proofs.py --keep /var/tmp/ledger-10m.db   # build once, reuse

Builds a SQLite ledger of ``--size`` entries through the storage layer the sequencer uses
(``TreeWriter``: entry bundles, every tree hash, the tree head), signs a checkpoint with the
ledger service, then prints, median of ``--reps`` runs of ``--samples`` random entries each,
p50 / p99 / max in µs:

1. baseline, same run: a raw ``sqlite3`` point read of one ``ledger_hashes`` row by its key, and
   the same inclusion proof from an in-memory hash store (no database at all);
2. ``inclusion_proof`` over ``StoreHashReader`` — the proof's hashes read from the database in
   one query (what ``GET /ledger/proof`` computes);
3. ``Ledger.proof_bundle`` — the whole bundle: newest checkpoint covering the entry, proof,
   the entry itself, the text format;
4. consistency proofs from a random older size, and reading one full tile.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from smartcustoms.core.db import Database
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.ledger.service import Ledger
from smartcustoms.ledger.store import StoreHashReader, TreeWriter, read_tile, read_tree_head
from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.proof import consistency_proof, inclusion_proof
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves
from smartcustoms.ledger.tlog.tiles import TileID

CHUNK = 100_000


def entries(start: int, stop: int, pad: bytes) -> list[bytes]:
    return [i.to_bytes(8, "big") + pad for i in range(start, stop)]


def build(db: Database, size: int, entry_bytes: int, memory: MemoryHashStore) -> float:
    pad = random.Random(1).randbytes(entry_bytes - 8)
    with db.engine.connect() as conn:
        writer = TreeWriter.load(conn)
    reference = CompactRange()
    t0 = time.perf_counter()
    for start in range(0, size, CHUNK):
        batch = entries(start, min(size, start + CHUNK), pad)
        leaves = hash_leaves(batch)
        with db.writer.begin() as conn:
            writer.write(conn, batch, leaves)
        memory.add(reference.append(leaves))
        if start and start % 1_000_000 == 0:
            print(f"  {start:,} entries, {start / (time.perf_counter() - t0):,.0f}/s", flush=True)
    return time.perf_counter() - t0


def memory_only(size: int, entry_bytes: int, memory: MemoryHashStore) -> None:
    """Rebuild the in-memory baseline for a database built by an earlier run."""
    pad = random.Random(1).randbytes(entry_bytes - 8)
    reference = CompactRange()
    for start in range(0, size, CHUNK):
        memory.add(reference.append(hash_leaves(entries(start, min(size, start + CHUNK), pad))))


Runs = list[tuple[float, ...]]


def latency(call: Callable[[int], object], args: list[int], reps: int) -> tuple[Runs, Runs]:
    """(p50, p99, max) in µs per run, by the wall clock and by this thread's CPU time.

    On a shared machine the wall clock's tail is mostly time spent waiting for a core (a
    preempted call waits a whole scheduler slice); the CPU time is the work the call did.
    """
    wall, cpu = [], []
    for _ in range(reps):
        gc.collect()
        walls, cpus = [], []
        for a in args:
            t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
            call(a)
            cpus.append(time.thread_time_ns() - c0)
            walls.append(time.perf_counter_ns() - t0)
        wall.append(_percentiles(walls))
        cpu.append(_percentiles(cpus))
    return wall, cpu


def _percentiles(samples: list[int]) -> tuple[float, ...]:
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return samples[len(samples) // 2] / 1e3, p99 / 1e3, samples[-1] / 1e3


def show(label: str, measured: tuple[Runs, Runs]) -> None:
    for clock, runs in zip(("wall", "cpu"), measured, strict=True):
        p50 = statistics.median(r[0] for r in runs)
        p99 = [r[1] for r in runs]
        top = statistics.median(r[2] for r in runs)
        print(
            f"  {label if clock == 'wall' else '':<44} {clock:>4} {p50:8.1f} / "
            f"{statistics.median(p99):8.1f} / {top:9.1f}   "
            f"(p99 {min(p99):.1f}–{max(p99):.1f} over {len(runs)} runs)"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=10_000_000, help="entries in the ledger")
    p.add_argument("--entry-bytes", type=int, default=100, help="bytes per entry")
    p.add_argument("--samples", type=int, default=5_000, help="proofs per run")
    p.add_argument("--reps", type=int, default=5, help="runs; medians are printed")
    p.add_argument("--keep", type=Path, default=None, help="build here once and reuse")
    a = p.parse_args()

    print("settings")
    print(f"  date            {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  python          {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"  machine         {platform.machine()}, {os.cpu_count()} CPUs, {mem:.0f} GiB RAM")
    # The machine is shared: tail latencies move with what else runs (load average below).
    print("  load average    {:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg()))
    print(f"  ledger          {a.size:,} entries of {a.entry_bytes} bytes, SQLite (WAL)")
    print(f"  samples         {a.samples:,} random entries per run, {a.reps} runs")
    print(f"  command         {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}")

    with tempfile.TemporaryDirectory(prefix="ledger-proofs-") as tmp:
        path = a.keep or Path(tmp) / "ledger.db"
        data_dir = path.parent / (path.stem + "-data")
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        memory = MemoryHashStore()
        with db.engine.connect() as conn:
            have = read_tree_head(conn).size
        if have == 0:
            print(f"\nbuilding {a.size:,} entries through the storage layer")
            took = build(db, a.size, a.entry_bytes, memory)
            print(f"  built in {took:.0f} s ({a.size / took:,.0f} entries/s)")
        elif have == a.size:
            print(f"\nreusing {path} ({have:,} entries); rebuilding the in-memory baseline")
            memory_only(a.size, a.entry_bytes, memory)
        else:
            sys.exit(f"{path} holds {have:,} entries, not {a.size:,}: remove it or change --size")
        print(f"  database file {path.stat().st_size / 2**30:.2f} GiB")
        settings = load_settings(None, data_dir=data_dir, database_url=db.url, secret_key="p" * 48)
        ledger = Ledger(settings, db)
        ledger.start()
        assert ledger.wait_covered(a.size - 1, 60), "no checkpoint was signed"
        ledger.stop()

        rng = random.Random(2)
        size = a.size
        picks = [rng.randrange(size) for _ in range(a.samples)]
        olds = [rng.randrange(1, size) for _ in range(a.samples)]
        raw = sqlite3.connect(path)
        raw.execute("PRAGMA cache_size=-32000")
        print("\nlatency, µs: p50 / p99 / max, median of runs; wall clock, then thread CPU time")
        show(
            "raw sqlite3 read of one hash row (baseline)",
            latency(
                lambda i: raw.execute(
                    "SELECT data FROM ledger_hashes WHERE level = ? AND block = ?", (0, i // 256)
                ).fetchone(),
                picks,
                a.reps,
            ),
        )
        show(
            "inclusion proof, in-memory hashes (baseline)",
            latency(lambda i: inclusion_proof(i, size, memory), picks, a.reps),
        )
        full = size // 256  # full level-0 tiles
        with db.engine.connect() as conn:
            reader = StoreHashReader(conn)
            show(
                "inclusion proof from the store",
                latency(lambda i: inclusion_proof(i, size, reader), picks, a.reps),
            )
            show(
                "consistency proof from the store",
                latency(lambda m: consistency_proof(m, size, reader), olds, a.reps),
            )
            show(
                "one full level-0 tile from the store",
                latency(lambda i: read_tile(conn, TileID(0, i // 256 % full), size), picks, a.reps),
            )
        show(
            "proof bundle (Ledger.proof_bundle)",
            latency(ledger.proof_bundle, picks[: a.samples // 2], a.reps),
        )
        raw.close()
        db.dispose()


if __name__ == "__main__":
    main()
