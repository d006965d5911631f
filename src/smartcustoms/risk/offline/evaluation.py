"""Measuring a risk model the way the evaluation command reports it: trained per seed, tested
on later data, summarised as mean and standard deviation.

The measures themselves live in :mod:`smartcustoms.risk.metrics` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.metrics import (
    RATES,
    inspection_curve,
    precision_at,
    ranking_metrics,
    recall_at,
    revenue_at,
    summarise_runs,
    top_share,
)
from smartcustoms.risk.model import RiskModel
from smartcustoms.risk.schema import PreparedItems, prepare_items

__all__ = [
    "RATES",
    "evaluate_seeds",
    "inspection_curve",
    "precision_at",
    "ranking_metrics",
    "recall_at",
    "revenue_at",
    "summarise_runs",
    "top_share",
]


def evaluate_seeds(
    train: pd.DataFrame | PreparedItems,
    y_train: npt.ArrayLike,
    test: pd.DataFrame | PreparedItems,
    y_test: npt.ArrayLike,
    *,
    seeds: int = 5,
    params: Mapping[str, Any] | None = None,
    revenue: npt.ArrayLike | None = None,
    rates: Sequence[float] = RATES,
) -> dict[str, Any]:
    """Train a :class:`~smartcustoms.risk.model.RiskModel` per seed and measure it on ``test``.

    Returns ``{"metrics": {"precision@5%": {"mean": …, "std": …}, …, "auc": {…}},
    "rows": {"train": n, "test": m}, "seeds": N, "runs": [per-seed metrics]}``. The test rows'
    labels are used for measuring only: their features come from the training history.
    """
    if seeds < 1:
        raise ValidationFailed(
            "seeds must be at least 1", details=[{"field": "seeds", "reason": "< 1"}]
        )
    train_items, test_items = prepare_items(train), prepare_items(test)
    y_test_arr = np.asarray(y_test, dtype=np.float64)
    runs = []
    for seed in range(seeds):
        model = RiskModel(**{**dict(params or {}), "random_state": seed}).fit(train_items, y_train)
        scores = model.decision_function(test_items)
        runs.append(ranking_metrics(y_test_arr, scores, revenue=revenue, rates=rates))
    return {
        "metrics": summarise_runs(runs),
        "rows": {"train": len(train_items), "test": len(test_items)},
        "seeds": seeds,
        "runs": runs,
    }
