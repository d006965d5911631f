"""The selectivity report on many decisions: its time and the Python memory it takes, at two
sizes, beside a baseline measured on the same database in the same run (``SELECT count(*)``
over the decisions joined to their declarations — the least any report must read).

    .venv/bin/python bench/reports.py [--small 20000] [--large 200000]

Rows are inserted directly (a bench, not a test: the report reads the tables, whoever wrote
them); decisions are spread over 24 months, 5 offices, the five lanes, one in ten examined.
The claim checked: the report is summed in SQL, so the memory Python peaks at depends on the
number of groups (office × month × lane), not on the number of decisions — the large figure
stays near the small one while the time grows with the rows, as the baseline's does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from smartcustoms.core.db import Database  # noqa: E402
from smartcustoms.core.schema import upgrade  # noqa: E402
from smartcustoms.declarations.tables import DeclarationRow  # noqa: E402
from smartcustoms.reports import compute, parse_filters  # noqa: E402
from smartcustoms.risk.tables import InspectionRow, LaneDecisionRow  # noqa: E402

LANES = ["red", "scan", "yellow", "blue", "green"]
START = datetime(2024, 1, 1, tzinfo=UTC)


def fill(db: Database, count: int) -> None:
    with db.engine.begin() as conn:
        for first in range(0, count, 5000):
            ids = range(first + 1, min(count, first + 5000) + 1)
            at = [START + timedelta(hours=(i * 7) % (24 * 730)) for i in ids]
            conn.execute(
                insert(DeclarationRow),
                [
                    dict(
                        id=i, declarant_id="B", lrn=f"L{i}", function_code="9", type_code="IM",
                        office=f"OFF{i % 5}", importer_id="I", received_at=t, hs_edition="2022",
                        source="bench", submitted_by="bench", document={},
                    )
                    for i, t in zip(ids, at, strict=True)
                ],
            )  # fmt: skip
            conn.execute(
                insert(LaneDecisionRow),
                [
                    dict(
                        id=i, declaration_id=i, lane=LANES[i % 5], rules_fired=[f"r{i % 3}@1"],
                        reasons=[], random_control=False, exploration=False, decided_at=t,
                        overridden_lane="red" if i % 97 == 0 else None,
                    )
                    for i, t in zip(ids, at, strict=True)
                ],
            )  # fmt: skip
            conn.execute(
                insert(InspectionRow),
                [
                    dict(
                        declaration_id=i, decision_id=i, irregular=i % 3 == 0, codes=[],
                        revenue_raised=10, seizure=False, source="bench", recorded_by="b",
                        recorded_at=t,
                    )
                    for i, t in zip(ids, at, strict=True)
                    if i % 10 == 0
                ],
            )  # fmt: skip


def measure(db: Database) -> tuple[float, float, int, float]:
    filters = parse_filters({"from": "2024-01-01", "to": "2025-12-31"})
    with db.session() as session:
        started = time.perf_counter()
        n = session.scalar(select(func.count()).select_from(LaneDecisionRow).join(DeclarationRow))
        baseline = time.perf_counter() - started
        tracemalloc.start()
        started = time.perf_counter()
        report = compute(session, "selectivity", filters)
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert sum(int(r[3]) for r in report.tables[0].rows) == n  # type: ignore[call-overload]
    return baseline, took, len(report.tables[0].rows), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=200_000)
    args = parser.parse_args()
    print("decisions  baseline count(*) s  report s  ratio  groups  report peak MiB (Python)")
    for count in (args.small, args.large):
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
            upgrade(db)
            fill(db, count)
            baseline, took, groups, peak = measure(db)
            db.dispose()
        print(
            f"{count:>9}  {baseline:>19.3f}  {took:>8.3f}  {took / baseline:>5.1f}  "
            f"{groups:>6}  {peak:>8.2f}"
        )


if __name__ == "__main__":
    main()
