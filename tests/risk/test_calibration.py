from __future__ import annotations

import numpy as np
import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.calibration import Calibrator, fit_calibrator


def overconfident(n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Scores three times too extreme for the labels drawn from them."""
    rng = np.random.default_rng(0)
    true_logit = rng.normal(scale=1.5, size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-true_logit))).astype(float)
    return 3 * true_logit, y


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_fixes_overconfident_scores(method: str) -> None:
    scores, y = overconfident()
    raw = 1 / (1 + np.exp(-scores))
    calibrated = fit_calibrator(scores, y, method).apply(scores)  # type: ignore[arg-type]
    assert log_loss(calibrated, y) < log_loss(raw, y) - 0.05
    assert abs(calibrated.mean() - y.mean()) < 0.01


def test_sigmoid_keeps_the_ranking_exactly() -> None:
    scores, y = overconfident()
    cal = fit_calibrator(scores, y, "sigmoid")
    assert cal.a == pytest.approx(1 / 3, abs=0.05)
    p = cal.apply(scores)
    assert np.array_equal(np.argsort(scores, kind="stable"), np.argsort(p, kind="stable"))


def test_isotonic_is_monotone_and_bounded() -> None:
    scores, y = overconfident()
    p = fit_calibrator(scores, y, "isotonic").apply(np.linspace(-50, 50, 1001))
    assert (np.diff(p) >= 0).all() and p.min() >= 0 and p.max() <= 1


@pytest.mark.parametrize("method", ["sigmoid", "isotonic", "none"])
def test_round_trip_through_a_dict(method: str) -> None:
    scores, y = overconfident(500)
    cal = fit_calibrator(scores, y, method)  # type: ignore[arg-type]
    again = Calibrator.from_dict(cal.to_dict())
    assert again == cal
    assert np.array_equal(again.apply(scores), cal.apply(scores))


def test_extreme_scores_do_not_overflow() -> None:
    p = Calibrator("sigmoid", a=1.0, b=0.0).apply(np.array([-1e308, 1e308]))
    assert p.tolist() == [0.0, 1.0]


def test_one_class_or_unknown_method() -> None:
    cal = fit_calibrator(np.array([0.1, 0.2]), np.array([1.0, 1.0]), "sigmoid")
    assert (cal.a, cal.b) == (1.0, 0.0)
    with pytest.raises(ValidationFailed, match="calibration method"):
        Calibrator.from_dict({"method": "magic"})
