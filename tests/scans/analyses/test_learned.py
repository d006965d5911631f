"""The learned concealment detector: its packaged model, what it finds and what it refuses."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind
from smartcustoms.sandbox.scan_simulator.training import tile_labels
from smartcustoms.scans import analyze
from smartcustoms.scans.analyses.goods import goods_profile
from smartcustoms.scans.analyses.history import HeadingProfile, LoadSummary
from smartcustoms.scans.analyses.imaging import image
from smartcustoms.scans.analyses.learned import (
    DEFAULT_MODEL_PATH,
    LearnedDetector,
    default_detector,
)
from smartcustoms.scans.analyses.learned_features import FEATURE_NAMES, tile_features
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.errors import DetectorModelError
from tests.scans.helpers import simulated, simulated_full

NOW = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def test_packaged_model_loads_with_its_metadata() -> None:
    detector = default_detector()
    assert detector is default_detector()  # loaded once
    assert detector.version.startswith("learned-concealment/")
    assert 0.0 < detector.default_threshold < 1.0
    assert tuple(detector.booster.feature_name()) == FEATURE_NAMES
    assert detector.meta["train"]["seed"] >= 100_000  # far from the bench's and tests' seeds
    assert DEFAULT_MODEL_PATH.stat().st_size < 2_000_000


def test_cigarettes_among_garment_cartons_are_found_where_they_are() -> None:
    sim = simulated_full(
        CargoKind.TEXTILE_CARTONS, ConcealmentKind.CIGARETTES_IN_TEXTILES, ContainerType.DRY_40, 4
    )
    result = default_detector().detect(image(sim.scan), goods_profile("6204.62"))
    assert result.applicable and result.alarm and result.threshold_source == "default"
    (block,) = sim.truth.concealed
    hits = [r for r in result.regions if r.alarm and _overlaps(r.bbox, block.bbox_px)]
    assert hits and result.score >= result.threshold
    assert all(_overlaps(r.bbox, block.bbox_px) for r in result.regions if r.alarm)


def test_clean_textiles_are_not_flagged() -> None:
    sim = simulated_full(CargoKind.TEXTILE_CARTONS, ConcealmentKind.NONE, ContainerType.DRY_40, 10)
    result = default_detector().detect(image(sim.scan), goods_profile("6204.62"))
    assert result.applicable and not result.alarm
    assert result.score < result.threshold


def test_it_runs_only_where_it_was_trained() -> None:
    detector = default_detector()
    coarse = simulated(CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, ContainerType.DRY_20, 2)
    result = detector.detect(image(coarse.scan), goods_profile("6309.00"))
    assert not result.applicable and "4.8–6.2 mm" in result.reason
    full = simulated_full(CargoKind.TEXTILE_CARTONS, ConcealmentKind.NONE, ContainerType.DRY_40, 10)
    other = detector.detect(image(full.scan), goods_profile("1006.30"))
    assert not other.applicable and "textiles" in other.reason


def test_analyze_reports_learned_regions_with_their_version() -> None:
    sim = simulated_full(
        CargoKind.TEXTILE_CARTONS, ConcealmentKind.CIGARETTES_IN_TEXTILES, ContainerType.DRY_40, 4
    )
    report = analyze(sim.scan, hs_code="6204.62", now=NOW)
    assert report.alarm_decision == "ALARM"
    learned = [f for f in report.findings if f.analysis == "learned-concealment"]
    assert learned
    (block,) = sim.truth.concealed
    f = learned[0]
    assert f.region is not None and _overlaps(f.region.bbox_px, block.bbox_px)
    assert f.category == "CONCEALMENT" and f.flag == "THREAT"
    assert f.analysis_version == default_detector().version
    assert 0.0 < f.probability <= 1.0 and f.details["kind"] == "learned"
    check = report.check("concealment")
    assert check is not None and check.status == "fail"
    assert check.figures["learned_score"] == pytest.approx(f.probability)
    data = json.loads(json.dumps(report.to_dict()))
    assert any(t["analysis"] == "learned-concealment" for t in data["threat_objects"])
    plain = analyze(sim.scan, hs_code="6204.62", now=NOW, use_learned=False)
    assert not any(f.analysis == "learned-concealment" for f in plain.findings)


def test_history_sets_the_learned_threshold() -> None:
    loads = [LoadSummary(6.0, 80.0, 1.0, 1.0, learned_score=i / 100) for i in range(40)]
    profile = HeadingProfile.from_loads("6204", loads)
    limit = profile.learned_threshold(0.05)
    assert limit == pytest.approx(float(np.quantile([i / 100 for i in range(40)], 0.95)), abs=1e-5)
    old = HeadingProfile.from_loads("6204", [LoadSummary(6.0, 80.0, 1.0, 1.0)] * 40)
    assert old.learned_threshold(0.05) is None  # scans analysed before the detector existed
    assert HeadingProfile.from_dict(profile.to_dict()) == profile
    assert HeadingProfile.from_dict(old.to_dict()) == old


def _copy_model(tmp_path: Path) -> Path:
    out = tmp_path / "model.txt"
    shutil.copy(DEFAULT_MODEL_PATH, out)
    shutil.copy(DEFAULT_MODEL_PATH.with_suffix(".json"), out.with_suffix(".json"))
    return out


def test_a_copied_model_loads_and_agrees(tmp_path: Path) -> None:
    copy = LearnedDetector.load(_copy_model(tmp_path))
    assert copy.version == default_detector().version


def test_bad_model_files_are_a_typed_error(tmp_path: Path) -> None:
    path = _copy_model(tmp_path)
    path.write_text("this is not a model\n")
    with pytest.raises(DetectorModelError) as info:
        LearnedDetector.load(path)
    assert info.value.code == "scan_detector_model_invalid" and "LightGBM" in info.value.problem

    path = _copy_model(tmp_path)
    path.with_suffix(".json").write_text("{}")
    with pytest.raises(DetectorModelError, match="default_threshold"):
        LearnedDetector.load(path)

    path = _copy_model(tmp_path)
    path.with_suffix(".json").unlink()
    with pytest.raises(DetectorModelError, match="cannot be read"):
        LearnedDetector.load(path)

    with pytest.raises(DetectorModelError, match="cannot be read"):
        LearnedDetector.load(tmp_path / "missing.txt")

    path = _copy_model(tmp_path)
    text = path.read_text().replace("v_spacing_med", "something_else")
    path.write_text(text)
    with pytest.raises(DetectorModelError, match="train it again"):
        LearnedDetector.load(path)


def test_features_cover_every_tile() -> None:
    sim = simulated_full(CargoKind.TEXTILE_CARTONS, ConcealmentKind.NONE, ContainerType.DRY_40, 10)
    tf = tile_features(image(sim.scan))
    assert tf.values.shape == (*tf.usable.shape, len(FEATURE_NAMES))
    assert np.isfinite(tf.values).all() and tf.usable.sum() > 500


def test_tile_labels() -> None:
    labels = tile_labels((10, 20), (10, 10), (3, 4), (16, 20, 35, 30))
    assert labels.tolist() == [[-1, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert (tile_labels((0, 0), (10, 10), (2, 2), None) == 0).all()


def test_no_single_feature_carries_the_packaged_model() -> None:
    # Issue 14: trained on randomised scenes and scanners, no feature holds over 30 % of the gain
    # (the model before it had 93 % in three line features the simulator alone draws).
    detector = default_detector()
    gain = detector.booster.feature_importance("gain")
    share = gain / gain.sum()
    assert share.max() <= 0.30
    top = detector.meta["gain_share_top"]
    best = FEATURE_NAMES[int(np.argmax(share))]
    assert next(iter(top)) == best and top[best] == pytest.approx(share.max(), abs=1e-4)


def test_a_tile_unlike_the_stacks_beside_it_stands_out() -> None:
    from smartcustoms.scans.analyses.learned_features import _beside

    lam = np.full((4, 12), 60.0)
    lam[:, 5] = 90.0  # one stack denser than the others, all the way up
    lam[2, 8] = 80.0
    ok = np.ones(lam.shape, dtype=bool)
    ok[0, 9] = False
    lam[0, 9] = 1000.0  # unusable tiles do not count
    beside = _beside(lam, ok)
    assert beside[2, 8] == 60.0 and beside[1, 5] == 60.0
    assert (lam - beside)[2, 8] == 20.0 and (lam - beside)[1, 5] == 30.0
    assert beside[0, 7] == 60.0
