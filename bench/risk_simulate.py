"""The real loop, simulated on KCS: what exploration buys against no exploration and an oracle.

    .venv/bin/python bench/risk_simulate.py        # the CLI's defaults, 3 seeds: ~10-17 min
    .venv/bin/python bench/risk_simulate.py --strategy random --full-feedback   # ~17-25 min
    .venv/bin/python bench/risk_simulate.py --weeks 8 --seeds 2 --json out.json

Runs :func:`smartcustoms.risk.offline.replay.simulate` (the code behind ``smartcustoms risk
simulate``) on the packaged KCS data: the history is train.csv before ``--history-until``
(default 2020-02-03, every row labelled: a month in which everything was inspected), the
stream is the rest of train.csv then valid.csv, replayed week by week. Each week the model
scores the week's declarations, ``--inspect-rate`` of them are inspected (``--explore`` of the
inspections chosen by ``--strategy`` instead of by score), only their outcomes are revealed,
and the model is retrained on everything labelled so far.

Prints, as mean ± sample standard deviation over seeds (never best-of-n), the cumulative
precision (hit rate) and recall of the inspections, irregular items found, the hit rate of the
exploration inspections and the mean weekly AUC of the model's scores over all the week's
declarations, for the run with exploration and, measured in the same run, the same loop without
exploration and an oracle that inspects the irregular items first (and, with
``--full-feedback``, the loop that learns every outcome); then the paired difference
(exploration minus none, seed by seed), precision by quarter of the stream, and the wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_common import machine

from smartcustoms.risk.exploration import STRATEGIES
from smartcustoms.risk.offline.kcs_files import join_tables, packaged_kcs, split_by_date
from smartcustoms.risk.offline.replay import SimulationReport, SimulationSettings, simulate

SHOWN = ("precision", "recall", "irregular_found", "exploration_hit_rate", "weekly_auc")


def figure(stats: dict[str, Any], digits: int = 4) -> str:
    if stats["mean"] is None:
        return "-"
    return f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}"


def by_quarter(report: SimulationReport) -> list[dict[str, Any]]:
    """Precision of each run in each quarter of the stream (mean ± std over seeds): does the
    gap between the runs open or close as the loop goes on?"""
    quarters = np.array_split(np.arange(len(report.week_starts)), 4)
    out = []
    for weeks in quarters:
        if not len(weeks):
            continue
        row: dict[str, Any] = {"from": report.week_starts[weeks[0]], "weeks": len(weeks)}
        for name in report.runs:
            values = [
                sum(t.hits[w] for w in weeks) / max(1, sum(t.inspected[w] for w in weeks))
                for t in report.traces[name]
            ]
            std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            row[name] = {"mean": float(np.mean(values)), "std": std}
        out.append(row)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--inspect-rate", type=float, default=0.1)
    parser.add_argument("--explore", type=float, default=0.1)
    parser.add_argument("--strategy", choices=STRATEGIES, default="band")
    parser.add_argument("--history-until", type=dt.date.fromisoformat, default=dt.date(2020, 2, 3))
    parser.add_argument("--weeks", type=int, default=None, help="only the first WEEKS weeks")
    parser.add_argument("--retrain-every", type=int, default=1)
    parser.add_argument(
        "--full-feedback",
        action="store_true",
        help="also run the loop that learns every outcome (the ceiling for exploration)",
    )
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    args = parser.parse_args()

    print(machine())
    history, moved = split_by_date(packaged_kcs("train"), args.history_until)
    stream = join_tables([moved, packaged_kcs("valid")])
    settings = SimulationSettings(
        inspect_rate=args.inspect_rate,
        explore=args.explore,
        strategy=args.strategy,
        seeds=args.seeds,
        retrain_every=args.retrain_every,
        weeks=args.weeks,
        full_feedback=args.full_feedback,
    )
    print(f"settings: {settings.to_dict()}, history until {args.history_until}")
    started = time.perf_counter()

    def progress(seed: int, run: str, done: int, total: int) -> None:
        if done == total:
            print(f"  seed {seed}: {run} done ({time.perf_counter() - started:.0f} s)", flush=True)

    report = simulate(history, stream, settings, progress=progress)
    wall = time.perf_counter() - started
    summary = report.summary()
    rows = summary["rows"]
    print(
        f"\n== {rows['weeks']} weeks from {report.week_starts[0]}: {rows['stream']} declarations "
        f"streamed after {rows['history']} in the history; {args.seeds} seed(s) =="
    )
    print(f"{'':<22}" + "".join(f"{name:>22}" for name in report.runs))
    for key in SHOWN:
        digits = 0 if key == "irregular_found" else 4
        print(
            f"{key:<22}"
            + "".join(f"{figure(summary['runs'][n][key], digits):>22}" for n in report.runs)
        )
    gain = summary["exploration_gain"]
    print(
        "exploration minus none, paired by seed: "
        + ", ".join(f"{k} {figure(v)}" for k, v in gain.items())
    )
    quarters = by_quarter(report)
    print("precision by quarter of the stream:")
    for q in quarters:
        print(
            f"  from {q['from']} ({q['weeks']} weeks): "
            + ", ".join(f"{n} {figure(q[n], 3)}" for n in report.runs)
        )
    print(f"wall time: {wall:.0f} s ({wall / args.seeds:.0f} s per seed)")
    if args.json:
        summary["by_quarter"] = quarters
        summary["wall_seconds"] = wall
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
