"""How good a risk model is at what customs needs: picking the few items worth inspecting.

An administration inspects the top k% of declarations by score, so the measures are taken at
fixed inspection rates: precision@k (share of inspected items found irregular, the hit rate),
recall@k (share of all irregular items caught) and revenue@k (share of the revenue at stake in
irregular items caught), plus the AUC over all thresholds.

The top k% of n items is ``floor(k * n)`` items (at least one), ties broken by row order. Figures
over several seeds are reported as mean and sample standard deviation, never best-of-n.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from smartcustoms.core.errors import ValidationFailed

__all__ = [
    "RATES",
    "inspection_curve",
    "precision_at",
    "ranking_metrics",
    "recall_at",
    "revenue_at",
    "summarise_runs",
    "top_share",
]

RATES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)


def _arrays(y: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=np.float64).ravel()
    s_arr = np.asarray(scores, dtype=np.float64).ravel()
    if len(y_arr) != len(s_arr) or not len(y_arr):
        raise ValidationFailed(
            f"{len(y_arr)} labels for {len(s_arr)} scores",
            details=[{"field": "scores", "reason": "length differs from labels or is zero"}],
        )
    if not np.isin(y_arr, (0.0, 1.0)).all():
        raise ValidationFailed(
            "labels must be 0 or 1", details=[{"field": "labels", "reason": "not 0 or 1"}]
        )
    if np.isnan(s_arr).any():
        raise ValidationFailed("scores contain NaN", details=[{"field": "scores", "reason": "NaN"}])
    return y_arr, s_arr


def top_share(scores: npt.ArrayLike, rate: float) -> np.ndarray:
    """Boolean mask of the ``floor(rate * n)`` highest scores (at least one; ties by row order)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    if not 0 < rate <= 1:
        raise ValidationFailed(
            f"inspection rate {rate} outside (0, 1]",
            details=[{"field": "rate", "reason": "out of range"}],
        )
    count = max(1, math.floor(rate * len(s) + 1e-9))
    mask = np.zeros(len(s), dtype=bool)
    mask[np.argsort(-s, kind="stable")[:count]] = True
    return mask


def precision_at(y: npt.ArrayLike, scores: npt.ArrayLike, rate: float) -> float:
    """Share of irregular items among the top ``rate`` of items by score (the hit rate)."""
    y_arr, s_arr = _arrays(y, scores)
    return float(y_arr[top_share(s_arr, rate)].mean())


def recall_at(y: npt.ArrayLike, scores: npt.ArrayLike, rate: float) -> float:
    """Share of all irregular items that fall in the top ``rate`` by score (NaN if none)."""
    y_arr, s_arr = _arrays(y, scores)
    total = y_arr.sum()
    return float(y_arr[top_share(s_arr, rate)].sum() / total) if total else math.nan


def revenue_at(
    y: npt.ArrayLike, scores: npt.ArrayLike, revenue: npt.ArrayLike, rate: float
) -> float:
    """Share of the revenue at stake in irregular items that the top ``rate`` catches."""
    y_arr, s_arr = _arrays(y, scores)
    rev = np.nan_to_num(
        np.asarray(revenue, dtype=np.float64).ravel(), nan=0.0, posinf=0.0, neginf=0.0
    )
    at_stake = np.clip(rev, 0.0, None) * y_arr
    total = at_stake.sum()
    return float(at_stake[top_share(s_arr, rate)].sum() / total) if total > 0 else math.nan


def _label(rate: float) -> str:
    pct = rate * 100
    return f"{pct:g}%"


def ranking_metrics(
    y: npt.ArrayLike,
    scores: npt.ArrayLike,
    *,
    revenue: npt.ArrayLike | None = None,
    rates: Sequence[float] = RATES,
) -> dict[str, float]:
    """``precision@k``, ``recall@k`` (and ``revenue@k``) for each rate, and ``auc``."""
    y_arr, s_arr = _arrays(y, scores)
    out: dict[str, float] = {}
    for rate in rates:
        out[f"precision@{_label(rate)}"] = precision_at(y_arr, s_arr, rate)
        out[f"recall@{_label(rate)}"] = recall_at(y_arr, s_arr, rate)
        if revenue is not None:
            out[f"revenue@{_label(rate)}"] = revenue_at(y_arr, s_arr, revenue, rate)
    out["auc"] = float(roc_auc_score(y_arr, s_arr)) if 0 < y_arr.sum() < len(y_arr) else math.nan
    return out


def inspection_curve(
    y: npt.ArrayLike, scores: npt.ArrayLike, rates: Sequence[float]
) -> list[dict[str, float]]:
    """Precision and recall at each inspection rate (the data behind a precision/recall plot)."""
    y_arr, s_arr = _arrays(y, scores)
    return [
        {
            "rate": r,
            "precision": precision_at(y_arr, s_arr, r),
            "recall": recall_at(y_arr, s_arr, r),
        }
        for r in rates
    ]


def summarise_runs(runs: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation (0 for a single run) of each metric over runs."""
    out: dict[str, dict[str, float]] = {}
    for name in runs[0]:
        values = np.array([run[name] for run in runs], dtype=np.float64)
        std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        out[name] = {"mean": float(values.mean()), "std": std}
    return out
