"""What one lodging of 10 items costs at the use-case level, without HTTP: lodge, then store only.

Set-up as ``bench/risk_api.py``'s (a throwaway SQLite database with KCS history, a model trained
on it and active). Then declarations of 10 items are lodged one per unit of work, the way the
API lodges one request (:func:`smartcustoms.risk.lodging.lodge`: check, store, assess, commit),
and, interleaved with them in the same run, the same kind of declarations are only checked and
stored (:func:`~smartcustoms.declarations.intake.import_records`, no assessment): the baseline,
so the difference is what assessing costs on this machine at this moment. Each line gives the
wall time (p50/p95/p99) and the thread's CPU time (p50): on a shared machine the CPU time moves
far less than the wall time. The HTTP figures under load are ``bench/risk_api.py``'s.

Where the code has reading units (:func:`smartcustoms.core.unit.reading_unit`, what the API
lodges in), a third run lodges the same way in two steps, interleaved too, and each line also
gives how long the lodging held SQLite's write lock (BEGIN IMMEDIATE to COMMIT, wall p50/p99):
the time every other writer of the worker — other lodgings, the ledger — waits behind it.

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

try:
    from smartcustoms.core.unit import reading_unit
except ImportError:  # code from before the two-step lodging: measured in one transaction only
    reading_unit = None  # type: ignore[assignment]

from sqlalchemy import event

WARM_UP = 30


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(label: str, wall: list[float], cpu: list[float], held: list[float]) -> str:
    return (
        f"{label:<34} p50 {_p(wall, 0.5):6.2f} ms  p95 {_p(wall, 0.95):6.2f} ms  "
        f"p99 {_p(wall, 0.99):6.2f} ms  CPU p50 {statistics.median(cpu):6.2f} ms  "
        f"write lock held p50 {_p(held, 0.5):6.2f} ms  p99 {_p(held, 0.99):6.2f} ms"
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

    def lodged(body: dict[str, Any]) -> None:
        with ctx.unit() as unit:
            lodge(ctx, unit, [SourceRecord("", data=body)], source="api",
                  submitted_by="cms", actor="cms")  # fmt: skip

    def in_two_steps(body: dict[str, Any]) -> None:
        assert reading_unit is not None
        with reading_unit(ctx.db, ctx.bus) as unit:
            lodge(ctx, unit, [SourceRecord("", data=body)], source="api",
                  submitted_by="cms", actor="cms")  # fmt: skip

    # The write lock's hold: from the IMMEDIATE transaction's begin (the lock taken) to its end.
    held: list[float] = []
    began: dict[int, float] = {}

    def on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("sqlite_immediate"):
            began[id(conn)] = time.perf_counter()

    def on_end(conn: Any) -> None:
        start = began.pop(id(conn), None)
        if start is not None:
            held.append((time.perf_counter() - start) * 1000)

    event.listen(ctx.db.engine, "begin", on_begin)
    event.listen(ctx.db.engine, "commit", on_end)
    event.listen(ctx.db.engine, "rollback", on_end)

    def stored(body: dict[str, Any]) -> None:
        with ctx.unit() as unit:
            import_records(unit.session, [SourceRecord("", data=body)], source="api",
                           submitted_by="cms")  # fmt: skip

    times: dict[str, tuple[list[float], list[float], list[float]]] = {
        "lodge": ([], [], []), "two": ([], [], []), "store": ([], [], [])
    }  # fmt: skip
    runs: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("lodge", lodged), ("store", stored)
    ]  # fmt: skip
    if reading_unit is not None:
        runs.insert(1, ("two", in_two_steps))
    bodies = iter(declarations(len(runs) * (args.count + WARM_UP)))
    try:
        for i in range(args.count + WARM_UP):
            for name, run in runs:  # interleaved: both see the same machine
                held.clear()
                wall, cpu = time.perf_counter(), time.thread_time()
                run(next(bodies))
                if i >= WARM_UP:
                    times[name][0].append((time.perf_counter() - wall) * 1000)
                    times[name][1].append((time.thread_time() - cpu) * 1000)
                    times[name][2].append(sum(held))
    finally:
        ctx.close()
    print(line("lodge (check, store, assess)", *times["lodge"]))
    if times["two"][0]:
        print(line("lodge in two steps (the API's)", *times["two"]))
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
