"""A trained model as one file: its card (what it is, how it was trained and how good it is),
the LightGBM trees as text, and the history state.

The file is a ZIP archive with three members and no pickled objects:

* ``card.json``   the :class:`ModelCard` (version, parameters, features, calibration, training
  data summary and fingerprint, evaluation figures, software versions)
* ``booster.txt`` LightGBM's own text model format
* ``history.npz`` the :class:`~smartcustoms.risk.features.history.HistoryState` (NumPy arrays)

``save_model`` returns bytes, so the storage layer can keep a model in a database row as easily
as in a file.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version as package_version
from typing import Any

import lightgbm as lgb
import numpy as np

import smartcustoms
from smartcustoms.core import clock
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.calibration import Calibrator
from smartcustoms.risk.features.history import HistoryState
from smartcustoms.risk.features.matrix import FEATURE_NAMES
from smartcustoms.risk.fingerprint import TrainingSummary
from smartcustoms.risk.model import RiskModel

__all__ = ["MODEL_FORMAT", "ModelCard", "load_model", "save_model"]

MODEL_FORMAT = "smartcustoms.risk.model/1"
_MAX_MEMBER_BYTES = 512 * 1024 * 1024  # refuse zip bombs before inflating them


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to know what a stored model is, without loading it."""

    version: str
    created_at: str
    parameters: dict[str, Any]
    features: list[str]
    calibration: dict[str, Any]
    training: TrainingSummary
    booster_sha256: str
    evaluation: dict[str, Any] = field(default_factory=dict)
    software: dict[str, str] = field(default_factory=dict)
    format: str = MODEL_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "version": self.version,
            "created_at": self.created_at,
            "parameters": self.parameters,
            "features": self.features,
            "calibration": self.calibration,
            "training": self.training.to_dict(),
            "booster_sha256": self.booster_sha256,
            "evaluation": self.evaluation,
            "software": self.software,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelCard:
        if data.get("format") != MODEL_FORMAT:
            raise ValidationFailed(
                f"model format {data.get('format')!r}, expected {MODEL_FORMAT!r}",
                details=[{"field": "card.format", "reason": "unsupported"}],
            )
        try:
            return cls(
                version=str(data["version"]),
                created_at=str(data["created_at"]),
                parameters=dict(data["parameters"]),
                features=[str(f) for f in data["features"]],
                calibration=dict(data["calibration"]),
                training=TrainingSummary.from_dict(data["training"]),
                booster_sha256=str(data["booster_sha256"]),
                evaluation=dict(data.get("evaluation", {})),
                software={str(k): str(v) for k, v in data.get("software", {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed(
                f"model card incomplete: {exc}",
                details=[{"field": "card", "reason": str(exc)}],
            ) from exc


def _software() -> dict[str, str]:
    versions = {
        name: package_version(name) for name in ("lightgbm", "scikit-learn", "numpy", "pandas")
    }
    versions["smartcustoms"] = smartcustoms.__version__
    return versions


def _json_safe(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def save_model(
    model: RiskModel,
    *,
    version: str | None = None,
    evaluation: Mapping[str, Any] | None = None,
) -> tuple[bytes, ModelCard]:
    """The fitted ``model`` as archive bytes, and its card.

    ``version`` defaults to the creation time and the first 8 hex digits of the trees' hash.
    ``evaluation`` is stored as given (e.g.
    :func:`~smartcustoms.risk.offline.evaluation.evaluate_seeds`), with the model's out-of-fold
    figures under ``out_of_fold`` unless it has that key already.
    """
    if not hasattr(model, "classifier_"):
        raise ValidationFailed(
            "cannot save a model that has not been fitted",
            details=[{"field": "model", "reason": "not fitted"}],
        )
    booster_text = model.classifier_.booster_.model_to_string()
    booster_sha = hashlib.sha256(booster_text.encode()).hexdigest()
    created = clock.now()
    card = ModelCard(
        version=version or f"{created:%Y%m%dT%H%M%SZ}-{booster_sha[:8]}",
        created_at=created.isoformat(),
        parameters=_json_safe(model.get_params()),
        features=list(model.feature_names_),
        calibration=model.classifier_.calibrator_.to_dict(),
        training=model.training_,
        booster_sha256=booster_sha,
        evaluation=_json_safe(
            {"out_of_fold": getattr(model, "oof_metrics_", {}), **dict(evaluation or {})}
        ),
        software=_software(),
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", card.to_json())
        archive.writestr("booster.txt", booster_text)
        # history.npz is already compressed
        archive.writestr("history.npz", model.history_.to_bytes(), compress_type=zipfile.ZIP_STORED)
    return buf.getvalue(), card


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValidationFailed(
            f"model archive lacks {name}", details=[{"field": name, "reason": "missing"}]
        ) from None
    if info.file_size > _MAX_MEMBER_BYTES:
        raise ValidationFailed(
            f"{name} inflates to {info.file_size} bytes, over the limit",
            details=[{"field": name, "reason": "too large"}],
        )
    return archive.read(name)


def load_model(data: bytes) -> tuple[RiskModel, ModelCard]:
    """A fitted :class:`RiskModel` and its card from :func:`save_model` bytes.

    Raises :class:`ValidationFailed` when the archive is damaged, from another format, its trees
    do not match the recorded hash, or it was trained on other features than this version uses.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValidationFailed(
            f"not a model archive: {exc}", details=[{"field": "model", "reason": "not a zip"}]
        ) from exc
    with archive:
        try:
            card_data = json.loads(_read(archive, "card.json").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationFailed(
                f"card.json is not JSON: {exc}",
                details=[{"field": "card.json", "reason": "bad JSON"}],
            ) from exc
        card = ModelCard.from_dict(card_data)
        booster_text = _read(archive, "booster.txt").decode("utf-8")
        history = HistoryState.from_bytes(_read(archive, "history.npz"))
    if hashlib.sha256(booster_text.encode()).hexdigest() != card.booster_sha256:
        raise ValidationFailed(
            "booster.txt does not match the hash in card.json",
            details=[{"field": "booster.txt", "reason": "hash mismatch"}],
        )
    if card.features != FEATURE_NAMES:
        raise ValidationFailed(
            "the model was trained on other features than this version computes; retrain it",
            details=[{"field": "card.features", "reason": "feature list differs"}],
        )
    model = RiskModel(**card.parameters)
    classifier = model.build_classifier()
    classifier.booster_ = lgb.Booster(model_str=booster_text)
    classifier.calibrator_ = Calibrator.from_dict(card.calibration)
    classifier.classes_ = np.array([0.0, 1.0])
    classifier.n_features_in_ = len(FEATURE_NAMES)
    classifier.feature_names_ = list(FEATURE_NAMES)
    model.classifier_ = classifier
    model.history_ = history
    model.classes_ = np.array([0, 1])
    model.feature_names_ = list(FEATURE_NAMES)
    model.training_ = card.training
    model.oof_metrics_ = dict(card.evaluation.get("out_of_fold") or {})
    return model, card
