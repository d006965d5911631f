"""SQLite writers of one process taking turns (``WriteTurns``) against SQLite's busy handler.

One web worker has several writers: lodgings on the request threads, and the ledger sequencer,
the webhook, partner and notification deliverers in the background. On SQLite only one writes at
a time. Left to SQLite, a writer that finds the database locked sleeps in its busy handler —
1, 2, 5, 10 … then 100 ms between tries — however soon the lock is free; taking turns on a lock
in the process, it begins the moment the last writer ends.

The run, in one process on a throwaway SQLite database (WAL, synchronous=NORMAL): a background
writer like the ledger sequencer (a transaction of ``--background-rows`` rows, hashing them
first inside it, then a pause of ``--background-pause-ms``), and requests scheduled open loop at
``--rate`` per second on ``--threads`` threads, each a write transaction of 10 rows (a
lodging's declarations and decisions). A request's latency runs from its scheduled time to its
commit. Both modes are run in the same process, alternating, ``--reps`` times each; the lines
give p50/p99/max, and the ratio of the busy handler's p99 to the turns' p99 at the end.

    .venv/bin/python bench/sqlite_write_turns.py [--rate 100] [--seconds 5] [--reps 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import text

from smartcustoms.core.db import Database


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(folder: Path, *, turns: bool, args: argparse.Namespace, tag: str) -> list[float]:
    db = Database(f"sqlite:///{folder / f'{tag}.db'}", write_turns=turns)
    with db.session() as session:
        session.execute(text("CREATE TABLE t (x INTEGER, payload BLOB)"))
    stop = threading.Event()
    payload = os.urandom(200)

    def background() -> None:
        while not stop.is_set():
            with db.writer.begin() as conn:
                rows = [
                    {"x": i, "payload": hashlib.sha256(payload + bytes([i % 256])).digest()}
                    for i in range(args.background_rows)
                ]
                conn.execute(text("INSERT INTO t VALUES (:x, :payload)"), rows)
            time.sleep(args.background_pause_ms / 1000)

    def request(scheduled: float) -> float:
        with db.writer.begin() as conn:
            conn.execute(
                text("INSERT INTO t VALUES (:x, :payload)"),
                [{"x": i, "payload": payload} for i in range(10)],
            )
        return time.perf_counter() - scheduled

    writer = threading.Thread(target=background, daemon=True)
    writer.start()
    count = int(args.rate * args.seconds)
    start = time.perf_counter() + 0.2
    futures = []
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        for k in range(count):
            due = start + k / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(request, due))
        latencies = [f.result() * 1000 for f in futures]
    stop.set()
    writer.join()
    db.dispose()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--background-rows", type=int, default=200)
    parser.add_argument("--background-pause-ms", type=float, default=5.0)
    args = parser.parse_args()
    print(
        f"# {sys.argv[0]}: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"{args.rate:g} write requests/s of 10 rows for {args.seconds:g} s on {args.threads} "
        f"threads, beside a writer of {args.background_rows} rows every "
        f"{args.background_pause_ms:g} ms; {args.reps} runs per mode, alternating"
    )
    results: dict[str, list[list[float]]] = {"busy handler": [], "turns": []}
    with tempfile.TemporaryDirectory(prefix="bench-write-turns-") as tmp:
        for rep in range(args.reps):
            for mode, turns in (("busy handler", False), ("turns", True)):
                latencies = one_run(Path(tmp), turns=turns, args=args, tag=f"{mode[0]}{rep}")
                results[mode].append(latencies)
                print(
                    f"run {rep + 1}  {mode:12s}  p50 {statistics.median(latencies):7.2f} ms  "
                    f"p99 {percentile(latencies, 0.99):7.2f} ms  max {max(latencies):7.2f} ms",
                    flush=True,
                )
    p99 = {m: statistics.median(percentile(r, 0.99) for r in runs) for m, runs in results.items()}
    p50 = {m: statistics.median(statistics.median(r) for r in runs) for m, runs in results.items()}
    print(
        f"median over runs: busy handler p50 {p50['busy handler']:.2f} / p99 "
        f"{p99['busy handler']:.2f} ms; turns p50 {p50['turns']:.2f} / p99 {p99['turns']:.2f} ms; "
        f"p99 busy handler / turns x{p99['busy handler'] / p99['turns']:.1f}"
    )


if __name__ == "__main__":
    main()
