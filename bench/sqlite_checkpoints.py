"""Commit latency with SQLite's WAL checkpoints in the commits (its default) or on a thread.

Two SQLite databases side by side, each written through the product's ``Database`` (WAL,
synchronous=NORMAL, write turns): *on commit*, as SQLite checkpoints by default (the commit
that takes the log past 1,000 pages copies it back into the database file and syncs it), and
*background*, after ``Database.checkpoint_in_background()`` (what a web worker does; see
``smartcustoms.core.checkpoints``). A write is a lodging's shape: one transaction inserting a
declaration row, 10 item rows and a decision row into indexed tables, about 25 pages. The two
databases are written alternately, one transaction each, so both see the same machine; each
line gives the whole transaction's wall time (begin to commit) p50/p99/max and how large the
log grew.

    .venv/bin/python bench/sqlite_checkpoints.py [--writes 3000] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_common import machine

from smartcustoms.core.db import Database

SCHEMA = (
    "CREATE TABLE declarations (id INTEGER PRIMARY KEY, lrn TEXT UNIQUE, document TEXT)",
    "CREATE TABLE items (id INTEGER PRIMARY KEY, declaration_id INTEGER, hs TEXT, origin TEXT,"
    " value REAL, document TEXT)",
    "CREATE INDEX ix_items_declaration ON items (declaration_id)",
    "CREATE INDEX ix_items_hs ON items (hs, origin)",
    "CREATE TABLE decisions (id INTEGER PRIMARY KEY, declaration_id INTEGER UNIQUE, lane TEXT,"
    " reasons TEXT)",
)


ITEMS = text(
    "INSERT INTO items (declaration_id, hs, origin, value, document) "
    "VALUES (:d, :hs, 'CN', :v, :doc)"
)


def write(db: Database, n: int, rng: random.Random) -> float:
    document = json.dumps({"items": [{"hs": f"{rng.randrange(10**8):08d}"} for _ in range(10)]})
    started = time.perf_counter()
    with db.session() as session:
        session.execute(
            text("INSERT INTO declarations VALUES (:i, :lrn, :doc)"),
            {"i": n, "lrn": f"LRN{rng.randrange(10**12)}", "doc": document * 3},
        )
        items = [
            {"d": n, "hs": f"{rng.randrange(10**8):08d}", "v": rng.random(), "doc": document}
            for _ in range(10)
        ]
        session.execute(ITEMS, items)
        session.execute(
            text("INSERT INTO decisions (declaration_id, lane, reasons) VALUES (:d, 'green', :r)"),
            {"d": n, "r": document},
        )
    return (time.perf_counter() - started) * 1000


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writes", type=int, default=3000, help="transactions per database")
    parser.add_argument("--interval", type=float, default=1.0, help="background interval, s")
    parser.add_argument("--rate", type=float, default=100.0, help="transactions/s per database")
    args = parser.parse_args()
    print(machine())
    folder = Path(tempfile.mkdtemp(prefix="bench-sqlite-checkpoints-"))
    dbs = {
        "on commit": Database(f"sqlite:///{folder / 'commit.db'}"),
        "background": Database(f"sqlite:///{folder / 'background.db'}"),
    }
    dbs["background"].checkpoint_in_background(interval_s=args.interval)
    for db in dbs.values():
        with db.session() as session:
            for statement in SCHEMA:
                session.execute(text(statement))
    times: dict[str, list[float]] = {name: [] for name in dbs}
    largest: dict[str, int] = dict.fromkeys(dbs, 0)
    rng = random.Random(7)
    gap = 1.0 / args.rate
    print(f"{args.writes} transactions per database, alternating, {args.rate:g}/s each; "
          f"background interval {args.interval:g} s")  # fmt: skip
    try:
        for n in range(args.writes):
            started = time.perf_counter()
            for name, db in dbs.items():
                times[name].append(write(db, n, rng))
                wal = folder / f"{'commit' if name == 'on commit' else 'background'}.db-wal"
                largest[name] = max(largest[name], wal.stat().st_size if wal.exists() else 0)
            time.sleep(max(0.0, gap - (time.perf_counter() - started)))
    finally:
        for db in dbs.values():
            db.dispose()
    for name, values in times.items():
        print(
            f"{name:<11} p50 {statistics.median(values):6.2f} ms  p99 {_p(values, 0.99):6.2f} ms"
            f"  max {max(values):7.2f} ms  largest log {largest[name] / 2**20:5.1f} MiB"
        )
    on, bg = times["on commit"], times["background"]
    print(f"p99 on commit / background x{_p(on, 0.99) / _p(bg, 0.99):.1f}; "
          f"max x{max(on) / max(bg):.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
