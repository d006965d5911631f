"""Turning boosted scores into probabilities an analyst can read as "x in 100 are irregular".

A calibrator is fitted on out-of-fold scores (scores of rows the booster did not train on),
never on in-sample scores, which are overconfident. It is stored as plain numbers (two
coefficients, or the knots of a monotone curve), so a saved model holds no pickled objects.

* ``sigmoid`` (Platt scaling, the default): strictly increasing, so the ranking that selectivity
  uses is exactly the booster's ranking.
* ``isotonic``: a monotone step curve, better with plenty of data but it ties scores within a
  step; rank by :meth:`RiskModel.decision_function` when using it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize
from sklearn.isotonic import IsotonicRegression

from smartcustoms.core.errors import ValidationFailed

__all__ = ["CalibrationMethod", "Calibrator", "fit_calibrator"]

CalibrationMethod = Literal["sigmoid", "isotonic", "none"]


@dataclass(frozen=True)
class Calibrator:
    """Maps a raw log-odds score to a probability."""

    method: CalibrationMethod
    # sigmoid: p = 1 / (1 + exp(-(a * s + b))); isotonic: knots (x, y) interpolated linearly.
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = field(default_factory=tuple)
    y: tuple[float, ...] = field(default_factory=tuple)

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities for raw log-odds ``scores``."""
        scores = np.asarray(scores, dtype=np.float64)
        if self.method == "isotonic" and self.x:
            return np.asarray(np.interp(scores, np.asarray(self.x), np.asarray(self.y)))
        return _sigmoid(self.a * scores + self.b)

    def log_odds(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated log-odds: the logit of :meth:`apply`, computed without round trips."""
        scores = np.asarray(scores, dtype=np.float64)
        if self.method == "isotonic" and self.x:
            p = np.clip(self.apply(scores), 1e-15, 1 - 1e-15)
            return np.asarray(np.log(p) - np.log1p(-p))
        return np.asarray(self.a * scores + self.b)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "a": self.a,
            "b": self.b,
            "x": list(self.x),
            "y": list(self.y),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        method = data.get("method")
        if method not in ("sigmoid", "isotonic", "none"):
            raise ValidationFailed(
                f"unknown calibration method {method!r}",
                details=[
                    {"field": "calibration.method", "reason": "expected sigmoid, isotonic or none"}
                ],
            )
        return cls(
            method=method,
            a=float(data.get("a", 1.0)),
            b=float(data.get("b", 0.0)),
            x=tuple(float(v) for v in data.get("x", ())),
            y=tuple(float(v) for v in data.get("y", ())),
        )


_MIN_SLOPE = 1e-6


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))  # tanh form: no overflow for large |z|


def _platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    # Platt's targets, (n+ + 1)/(n+ + 2) and 1/(n- + 2), keep the fit finite on separable data.
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

    def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
        z = ab[0] * scores + ab[1]
        p = _sigmoid(z)
        # log(1 + e^z) - t z, written stably
        value = float(np.sum(np.logaddexp(0.0, z) - t * z))
        grad_z = p - t
        return value, np.array([np.dot(grad_z, scores), grad_z.sum()])

    # The slope stays positive: on tiny or noisy data the fit could otherwise turn the ranking
    # upside down, and calibration must never reorder what the booster ranked.
    result = minimize(
        loss,
        np.array([1.0, 0.0]),
        jac=True,
        method="L-BFGS-B",
        bounds=[(_MIN_SLOPE, None), (None, None)],
    )
    return float(result.x[0]), float(result.x[1])


def fit_calibrator(scores: np.ndarray, y: np.ndarray, method: CalibrationMethod) -> Calibrator:
    """Fit ``method`` on out-of-fold raw scores and 0/1 labels."""
    scores = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if method == "none" or len(np.unique(y)) < 2:
        return Calibrator("none" if method == "none" else method)
    if method == "sigmoid":
        a, b = _platt(scores, y)
        return Calibrator("sigmoid", a=a, b=b)
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, y)
    return Calibrator(
        "isotonic",
        x=tuple(float(v) for v in iso.X_thresholds_),
        y=tuple(float(v) for v in iso.y_thresholds_),
    )
