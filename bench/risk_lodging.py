"""What catching the risk history up costs, against rebuilding it, as the history grows.

Lodging scores each declaration against the history of everything stored before it; a
background thread adds what was stored since (``HistoryState.observe`` + ``record``) every
64 declarations. Here a history of N KCS items is built, then batches of 640 items (64
declarations of 10 items) are added one after another — the incremental catch-up — and the
same N + 640 items are counted from scratch (``HistoryState.from_history``: what a rebuild
costs, the baseline measured in the same run). A catch-up must cost what it adds, not what
the history holds; the check at the end says whether the incremental state equals the rebuilt
one on every group. The API's own latency under load is ``bench/risk_api.py``'s.

    .venv/bin/python bench/risk_lodging.py [--reps 5] [--batch 640]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_common import machine

from smartcustoms.risk.features.history import HistoryState
from smartcustoms.risk.offline.datasets import load_kcs
from smartcustoms.risk.schema import prepare_items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=640, help="items per catch-up")
    args = parser.parse_args()
    print(machine())
    items, y = load_kcs("train")
    room = args.batch * args.reps
    sizes = [s for s in (2_000, 10_000, 30_000) if s + room <= len(items)]
    print(f"catch-up of {args.batch} items (median of {args.reps}, min-max), KCS train.csv")
    print(f"{'history':>8}  {'incremental':>24}  {'rebuild (baseline)':>24}  ratio")
    for size in sizes:
        state = HistoryState.from_history(items.iloc[:size], y[:size])
        added, rebuilt = [], []
        for rep in range(args.reps):
            first = size + rep * args.batch
            end = first + args.batch
            batch = prepare_items(items.iloc[first:end].reset_index(drop=True))
            t0 = time.perf_counter()
            state.observe(batch)
            state.record(batch, y[first:end])
            added.append(time.perf_counter() - t0)
            everything = prepare_items(items.iloc[:end].reset_index(drop=True))
            t0 = time.perf_counter()
            whole = HistoryState.from_history(everything, y[:end])
            rebuilt.append(time.perf_counter() - t0)
        probe = prepare_items(items.iloc[: size + room : 7].reset_index(drop=True))
        mine, theirs = state.stats(probe), whole.stats(probe)
        same = all(
            np.array_equal(getattr(mine.groups[g], f), getattr(c, f), equal_nan=True)
            for g, c in theirs.groups.items()
            for f in ("seen", "inspected", "irregular", "last_day")
        )

        def cell(times: list[float]) -> str:
            ms = [t * 1000 for t in times]
            return f"{statistics.median(ms):7.1f} ms ({min(ms):.1f}-{max(ms):.1f})"

        ratio = statistics.median(rebuilt) / statistics.median(added)
        print(
            f"{size:8d}  {cell(added):>24}  {cell(rebuilt):>24}  x{ratio:4.1f}"
            f"{'' if same else '  MISMATCH with the rebuilt state'}"
        )


if __name__ == "__main__":
    main()
