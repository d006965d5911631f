"""RiskModel: the estimator contract on declaration items, history updates, and a quality floor.

scikit-learn's generic checks feed random numeric arrays, which are not declaration items, so
``parametrize_with_checks`` yields nothing for this estimator (its tags say it takes no 2-D
arrays). The checks that only look at the object run here by name; the rest of the contract
(fit returns self, unfitted errors, idempotent fit, inputs left untouched, parameters not
overwritten) is tested below on real items. The numeric classifier underneath passes the whole
suite in ``test_classifier.py``.
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.utils import estimator_checks

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk import FEATURE_NAMES, RiskModel
from smartcustoms.risk.classifier import BOOSTING, CalibratedLGBMClassifier
from tests.risk.conftest import SMALL_MODEL, item, items_frame

OBJECT_CHECKS = [
    "check_parameters_default_constructible",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_estimators_unfitted",
]


@pytest.mark.parametrize("name", OBJECT_CHECKS)
def test_sklearn_object_checks(name: str) -> None:
    getattr(estimator_checks, name)("RiskModel", RiskModel(n_estimators=5))


Data = tuple[pd.DataFrame, np.ndarray]


def test_fit_returns_self_and_sets_learned_attributes(kcs_train: Data) -> None:
    items, y = kcs_train
    small = items.iloc[:800]
    model = RiskModel(**SMALL_MODEL)
    assert model.fit(small, y[:800]) is model
    assert model.feature_names_ == FEATURE_NAMES
    assert model.classes_.tolist() == [0, 1]
    assert model.training_.rows == 800
    assert model.training_.fingerprint.startswith("sha256:")
    assert model.history_.total_inspected == 800


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "decision_function", "transform", "explain"]
)
def test_unfitted_model_raises_not_fitted(method: str, kcs_test: Data) -> None:
    with pytest.raises(NotFittedError):
        getattr(RiskModel(), method)(kcs_test[0].iloc[:3])


def test_probabilities_are_valid_and_rank_like_the_decision_function(
    fitted: RiskModel, kcs_test: Data
) -> None:
    items, _ = kcs_test
    proba = fitted.predict_proba(items)
    assert proba.shape == (len(items), 2)
    assert np.allclose(proba.sum(axis=1), 1) and (proba >= 0).all() and (proba <= 1).all()
    score = fitted.decision_function(items)
    assert np.array_equal(np.argsort(score, kind="stable"), np.argsort(proba[:, 1], kind="stable"))
    assert np.array_equal(fitted.predict(items), (proba[:, 1] > 0.5).astype(int))


def test_the_model_learns_something_real(fitted: RiskModel, kcs_test: Data) -> None:
    """Trained on January-February 2020, scored on March 2020: far better than chance."""
    items, y = kcs_test
    auc = roc_auc_score(y, fitted.decision_function(items))
    assert auc > 0.75
    p = fitted.predict_proba(items)[:, 1]
    assert abs(p.mean() - y.mean()) < 0.05  # calibrated on average


def test_same_seed_gives_the_same_model_and_input_is_untouched(
    kcs_train: Data, kcs_test: Data
) -> None:
    items, y = kcs_train
    small, y_small = items.iloc[:1500].copy(), y[:1500].copy()
    before = small.copy()
    a = RiskModel(random_state=7, **SMALL_MODEL).fit(small, y_small)
    b = RiskModel(random_state=7, **SMALL_MODEL).fit(small, y_small)
    pd.testing.assert_frame_equal(small, before)
    probe = kcs_test[0].iloc[:200]
    assert np.array_equal(a.predict_proba(probe), b.predict_proba(probe))
    params = a.get_params()
    a.fit(small, y_small)  # refitting is idempotent and leaves the parameters alone
    assert a.get_params() == params
    assert np.array_equal(a.predict_proba(probe), b.predict_proba(probe))


def test_the_model_and_its_classifier_share_one_set_of_defaults() -> None:
    defaults = asdict(BOOSTING)
    classifier = CalibratedLGBMClassifier().get_params()
    model = RiskModel().get_params()
    assert {k: classifier[k] for k in defaults} == defaults
    assert {k: model[k] for k in defaults} == defaults
    # Every classifier parameter is a model parameter: build_classifier passes them all on.
    assert set(classifier) <= set(model)
    assert RiskModel(num_leaves=7, n_jobs=2).build_classifier().get_params() == {
        **classifier,
        "num_leaves": 7,
        "n_jobs": 2,
    }


def test_clone_is_unfitted_with_the_same_parameters(fitted: RiskModel) -> None:
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "history_")


def test_recorded_results_move_the_next_scores(fitted: RiskModel) -> None:
    model = copy.deepcopy(fitted)
    lot = items_frame(*(item(hs6="999999", origin="ZZ", importer_id=f"I{i}") for i in range(30)))
    probe = items_frame(item(hs6="999999", origin="ZZ", importer_id="NEW", date="2024-02-01"))
    untouched = model.predict_proba(probe)[0, 1]
    model.observe(lot)
    model.record(lot, np.ones(30))
    worse = model.predict_proba(probe)[0, 1]
    assert worse > untouched + 0.05
    assert fitted.predict_proba(probe)[0, 1] == untouched  # the copy, not the fixture, changed
    stats = model.history_.counts("hs6_origin", {"hs6": "999999", "origin": "ZZ"})
    assert (stats.seen[0], stats.inspected[0], stats.irregular[0]) == (30, 30, 30)


def test_training_rows_need_an_outcome(kcs_train: Data) -> None:
    items, y = kcs_train
    y = y[:50].astype(float)
    y[3] = np.nan
    with pytest.raises(ValidationFailed, match="row 3"):
        RiskModel(**SMALL_MODEL).fit(items.iloc[:50], y)


@pytest.mark.parametrize("smoothing", [0, -1, float("nan"), "1"])
def test_bad_smoothing_is_refused_at_fit(smoothing: Any, kcs_train: Data) -> None:
    with pytest.raises(ValueError, match="smoothing"):
        RiskModel(smoothing=smoothing).fit(kcs_train[0].iloc[:50], kcs_train[1][:50])


def test_bad_items_name_the_field(fitted: RiskModel) -> None:
    with pytest.raises(ValidationFailed, match="hs6"):
        fitted.predict_proba(items_frame(item(hs6="abc")))


def test_hostile_values_score_without_infinities(fitted: RiskModel) -> None:
    frame = items_frame(
        item(net_mass=0.0),
        item(net_mass=-3.0, item_price=-1.0),
        item(net_mass=1e-320, item_price=1e308, tax_rate=100.0),
        item(net_mass=np.nan, item_price=np.inf, tax_rate=np.nan),
    )
    assert np.isfinite(fitted.transform(frame)[~np.isnan(fitted.transform(frame))]).all()
    p = fitted.predict_proba(frame)
    assert np.isfinite(p).all()
