"""scikit-learn's own conformance checks on the numeric classifier, plus what they do not cover."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from smartcustoms.risk.classifier import CalibratedLGBMClassifier

# Few trees and two folds keep the ~50 checks quick; the checks are about the contract.
CHECKED = CalibratedLGBMClassifier(n_estimators=10, calibration_folds=2, n_jobs=1)


@parametrize_with_checks([CHECKED])
def test_sklearn_conformance(estimator: Any, check: Any) -> None:
    check(estimator)


def data(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[rng.random((n, 4)) < 0.1] = np.nan
    y = (
        np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) + rng.normal(scale=0.5, size=n) > 0
    ).astype(int)
    return X, y


def test_learns_a_signal_and_probabilities_are_calibrated_out_of_fold() -> None:
    X, y = data(2000)
    model = CalibratedLGBMClassifier(n_estimators=50, random_state=0, n_jobs=1).fit(
        X[:1500], y[:1500]
    )
    p = model.predict_proba(X[1500:])[:, 1]
    assert ((p > 0.5) == y[1500:]).mean() > 0.75  # chance is 0.5, the Bayes rate about 0.85
    assert model.calibrator_.method == "sigmoid"
    assert np.isfinite(model.oof_scores_).all()  # every training row got an out-of-fold score
    assert abs(p.mean() - y[1500:].mean()) < 0.05


def test_same_seed_same_model_and_decision_function_ranks_like_probability() -> None:
    X, y = data()
    a = CalibratedLGBMClassifier(n_estimators=20, random_state=3, n_jobs=1).fit(X, y)
    b = CalibratedLGBMClassifier(n_estimators=20, random_state=3, n_jobs=1).fit(X, y)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))
    s, p = a.decision_function(X), a.predict_proba(X)[:, 1]
    assert np.array_equal(np.argsort(s, kind="stable"), np.argsort(p, kind="stable"))


def test_contributions_add_up_to_the_raw_score() -> None:
    X, y = data()
    model = CalibratedLGBMClassifier(n_estimators=20, random_state=0, n_jobs=1).fit(X, y)
    contrib = model.contributions(X[:50])
    assert contrib.shape == (50, X.shape[1] + 1)
    assert np.allclose(contrib.sum(axis=1), model.raw_score(X[:50]))


def test_feature_names_reach_the_booster() -> None:
    X, y = data()
    names = ["a", "b", "c", "d"]
    model = CalibratedLGBMClassifier(n_estimators=5, n_jobs=1).fit(X, y, feature_names=names)
    assert model.booster_.feature_name() == names
    with pytest.raises(ValueError, match="3 feature names for 4 columns"):
        CalibratedLGBMClassifier(n_estimators=5).fit(X, y, feature_names=names[:3])


def test_bad_calibration_and_one_class_are_refused() -> None:
    X, y = data()
    with pytest.raises(ValueError, match="calibration"):
        CalibratedLGBMClassifier(calibration="magic").fit(X, y)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only one class"):
        CalibratedLGBMClassifier().fit(X, np.zeros(len(y)))
