"""Quality of the risk model on KCS: train on train.csv (2020), test on valid.csv (2021 Q1).

    .venv/bin/python bench/risk_quality.py                # 5 seeds, ~1-3 minutes on 2 cores
    .venv/bin/python bench/risk_quality.py --seeds 2 --dev --online --json out.json

Prints, as mean ± sample standard deviation over ``--seeds`` seeds (never best-of-n), for the
risk model (``RiskModel`` with default parameters) and, measured in the same run, the issue's
baseline (LightGBM defaults on label-encoded columns): precision@k and recall@k for k in 1, 2,
5, 10% of the test rows, revenue@k (revenue proxy: item price x tax rate / 100, KCS has no
revenue column) and the AUC; then calibration of the risk model (Brier score, expected
calibration error over 10 bins, mean probability against the observed rate).

Test-row features come only from the training history: no label of valid.csv is used to score
valid.csv. Options:

``--dev``     also runs the development split used for design choices: train on January to
              September 2020, test on October to December 2020, both inside train.csv.
``--online``  also replays valid.csv day by day as a deployment would: score each day with the
              history so far, then record that day's inspection results (every KCS row was
              inspected). This uses earlier test labels for later test rows, so it is reported
              apart from the headline figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from risk_common import LabelEncodedBaseline, machine

from smartcustoms.risk import RiskModel, prepare_items, ranking_metrics
from smartcustoms.risk.offline.datasets import kcs_table
from smartcustoms.risk.offline.evaluation import summarise_runs
from smartcustoms.risk.schema import from_kcs

SHOWN = [
    "precision@1%", "precision@2%", "precision@5%", "precision@10%",
    "recall@1%", "recall@2%", "recall@5%", "recall@10%",
    "revenue@5%", "revenue@10%", "auc",
]  # fmt: skip
TARGETS = {"precision@5%": 0.96, "precision@10%": 0.86}


def calibration(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(
        abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean()
        for b in range(10)
        if (bins == b).any()
    )
    return {
        "brier": float(np.mean((p - y) ** 2)),
        "ece": float(ece),
        "mean_probability": float(p.mean()),
        "observed_rate": float(y.mean()),
    }


def run_split(
    name: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    seeds: int,
    threads: int | None,
    online: bool,
) -> dict[str, Any]:
    y_train, y_test = train["Fraud"].to_numpy(), test["Fraud"].to_numpy()
    train_items, test_items = prepare_items(from_kcs(train)), prepare_items(from_kcs(test))
    revenue = test_items.frame["revenue_at_risk"].to_numpy()
    ours, base, online_runs, cal, fit_s = [], [], [], [], []
    for seed in range(seeds):
        t0 = time.perf_counter()
        model = RiskModel(random_state=seed, n_jobs=threads).fit(train_items, y_train)
        fit_s.append(time.perf_counter() - t0)
        ours.append(ranking_metrics(y_test, model.decision_function(test_items), revenue=revenue))
        cal.append(calibration(model.predict_proba(test_items)[:, 1], y_test))
        baseline = LabelEncodedBaseline(seed=seed, n_jobs=threads).fit(train)
        base.append(ranking_metrics(y_test, baseline.score(test), revenue=revenue))
        if online:
            online_runs.append(
                ranking_metrics(y_test, replay(model, test_items, y_test), revenue=revenue)
            )
        p5 = ours[-1]["precision@5%"]
        print(
            f"  [{name}] seed {seed}: precision@5% {p5:.4f}, @10% {ours[-1]['precision@10%']:.4f}, "
            f"AUC {ours[-1]['auc']:.4f} · baseline @5% {base[-1]['precision@5%']:.4f} · "
            f"fit {fit_s[-1]:.1f} s",
            flush=True,
        )
    result: dict[str, Any] = {
        "rows": {"train": len(train), "test": len(test)},
        "seeds": seeds,
        "metrics": summarise_runs(ours),
        "baseline": summarise_runs(base),
        "calibration": summarise_runs(cal),
        "fit_seconds": {"median": float(np.median(fit_s)), "min": min(fit_s), "max": max(fit_s)},
        "runs": ours,
    }
    if online:
        result["online"] = summarise_runs(online_runs)
    return result


def replay(model: RiskModel, items: Any, y: np.ndarray) -> np.ndarray:
    """Score day by day, recording each day's results before the next (changes ``model``)."""
    scores = np.empty(len(y))
    day = items.frame["day"].to_numpy()
    for d in np.unique(day):
        rows = np.flatnonzero(day == d)
        batch = items.take(rows)
        scores[rows] = model.decision_function(batch)
        model.observe(batch)
        model.record(batch, y[rows])
    return scores


def show(name: str, result: dict[str, Any], online: bool) -> None:
    rows = result["rows"]
    print(
        f"\n== {name}: train {rows['train']} rows, test {rows['test']} rows, "
        f"{result['seeds']} seeds =="
    )
    print(
        f"{'metric':<15}{'risk model':>20}{'baseline':>20}{'ratio':>8}"
        + (f"{'online':>20}" if online else "")
    )
    for metric in SHOWN:
        ours, base = result["metrics"][metric], result["baseline"][metric]
        ratio = ours["mean"] / base["mean"] if base["mean"] else float("nan")
        line = (
            f"{metric:<15}{ours['mean']:>12.4f} ± {ours['std']:.4f}"
            f"{base['mean']:>12.4f} ± {base['std']:.4f}{ratio:>8.2f}"
        )
        if online:
            o = result["online"][metric]
            line += f"{o['mean']:>12.4f} ± {o['std']:.4f}"
        if metric in TARGETS:
            verdict = "meets" if ours["mean"] >= TARGETS[metric] else "MISSES"
            line += f"   target ≥ {TARGETS[metric]}: {verdict}"
        print(line)
    c = result["calibration"]
    print(
        f"calibration: Brier {c['brier']['mean']:.4f}, ECE {c['ece']['mean']:.4f}, "
        f"mean probability {c['mean_probability']['mean']:.3f} "
        f"vs observed rate {c['observed_rate']['mean']:.3f}"
    )
    f = result["fit_seconds"]
    print(
        f"training time per seed: median {f['median']:.1f} s "
        f"(min {f['min']:.1f}, max {f['max']:.1f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="LightGBM threads (default: all)")
    parser.add_argument("--dev", action="store_true", help="also run the development split")
    parser.add_argument("--online", action="store_true", help="also replay valid.csv day by day")
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    args = parser.parse_args()

    print(machine())
    print(f"settings: RiskModel defaults {RiskModel().get_params()}")
    print("baseline: LGBMClassifier() defaults on label-encoded KCS columns (no Date, no ID)")
    train, valid = kcs_table("train"), kcs_table("valid")
    report: dict[str, Any] = {}
    if args.dev:
        cut = train["Date"] >= "2020-10-01"
        report["dev"] = run_split(
            "dev", train[~cut], train[cut], args.seeds, args.threads, args.online
        )
    report["kcs"] = run_split("kcs", train, valid, args.seeds, args.threads, args.online)
    if args.dev:
        show(
            "development split (train.csv: Jan-Sep 2020 -> Oct-Dec 2020)",
            report["dev"],
            args.online,
        )
    show("KCS train.csv (2020) -> valid.csv (2021 Q1)", report["kcs"], args.online)
    if args.online:
        print("online: valid.csv replayed day by day, each day's results recorded before the next")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
