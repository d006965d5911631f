from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from smartcustoms.core import clock
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk import MODEL_FORMAT, RiskModel, load_model, save_model


def rewrite(data: bytes, name: str, content: bytes) -> bytes:
    """The archive with one member replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(
                info.filename, content if info.filename == name else src.read(info.filename)
            )
    return out.getvalue()


@pytest.fixture(scope="module")
def saved(fitted: RiskModel) -> bytes:
    clock.set_clock(lambda: datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    try:
        data, _ = save_model(fitted, evaluation={"auc": np.float64(0.9)})
    finally:
        clock.set_clock(None)
    return data


def test_round_trip_scores_and_explains_identically(
    fitted: RiskModel, saved: bytes, kcs_test: tuple[pd.DataFrame, np.ndarray]
) -> None:
    model, card = load_model(saved)
    probe = kcs_test[0].iloc[:300]
    assert np.array_equal(model.predict_proba(probe), fitted.predict_proba(probe))
    assert model.explain(probe.iloc[:5]) == fitted.explain(probe.iloc[:5])
    assert model.get_params() == fitted.get_params()
    assert card.training == fitted.training_
    assert model.oof_metrics_ == pytest.approx(fitted.oof_metrics_)


def test_card_says_what_the_model_is(fitted: RiskModel, saved: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        assert sorted(archive.namelist()) == ["booster.txt", "card.json", "history.npz"]
        card = json.loads(archive.read("card.json"))
    assert card["format"] == MODEL_FORMAT
    assert card["version"].startswith("20250601T120000Z-")
    assert card["created_at"] == "2025-06-01T12:00:00+00:00"
    assert card["parameters"]["n_estimators"] == fitted.n_estimators
    assert card["training"]["rows"] == fitted.training_.rows
    assert card["training"]["fingerprint"] == fitted.training_.fingerprint
    assert card["evaluation"]["auc"] == 0.9
    oof = card["evaluation"]["out_of_fold"]
    assert oof == pytest.approx(fitted.oof_metrics_)
    assert 0.5 < oof["auc"] < 1 and set(oof) >= {"precision@5%", "recall@10%"}
    assert card["calibration"]["method"] == "sigmoid"
    assert {"lightgbm", "scikit-learn", "smartcustoms"} <= set(card["software"])


def test_explicit_version_is_kept(fitted: RiskModel) -> None:
    _, card = save_model(fitted, version="2025.1")
    assert card.version == "2025.1"


def test_fingerprint_follows_the_data_not_the_index(
    kcs_train: tuple[pd.DataFrame, np.ndarray],
) -> None:
    items, y = kcs_train
    small = items.iloc[:300]
    params = {"n_estimators": 5, "calibration_folds": 2, "n_jobs": 1}
    a = RiskModel(**params).fit(small, y[:300]).training_.fingerprint
    b = RiskModel(**params).fit(small.set_axis(range(1000, 1300)), y[:300]).training_.fingerprint
    flipped = y[:300].copy()
    flipped[0] = 1 - flipped[0]
    c = RiskModel(**params).fit(small, flipped).training_.fingerprint
    assert a == b != c


def test_tampered_trees_are_refused(saved: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        trees = archive.read("booster.txt")
    bad = rewrite(saved, "booster.txt", trees.replace(b"leaf_value=", b"leaf_value=1", 1))
    with pytest.raises(ValidationFailed, match="does not match the hash"):
        load_model(bad)


def test_model_from_other_features_is_refused(saved: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(saved)) as archive:
        card = json.loads(archive.read("card.json"))
    card["features"] = card["features"][:-1]
    with pytest.raises(ValidationFailed, match="other features"):
        load_model(rewrite(saved, "card.json", json.dumps(card).encode()))
    card["format"] = "something/9"
    with pytest.raises(ValidationFailed, match="model format"):
        load_model(rewrite(saved, "card.json", json.dumps(card).encode()))


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x05\x06" + b"\x00" * 18])
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(ValidationFailed):
        load_model(data)


def test_missing_member_and_bad_json_are_named(saved: bytes) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(saved)) as src, zipfile.ZipFile(out, "w") as dst:
        dst.writestr("card.json", src.read("card.json"))
    with pytest.raises(ValidationFailed, match=r"lacks booster\.txt"):
        load_model(out.getvalue())
    with pytest.raises(ValidationFailed, match="not JSON"):
        load_model(rewrite(saved, "card.json", b"{"))


def test_unfitted_model_cannot_be_saved() -> None:
    with pytest.raises(ValidationFailed, match="not been fitted"):
        save_model(RiskModel())
