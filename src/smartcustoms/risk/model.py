"""The risk model: declaration items in, calibrated probability of an irregularity out.

:class:`RiskModel` is a scikit-learn classifier over a table of declaration items (see
:mod:`~smartcustoms.risk.schema`). ``fit`` computes leak-free history features (each training
row sees only earlier days), trains a
:class:`~smartcustoms.risk.classifier.CalibratedLGBMClassifier` on them and keeps the history
of the whole training table as ``history_``, the state new declarations are scored against.
That state moves on between retrainings: :meth:`RiskModel.observe` new declarations and
:meth:`RiskModel.record` inspection results as they come.

Scoring the training table itself with a fitted model uses its own labels (they are in
``history_``) and looks far better than it is; evaluate on later data only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Self, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.calibration import CalibrationMethod
from smartcustoms.risk.classifier import BOOSTING, CalibratedLGBMClassifier
from smartcustoms.risk.explain import Explanation, explain_rows
from smartcustoms.risk.features.history import outcome_array
from smartcustoms.risk.features.matrix import FEATURE_NAMES, feature_matrix
from smartcustoms.risk.features.past import past_stats
from smartcustoms.risk.features.stats import PastStats
from smartcustoms.risk.fingerprint import TrainingSummary, summarise_training
from smartcustoms.risk.metrics import ranking_metrics
from smartcustoms.risk.schema import PreparedItems, prepare_items

__all__ = ["RiskModel"]

Items: TypeAlias = pd.DataFrame | PreparedItems

# Up to this many items, score_and_explain reads the rows it explains in place; above, it takes
# them out of the table first (a take costs less than a pass over many unexplained rows).
_IN_PLACE_ROWS = 256


class RiskModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Probability that inspecting a declaration item finds an irregularity.

    Parameters: ``smoothing`` is the number of pseudo-inspections at the overall rate added to
    every history (see :func:`~smartcustoms.risk.features.matrix.smoothed_rate`); the others are
    those of :class:`~smartcustoms.risk.classifier.CalibratedLGBMClassifier`, with the same
    defaults (:class:`~smartcustoms.risk.classifier.BoostingDefaults`, which says how they were
    chosen).

    Learned attributes: ``classifier_``, ``history_`` (:class:`HistoryState`), ``classes_``
    (``[0, 1]``), ``feature_names_``, ``training_`` (rows, dates, rate, fingerprint) and
    ``oof_metrics_`` (precision@k, recall@k and AUC of the out-of-fold scores).
    """

    def __init__(
        self,
        *,
        smoothing: float = 1.0,
        n_estimators: int = BOOSTING.n_estimators,
        learning_rate: float = BOOSTING.learning_rate,
        num_leaves: int = BOOSTING.num_leaves,
        min_child_samples: int = BOOSTING.min_child_samples,
        subsample: float = BOOSTING.subsample,
        colsample_bytree: float = BOOSTING.colsample_bytree,
        reg_lambda: float = BOOSTING.reg_lambda,
        calibration: CalibrationMethod = BOOSTING.calibration,
        calibration_folds: int = BOOSTING.calibration_folds,
        random_state: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.smoothing = smoothing
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.calibration = calibration
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def build_classifier(self) -> CalibratedLGBMClassifier:
        """An unfitted classifier with this model's boosting and calibration parameters."""
        names = CalibratedLGBMClassifier().get_params()
        return CalibratedLGBMClassifier(
            **{k: v for k, v in self.get_params().items() if k in names}
        )

    # -- training ---------------------------------------------------------------------------
    def fit(self, X: Items, y: npt.ArrayLike) -> Self:
        """Train on declaration items ``X`` and inspection outcomes ``y`` (1 irregular, 0 not).

        Every row must have been inspected: rows without an outcome belong in the history
        (:meth:`HistoryState.update`), not in a training set.
        """
        if not (
            isinstance(self.smoothing, int | float)
            and math.isfinite(self.smoothing)
            and self.smoothing > 0
        ):
            raise ValueError(f"smoothing must be a positive number, not {self.smoothing!r}")
        items = prepare_items(X)
        outcomes = outcome_array(y, len(items))
        if np.isnan(outcomes).any():
            first = int(np.flatnonzero(np.isnan(outcomes))[0])
            raise ValidationFailed(
                f"outcome missing at row {first}: every training row needs 0 or 1",
                details=[{"field": "outcomes", "row": first, "reason": "missing"}],
            )
        stats, state = past_stats(items, outcomes)
        features = feature_matrix(items, stats, float(self.smoothing))
        self.classifier_ = self.build_classifier().fit(
            features, outcomes, feature_names=FEATURE_NAMES
        )
        oof = self.classifier_.oof_scores_
        # Out-of-fold figures travel with the model (see card.save_model): every training row
        # scored by a booster that did not see it. Optimistic next to a later test period.
        self.oof_metrics_: dict[str, float] = (
            ranking_metrics(outcomes, oof) if np.isfinite(oof).all() else {}
        )
        self.history_ = state
        self.classes_ = np.array([0, 1])
        self.feature_names_ = list(FEATURE_NAMES)
        self.training_: TrainingSummary = summarise_training(items, outcomes)
        return self

    # -- scoring ----------------------------------------------------------------------------
    def _features(self, X: Items) -> tuple[PreparedItems, PastStats, np.ndarray]:
        check_is_fitted(self)
        items = prepare_items(X)
        stats = self.history_.stats(items)
        return items, stats, feature_matrix(items, stats, float(self.smoothing))

    def transform(self, X: Items) -> np.ndarray:
        """The feature matrix of ``X`` against the current history (columns ``feature_names_``)."""
        return self._features(X)[2]

    def decision_function(self, X: Items) -> np.ndarray:
        """Calibrated log-odds of an irregularity; ranks items exactly like ``predict_proba``."""
        features = self.transform(X)
        return self.classifier_.decision_function(features)

    def predict_proba(self, X: Items) -> np.ndarray:
        """Calibrated probabilities ``[compliant, irregular]`` for each item."""
        features = self.transform(X)
        return self.classifier_.predict_proba(features)

    def predict(self, X: Items) -> np.ndarray:
        """1 where an irregularity is more likely than not. Selectivity ranks by probability
        against the day's capacity instead; see :mod:`smartcustoms.risk.offline.evaluation`."""
        return (self.decision_function(X) > 0).astype(int)

    def explain(self, X: Items, *, top: int = 3, min_weight: float = 0.0) -> list[Explanation]:
        """Probability, raw score and the ``top`` reasons raising the score, for each item."""
        items, stats, features = self._features(X)
        return self._explain(items, stats, features, top=top, min_weight=min_weight)

    def score_and_explain(
        self, X: Items, choose: Callable[[np.ndarray], Sequence[int]], *, top: int = 3
    ) -> tuple[np.ndarray, dict[int, Explanation]]:
        """Probabilities of every item and explanations of the rows ``choose(probabilities)``
        picks, computing the features once (what lodging does: explain only the riskiest)."""
        items, stats, features = self._features(X)
        probabilities = self.classifier_.predict_proba(features)[:, 1]
        rows = np.asarray(list(choose(probabilities)), dtype=np.int64)
        if len(features) <= _IN_PLACE_ROWS:
            explained = self._explain(items, stats, features, top=top, min_weight=0.0, rows=rows)
        else:
            explained = self._explain(
                items.take(rows), stats.take(rows), features[rows], top=top, min_weight=0.0
            )
        return probabilities, dict(zip(rows.tolist(), explained, strict=True))

    def _explain(
        self,
        items: PreparedItems,
        stats: PastStats,
        features: np.ndarray,
        *,
        top: int,
        min_weight: float,
        rows: np.ndarray | None = None,
    ) -> list[Explanation]:
        """Explanations of ``rows`` (default all) of the batch, in that order."""
        if rows is None:
            contributions = self.classifier_.contributions(features)
            wanted = contributions
        else:
            # SHAP values cost about a millisecond a row: only ``rows`` get theirs. The reasons
            # are read from the whole batch, whose other rows have no contribution (and are
            # dropped): each row's reasons depend on that row alone, and on a lodging's few
            # rows, selecting them out of the item table (a pandas take) cost more than
            # reading them in place.
            wanted = self.classifier_.contributions(features[rows])
            contributions = np.zeros((len(features), wanted.shape[1]))
            contributions[rows] = wanted
        raw = wanted.sum(axis=1)
        calibrator = self.classifier_.calibrator_
        probability, score = calibrator.apply(raw), calibrator.log_odds(raw)
        reasons = explain_rows(items, stats, contributions, top=top, min_weight=min_weight)
        if rows is not None:
            reasons = [reasons[row] for row in rows.tolist()]
        return [
            Explanation(float(p), float(s), r)
            for p, s, r in zip(probability, score, reasons, strict=True)
        ]

    # -- keeping the history current --------------------------------------------------------
    def observe(self, X: Items) -> Self:
        """Count newly lodged declarations in the history (no outcome yet)."""
        check_is_fitted(self)
        self.history_.observe(X)
        return self

    def record(self, X: Items, outcomes: npt.ArrayLike) -> Self:
        """Record inspection results (1, 0, or NaN to skip) of declarations already observed."""
        check_is_fitted(self)
        self.history_.record(X, outcomes)
        return self
