"""Risk engine core: features, model, explanations, evaluation and targeting rules.

Storage-free: everything here works on pandas tables and bytes; the declarations layer stores
them. What the selectivity and web layers call:

* items: :func:`prepare_items` checks and types a table with the :data:`ITEM_FIELDS` columns
  (:func:`from_kcs` maps the KCS columns);
* model: :class:`RiskModel` (``fit``, ``predict_proba``, ``decision_function``, ``explain``,
  ``observe``/``record`` to keep its :class:`HistoryState` current); :func:`save_model` /
  :func:`load_model` with its :class:`ModelCard`;
* reasons: :class:`Explanation` of :class:`Reason` (message id + parameters), rendered with
  :func:`render_message` through the gettext catalogues (:data:`MESSAGES`: the English
  templates, which are the catalogue's message ids);
* measures: :func:`ranking_metrics`, :func:`top_share` (offline evaluation, the packaged KCS
  data and the deployment replay are in :mod:`smartcustoms.risk.offline`);
* rules: :func:`parse` a targeting rule into an :class:`Expression` (``evaluate`` a batch,
  ``matches`` one declaration); errors are :class:`RuleSyntaxError` with the column.
"""

from smartcustoms.risk.calibration import Calibrator
from smartcustoms.risk.card import MODEL_FORMAT, ModelCard, load_model, save_model
from smartcustoms.risk.classifier import CalibratedLGBMClassifier
from smartcustoms.risk.explain import Explanation, Reason
from smartcustoms.risk.features.history import HistoryState
from smartcustoms.risk.features.matrix import FEATURE_NAMES
from smartcustoms.risk.fingerprint import TrainingSummary
from smartcustoms.risk.messages import LANGUAGES, MESSAGES, render_message
from smartcustoms.risk.metrics import (
    RATES,
    inspection_curve,
    precision_at,
    ranking_metrics,
    recall_at,
    revenue_at,
    top_share,
)
from smartcustoms.risk.model import RiskModel
from smartcustoms.risk.rules import Expression, RuleInputError, RuleSyntaxError, parse
from smartcustoms.risk.schema import (
    DERIVED_FIELDS,
    ITEM_FIELDS,
    FieldSpec,
    PreparedItems,
    from_kcs,
    prepare_items,
)

__all__ = [
    "DERIVED_FIELDS",
    "FEATURE_NAMES",
    "ITEM_FIELDS",
    "LANGUAGES",
    "MESSAGES",
    "MODEL_FORMAT",
    "RATES",
    "CalibratedLGBMClassifier",
    "Calibrator",
    "Explanation",
    "Expression",
    "FieldSpec",
    "HistoryState",
    "ModelCard",
    "PreparedItems",
    "Reason",
    "RiskModel",
    "RuleInputError",
    "RuleSyntaxError",
    "TrainingSummary",
    "from_kcs",
    "inspection_curve",
    "load_model",
    "parse",
    "precision_at",
    "prepare_items",
    "ranking_metrics",
    "recall_at",
    "render_message",
    "revenue_at",
    "save_model",
    "top_share",
]
