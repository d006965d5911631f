"""Benchmark of the ledger's pure core: leaf hashing, batched appends, proofs at 10 M entries.

    .venv/bin/python bench/ledger_core.py            # full run (about a minute, ~1.5 GB RAM)
    .venv/bin/python bench/ledger_core.py --size 1000000 --reps 3   # quicker

Prints, each the median of ``--reps`` repetitions measured in this same process:

1. raw ``hashlib`` SHA-256 leaf hashing rate (SHA-256(0x00 || entry)), the baseline;
2. ``CompactRange.append`` rate in leaves/s over pre-hashed leaves, and end to end (leaf hashing
   plus append), each with its ratio to the baseline;
3. the time to build a ``--size``-leaf tree (all perfect-subtree hashes, in memory);
4. inclusion- and consistency-proof generation latency (p50 / p99 / max) in that tree, from an
   in-memory hash reader (one ``bytearray`` per level) and from tiles (hashes rebuilt from
   8 KiB tiles, as a tile store would serve them).

No storage and no durability are involved: these are the CPU costs the sequencer and the proof
endpoint pay on top of their database.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.proof import HashReader, consistency_proof, inclusion_proof
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves
from smartcustoms.ledger.tlog.tiles import TILE_HEIGHT, TILE_WIDTH, TileHashReader, TileID


def make_entries(n: int, size: int, seed: int) -> list[bytes]:
    """n distinct entries of ``size`` bytes (a counter in front of fixed random padding)."""
    pad = random.Random(seed).randbytes(max(0, size - 8))
    return [i.to_bytes(8, "big") + pad for i in range(n)]


def rate(fn: Callable[[], object], items: int, reps: int) -> float:
    """Median items per second of ``fn`` over ``reps`` runs."""
    rates = []
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        rates.append(items / (time.perf_counter() - t0))
    return statistics.median(rates)


def raw_leaf_hashing(entries: Sequence[bytes]) -> list[bytes]:
    # The baseline: the same work as rfc6962.hash_leaves written inline with hashlib.
    sha256 = hashlib.sha256
    return [sha256(b"\x00" + e).digest() for e in entries]


def append_all(leaves: Sequence[bytes], batch: int) -> CompactRange:
    cr = CompactRange()
    for i in range(0, len(leaves), batch):
        cr.append(leaves[i : i + batch])
    return cr


def hash_and_append_all(entries: Sequence[bytes], batch: int) -> CompactRange:
    cr = CompactRange()
    for i in range(0, len(entries), batch):
        cr.append(hash_leaves(entries[i : i + batch]))
    return cr


def percentiles(samples_ns: list[int]) -> tuple[float, float, float]:
    s = sorted(samples_ns)
    p50 = s[len(s) // 2]
    p99 = s[min(len(s) - 1, int(len(s) * 0.99))]
    return p50 / 1e3, p99 / 1e3, s[-1] / 1e3


def latency(
    call: Callable[[int], object], args: list[int], reps: int
) -> tuple[float, float, float]:
    """Median over reps of (p50, p99, max) latency in µs of ``call(arg)`` for each arg."""
    runs = []
    for _ in range(reps):
        gc.collect()
        samples = []
        for a in args:
            t0 = time.perf_counter_ns()
            call(a)
            samples.append(time.perf_counter_ns() - t0)
        runs.append(percentiles(samples))
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        statistics.median(r[2] for r in runs),
    )


def bench_append(a: argparse.Namespace) -> None:
    entries = make_entries(a.rate_leaves, a.entry_bytes, a.seed)
    leaves = raw_leaf_hashing(entries)
    raw = rate(lambda: raw_leaf_hashing(entries), a.rate_leaves, a.reps)
    app = rate(lambda: append_all(leaves, a.batch), a.rate_leaves, a.reps)
    e2e = rate(lambda: hash_and_append_all(entries, a.batch), a.rate_leaves, a.reps)
    print("\nappend path (same process, same entries)")
    print(f"  raw hashlib SHA-256 leaf hashing   {raw:>12,.0f} leaves/s   (baseline)")
    print(
        f"  CompactRange.append (pre-hashed)   {app:>12,.0f} leaves/s   "
        f"ratio {app / raw:.2f} of baseline"
    )
    print(
        f"  hash_leaves + append (end to end)  {e2e:>12,.0f} leaves/s   "
        f"ratio {e2e / raw:.2f} of baseline"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=10_000_000, help="leaves in the proof tree")
    p.add_argument("--rate-leaves", type=int, default=1_000_000, help="leaves per rate run")
    p.add_argument("--entry-bytes", type=int, default=256, help="bytes per synthetic entry")
    p.add_argument("--batch", type=int, default=10_000, help="leaves per append call")
    p.add_argument("--reps", type=int, default=5, help="repetitions; medians are printed")
    p.add_argument("--samples", type=int, default=10_000, help="proofs per latency run")
    p.add_argument("--tile-samples", type=int, default=2_000, help="tile-backed proofs per run")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()

    print("settings")
    print(f"  python          {platform.python_version()} ({sys.implementation.name})")
    print(f"  openssl         {__import__('ssl').OPENSSL_VERSION}")
    print(f"  machine         {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}")
    print(f"  entry size      {a.entry_bytes} bytes")
    print(f"  append batch    {a.batch:,} leaves")
    print(f"  rate run        {a.rate_leaves:,} leaves, median of {a.reps}")
    print(f"  proof tree      {a.size:,} leaves")
    print(
        f"  proof samples   {a.samples:,} in-memory, {a.tile_samples:,} tile-backed, "
        f"median of {a.reps} runs, seed {a.seed}"
    )

    bench_append(a)

    print(
        f"\nbuilding a {a.size:,}-leaf tree (leaf hashing + append + storing every perfect subtree)"
    )
    gc.collect()
    t0 = time.perf_counter()
    store = MemoryHashStore()
    cr = CompactRange()
    chunk = 100_000
    pad = random.Random(a.seed).randbytes(max(0, a.entry_bytes - 8))
    for start in range(0, a.size, chunk):
        stop = min(a.size, start + chunk)
        store.add(cr.append(hash_leaves([i.to_bytes(8, "big") + pad for i in range(start, stop)])))
    build_s = time.perf_counter() - t0
    print(
        f"  built in {build_s:.1f} s ({a.size / build_s:,.0f} leaves/s), "
        f"root {cr.root().hex()[:16]}…"
    )

    rng = random.Random(a.seed)
    size = a.size
    indexes = [rng.randrange(size) for _ in range(a.samples)]
    olds = [rng.randrange(1, size + 1) for _ in range(a.samples)]
    reader: HashReader = store

    def read_tiles(tiles: Sequence[TileID]) -> list[bytes]:
        # A tile store returns each tile as one blob (8 KiB when full): one slice stands in.
        return [
            store.read_range(TILE_HEIGHT * t.level, TILE_WIDTH * t.index, t.width) for t in tiles
        ]

    tiles = TileHashReader(size, read_tiles)
    print("\nproof generation latency, µs (p50 / p99 / max)")
    incl = latency(lambda i: inclusion_proof(i, size, reader), indexes, a.reps)
    cons = latency(lambda m: consistency_proof(m, size, reader), olds, a.reps)
    tincl = latency(lambda i: inclusion_proof(i, size, tiles), indexes[: a.tile_samples], a.reps)
    print(f"  inclusion, in-memory hash reader   {incl[0]:8.1f} / {incl[1]:8.1f} / {incl[2]:8.1f}")
    print(f"  consistency, in-memory hash reader {cons[0]:8.1f} / {cons[1]:8.1f} / {cons[2]:8.1f}")
    print(
        f"  inclusion, tile-backed reader      {tincl[0]:8.1f} / {tincl[1]:8.1f} / {tincl[2]:8.1f}"
    )


if __name__ == "__main__":
    main()
