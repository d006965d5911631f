"""What one lodging of 10 items costs at the use-case level, without HTTP: lodge, then store only.

Set-up as ``bench/risk_api.py``'s (a throwaway SQLite database with KCS history, a model trained
on it and active). Then declarations of 10 items are lodged one per unit of work, the way the
API lodges one request (:func:`smartcustoms.risk.lodging.lodge`: check, store, assess, commit),
and, interleaved with them in the same run, the same kind of declarations are only checked and
stored (:func:`~smartcustoms.declarations.intake.import_records`, no assessment): the baseline,
so the difference is what assessing costs on this machine at this moment. Each line gives the
wall time (p50/p95/p99) and the thread's CPU time (p50): on a shared machine the CPU time moves
far less than the wall time. The HTTP figures under load are ``bench/risk_api.py``'s.

    .venv/bin/python bench/risk_lodging_latency.py [--history 2000] [--count 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_api import declarations, prepare
from risk_common import machine

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import load_settings
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.risk.lodging import lodge

WARM_UP = 30


def line(label: str, wall: list[float], cpu: list[float]) -> str:
    ordered = sorted(wall)

    def p(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return (
        f"{label:<34} p50 {p(0.5):6.2f} ms  p95 {p(0.95):6.2f} ms  p99 {p(0.99):6.2f} ms  "
        f"CPU p50 {statistics.median(cpu):6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--history", type=int, default=2000)
    parser.add_argument("--count", type=int, default=300, help="lodgings measured (and stores)")
    args = parser.parse_args()
    print(machine())
    folder = Path(tempfile.mkdtemp(prefix="bench-risk-lodging-latency-"))
    t0 = time.perf_counter()
    prepare(folder, args.history)
    print(f"set-up: {args.history} KCS history rows, model trained, in "
          f"{time.perf_counter() - t0:.0f} s; 10 items per declaration")  # fmt: skip
    ctx = AppContext.from_settings(load_settings(None, data_dir=folder))
    bodies = iter(declarations(2 * (args.count + WARM_UP)))

    def lodged(body: dict[str, Any]) -> None:
        with ctx.unit() as unit:
            lodge(ctx, unit, [SourceRecord("", data=body)], source="api",
                  submitted_by="cms", actor="cms")  # fmt: skip

    def stored(body: dict[str, Any]) -> None:
        with ctx.unit() as unit:
            import_records(unit.session, [SourceRecord("", data=body)], source="api",
                           submitted_by="cms")  # fmt: skip

    times: dict[str, tuple[list[float], list[float]]] = {"lodge": ([], []), "store": ([], [])}
    runs: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("lodge", lodged), ("store", stored)
    ]  # fmt: skip
    try:
        for i in range(args.count + WARM_UP):
            for name, run in runs:  # interleaved: both see the same machine
                wall, cpu = time.perf_counter(), time.thread_time()
                run(next(bodies))
                if i >= WARM_UP:
                    times[name][0].append((time.perf_counter() - wall) * 1000)
                    times[name][1].append((time.thread_time() - cpu) * 1000)
    finally:
        ctx.close()
    print(line("lodge (check, store, assess)", *times["lodge"]))
    print(line("store only (baseline)", *times["store"]))
    lodge_cpu, store_cpu = (statistics.median(times[k][1]) for k in ("lodge", "store"))
    print(
        f"assessing: {lodge_cpu - store_cpu:.2f} ms CPU a lodging (p50 difference); "
        f"lodge / store x{lodge_cpu / store_cpu:.1f}; budget at 100 lodgings/s on one "
        "worker: 10 ms of everything (HTTP, auth, ledger, background threads included)"
    )
    print(f"data: {folder}")


if __name__ == "__main__":
    main()
