"""The evaluation command's report: headline figures in the issue's shape, and the full curve.

:func:`evaluate_tables` trains one model per seed on the training table and scores the later
test table (through :func:`~smartcustoms.risk.offline.evaluation.evaluate_seeds`), measuring every
inspection rate from 1% to 100% in one pass so the plot and the headline figures come from the
same models. :meth:`EvaluationReport.summary` is the public JSON shape::

    {"metrics": {"precision@1%": {"mean": …, "std": …}, "recall@1%": {…}, …, "auc": {…}},
     "rows": {"train": n, "test": m}, "seeds": N}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.offline.evaluation import RATES, evaluate_seeds
from smartcustoms.risk.offline.kcs_files import LabelledTable
from smartcustoms.risk.schema import prepare_items

__all__ = ["CURVE_RATES", "CurvePoint", "EvaluationReport", "evaluate_tables", "metric_label"]

# 1%, 2%, … 100%: fine enough for a smooth plot, and it contains every headline rate.
CURVE_RATES: tuple[float, ...] = tuple(
    sorted({round(i / 100, 2) for i in range(1, 101)} | set(RATES))
)


def metric_label(rate: float) -> str:
    """The percentage as it appears in metric names: 0.05 → ``"5%"`` (as metrics.py writes it)."""
    return f"{rate * 100:g}%"


@dataclass(frozen=True)
class CurvePoint:
    """Mean and standard deviation over seeds of precision and recall at one inspection rate."""

    rate: float
    precision: float
    precision_std: float
    recall: float
    recall_std: float


@dataclass(frozen=True)
class EvaluationReport:
    metrics: dict[str, dict[str, float]]
    rows: dict[str, int]
    seeds: int
    curve: tuple[CurvePoint, ...]
    test_starts_before_train_ends: bool

    def summary(self) -> dict[str, Any]:
        """Exactly ``{"metrics", "rows", "seeds"}``; undefined figures (NaN) become ``null``."""
        return {
            "metrics": {
                name: {k: _json_number(v) for k, v in value.items()}
                for name, value in self.metrics.items()
            },
            "rows": dict(self.rows),
            "seeds": self.seeds,
        }


def _json_number(value: float) -> float | None:
    # JSON has no NaN: a recall with no irregular test row, or an AUC with one class, is null.
    return value if math.isfinite(value) else None


def _headline(
    summary: Mapping[str, dict[str, float]], with_revenue: bool
) -> dict[str, dict[str, float]]:
    names: list[str] = []
    for rate in RATES:
        names += [f"precision@{metric_label(rate)}", f"recall@{metric_label(rate)}"]
        if with_revenue:
            names.append(f"revenue@{metric_label(rate)}")
    names.append("auc")
    return {name: dict(summary[name]) for name in names}


def evaluate_tables(
    train: LabelledTable,
    test: LabelledTable,
    *,
    seeds: int,
    params: Mapping[str, Any] | None = None,
) -> EvaluationReport:
    """Train on ``train`` once per seed, measure on ``test``; revenue@k when ``test`` has revenue.

    Raises :class:`~smartcustoms.core.errors.ValidationFailed` (from ``evaluate_seeds``) when
    ``seeds`` is below 1, and when the training labels hold a single class.
    """
    _check_both_classes(train)
    train_items, test_items = prepare_items(train.items), prepare_items(test.items)
    result = evaluate_seeds(
        train_items,
        train.labels,
        test_items,
        test.labels,
        seeds=seeds,
        params=params,
        revenue=test.revenue,
        rates=CURVE_RATES,
    )
    summary = result["metrics"]
    curve = tuple(
        CurvePoint(
            rate,
            summary[f"precision@{metric_label(rate)}"]["mean"],
            summary[f"precision@{metric_label(rate)}"]["std"],
            summary[f"recall@{metric_label(rate)}"]["mean"],
            summary[f"recall@{metric_label(rate)}"]["std"],
        )
        for rate in CURVE_RATES
    )
    # Test rows dated within the training period are scored with a history that already holds
    # some of their own days: the figures then flatter the model. Said, not refused.
    overlap = bool(test_items.frame["day"].min() <= train_items.frame["day"].max())
    return EvaluationReport(
        _headline(summary, test.revenue is not None),
        dict(result["rows"]),
        int(result["seeds"]),
        curve,
        overlap,
    )


def _check_both_classes(train: LabelledTable) -> None:
    positives = int(np.sum(train.labels))
    if positives == 0 or positives == len(train.labels):
        found = "irregular" if positives else "compliant"
        raise ValidationFailed(
            f"{train.source}: every training row is {found}; training needs both outcomes "
            f"in column 'Fraud'",
            details=[{"file": train.source, "column": "Fraud", "reason": "a single class"}],
        )
