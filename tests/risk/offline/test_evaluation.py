from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.offline.evaluation import (
    evaluate_seeds,
    inspection_curve,
    precision_at,
    ranking_metrics,
    recall_at,
    revenue_at,
    summarise_runs,
    top_share,
)

Y = np.array([1, 0, 1, 1, 0, 0, 0, 0, 0, 1])
S = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.0, 0.05, 0.4, 0.6])


def test_top_share_takes_floor_of_the_rate_and_at_least_one() -> None:
    assert top_share(S, 0.3).nonzero()[0].tolist() == [0, 1, 2]
    assert top_share(S, 0.05).sum() == 1
    assert top_share(np.ones(4), 0.5).nonzero()[0].tolist() == [0, 1]  # ties: first rows first
    with pytest.raises(ValidationFailed):
        top_share(S, 0.0)


def test_precision_recall_revenue_by_hand() -> None:
    assert precision_at(Y, S, 0.3) == pytest.approx(2 / 3)
    assert recall_at(Y, S, 0.3) == pytest.approx(2 / 4)
    revenue = np.array([10, 99, 30, 60, 0, 0, 0, 0, 0, np.nan])
    assert revenue_at(Y, S, revenue, 0.3) == pytest.approx(40 / 100)
    assert math.isnan(recall_at(np.zeros(10), S, 0.3))


def test_ranking_metrics_names_and_auc() -> None:
    metrics = ranking_metrics(Y, S, revenue=np.ones(10), rates=(0.1, 0.5))
    names = {f"{m}@{k}%" for m in ("precision", "recall", "revenue") for k in (10, 50)}
    assert set(metrics) == names | {"auc"}
    assert metrics["auc"] == pytest.approx(18 / 24)  # pairs ranked right, by hand
    assert inspection_curve(Y, S, [0.1])[0] == {"rate": 0.1, "precision": 1.0, "recall": 0.25}


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValidationFailed, match="labels"):
        ranking_metrics(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(ValidationFailed, match="NaN"):
        ranking_metrics(np.array([0, 1]), np.array([0.1, np.nan]))
    with pytest.raises(ValidationFailed, match="2 labels for 3 scores"):
        ranking_metrics(np.array([0, 1]), np.array([0.1, 0.2, 0.3]))


def test_summary_is_mean_and_sample_std() -> None:
    summary = summarise_runs([{"auc": 0.8}, {"auc": 0.9}, {"auc": 1.0}])
    assert summary["auc"]["mean"] == pytest.approx(0.9)
    assert summary["auc"]["std"] == pytest.approx(0.1)
    assert summarise_runs([{"auc": 0.5}])["auc"]["std"] == 0.0


def test_evaluate_seeds_has_the_cli_shape(
    kcs_train: tuple[pd.DataFrame, np.ndarray], kcs_test: tuple[pd.DataFrame, np.ndarray]
) -> None:
    (train, y_train), (test, y_test) = kcs_train, kcs_test
    params = {"n_estimators": 20, "learning_rate": 0.2, "calibration_folds": 2, "n_jobs": 1}
    report = evaluate_seeds(train.iloc[:2000], y_train[:2000], test, y_test, seeds=2, params=params)
    assert report["rows"] == {"train": 2000, "test": len(test)}
    assert report["seeds"] == 2 and len(report["runs"]) == 2
    assert set(report["metrics"]["precision@5%"]) == {"mean", "std"}
    assert report["metrics"]["auc"]["mean"] > 0.6
    with pytest.raises(ValidationFailed, match="seeds"):
        evaluate_seeds(train, y_train, test, y_test, seeds=0)
