"""The learned concealment detector: a tile classifier trained on simulated scans.

Each tile of the load (:mod:`.learned_features`) gets a probability of being part of something
packed unlike the goods around it – trained, so far, on master cases of cigarettes among
textiles. The probabilities are averaged over 3 × 3 tiles (a block covers several; a lone odd
tile is noise) and connected tiles above :data:`REGION_LEVEL` form a region, scored by its
highest average. The scan's score is the highest such average anywhere. A region alarms at the
model's default threshold or, once the heading has history, at its past cleared scans' quantile
for the wanted false-alarm rate – never below the model's minimum.

The model is a LightGBM text file shipped in ``scans/data/detector/`` with a JSON file beside it
(the features it expects, how it was trained, its default alarm threshold);
``python -m smartcustoms.sandbox.scan_simulator.training`` makes both again from fixed seeds.
It runs only where it was trained to: dual-energy scans of textiles (HS chapters 50–63) at a
pitch of 4.8–6.2 mm or not much coarser (the training scans' scanners are drawn at random –
blur, halo, noise, stripes, tilt, fan beam, pitch – see
:mod:`smartcustoms.sandbox.scan_simulator.training`). Elsewhere the classical analysis
(:mod:`.concealment`) stands alone.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from smartcustoms.scans.analyses.goods import GoodsProfile
from smartcustoms.scans.analyses.history import HeadingProfile
from smartcustoms.scans.analyses.imaging import Imaged
from smartcustoms.scans.analyses.learned_features import (
    FEATURE_NAMES,
    TileFeatures,
    tile_features,
)
from smartcustoms.scans.errors import DetectorModelError

__all__ = [
    "DEFAULT_MODEL_PATH",
    "LEARNED_ANALYSIS",
    "REGION_LEVEL",
    "LearnedDetector",
    "LearnedRegion",
    "LearnedResult",
    "default_detector",
    "learned_applies",
    "scan_score_of",
    "smoothed",
]

LEARNED_ANALYSIS = "learned-concealment"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "data" / "detector" / "concealment.txt"
_PACKAGED = "data/detector/concealment.txt"
REGION_LEVEL = 0.2  # averaged tile probability that makes a tile part of a region
_MAX_PITCH_MM = 8.0  # the model saw 4.8–6.2 mm pixels; lines blur away at much coarser pitch
_CHAPTERS = range(50, 64)  # textiles and clothing: what the model was trained on


@dataclass(frozen=True)
class LearnedRegion:
    """Connected tiles the model finds unlike the load."""

    bbox: tuple[int, int, int, int]  # (col0, row0, col1, row1) in the image, end-exclusive
    score: float  # highest 3 × 3-averaged tile probability in the region
    peak_probability: float  # highest single tile probability
    tiles: int
    alarm: bool


@dataclass(frozen=True)
class LearnedResult:
    applicable: bool
    reason: str
    regions: tuple[LearnedRegion, ...]
    score: float  # the scan's score: the highest 3 × 3-averaged tile probability
    threshold: float
    threshold_source: str  # "default" or the heading's history
    version: str

    @property
    def alarm(self) -> bool:
        return any(r.alarm for r in self.regions)


def learned_applies(imaged: Imaged, goods: GoodsProfile | None) -> str | None:
    """Why the detector does not apply to this scan, or None when it does."""
    if imaged.attenuation.low is None:
        return "single-energy scan"
    if goods is None:
        return "no declared goods: the model knows textiles only"
    if int(goods.heading[:2]) not in _CHAPTERS:
        return f"{goods.description}: the model was trained on textiles only"
    if max(imaged.scan.pitch_x_mm, imaged.scan.pitch_y_mm) > _MAX_PITCH_MM:
        return f"pixels coarser than {_MAX_PITCH_MM:g} mm: the model was trained at 4.8–6.2 mm"
    return None


def smoothed(probs: NDArray[np.float64], usable: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Mean tile probability over each tile's 3 × 3 neighbourhood (usable tiles only)."""
    p = np.where(usable, probs, 0.0)
    n = ndimage.uniform_filter(usable.astype(np.float64), 3, mode="constant")
    s = ndimage.uniform_filter(p, 3, mode="constant") / np.maximum(n, 1e-9)
    return np.where(usable, s, 0.0)


def scan_score_of(probs: NDArray[np.float64], usable: NDArray[np.bool_]) -> float:
    """The scan's score from its tile probabilities (tile rows, tile columns)."""
    s = smoothed(probs, usable)
    return float(s.max()) if s.size else 0.0


@dataclass(frozen=True, eq=False)
class LearnedDetector:
    """A loaded model with its metadata."""

    booster: Any
    meta: dict[str, Any]
    digest: str

    @property
    def version(self) -> str:
        return f"{LEARNED_ANALYSIS}/{self.meta.get('version', '1')} (model {self.digest})"

    @property
    def default_threshold(self) -> float:
        return float(self.meta["default_threshold"])

    @property
    def min_threshold(self) -> float:
        return float(self.meta.get("min_threshold", self.default_threshold))

    def threshold_from(
        self, history: HeadingProfile | None, false_alarm_rate: float
    ) -> tuple[float, str]:
        """The alarm threshold and where it came from: the heading's history at
        ``false_alarm_rate`` (never below the model's minimum), else the model's default."""
        own = history.learned_threshold(false_alarm_rate) if history is not None else None
        if own is None or history is None:
            return self.default_threshold, "default"
        return max(own, self.min_threshold), (
            f"heading {history.heading} history ({history.n_scans} scans)"
        )

    @classmethod
    def load(cls, path: str | Path | None = None) -> LearnedDetector:
        """The model at ``path`` (default: the packaged one) and the ``.json`` beside it.
        Raises :class:`DetectorModelError` when either is missing, unreadable or not a model
        of these features."""
        import lightgbm as lgb

        if path is None:
            ref = resources.files("smartcustoms.scans").joinpath(_PACKAGED)
            name = _PACKAGED
            try:
                text = ref.read_text(encoding="utf-8")
                meta_text = (
                    resources.files("smartcustoms.scans")
                    .joinpath(_PACKAGED.replace(".txt", ".json"))
                    .read_text(encoding="utf-8")
                )
            except (OSError, UnicodeDecodeError) as exc:
                raise DetectorModelError(name, f"cannot be read ({exc})") from exc
        else:
            p = Path(path)
            name = str(p)
            try:
                text = p.read_text(encoding="utf-8")
                meta_text = p.with_suffix(".json").read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise DetectorModelError(name, f"cannot be read ({exc})") from exc
        try:
            meta = json.loads(meta_text)
            threshold = float(meta["default_threshold"])
            minimum = float(meta.get("min_threshold", threshold))
        except (ValueError, KeyError, TypeError) as exc:
            raise DetectorModelError(name, "its .json has no valid default_threshold") from exc
        if not (0.0 < threshold < 1.0 and 0.0 < minimum <= threshold):
            raise DetectorModelError(
                name, "default_threshold and min_threshold must lie between 0 and 1"
            )
        try:
            booster = lgb.Booster(model_str=text)
        except Exception as exc:  # lightgbm raises its own error for any malformed model
            raise DetectorModelError(name, f"is not a LightGBM model ({exc})") from exc
        if tuple(booster.feature_name()) != FEATURE_NAMES:
            raise DetectorModelError(
                name,
                f"expects {booster.num_feature()} other features than this version computes "
                f"({len(FEATURE_NAMES)}): train it again",
            )
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        return cls(booster, meta, digest)

    @classmethod
    def from_booster(cls, booster: Any, meta: dict[str, Any] | None = None) -> LearnedDetector:
        text = booster.model_to_string()
        return cls(booster, meta or {}, hashlib.sha256(text.encode()).hexdigest()[:12])

    def tile_probabilities_of(self, rows: NDArray[np.float32]) -> NDArray[np.float64]:
        """Probabilities for feature rows (tiles, features)."""
        if rows.shape[0] == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(rows, num_threads=1), dtype=np.float64)

    def probability_map(self, tf: TileFeatures) -> NDArray[np.float64]:
        out = np.zeros(tf.usable.shape)
        out[tf.usable] = self.tile_probabilities_of(tf.rows())
        return out

    def regions(self, tf: TileFeatures, threshold: float) -> tuple[list[LearnedRegion], float]:
        probs = self.probability_map(tf)
        s = smoothed(probs, tf.usable)
        found = s >= min(REGION_LEVEL, threshold)
        labels, _ = ndimage.label(found, structure=np.ones((3, 3), dtype=bool))
        out = []
        for k, sl in enumerate(ndimage.find_objects(labels), start=1):
            if sl is None:
                continue
            members = labels[sl] == k
            score = float(s[sl][members].max())
            out.append(
                LearnedRegion(
                    bbox=tf.tiles.bbox(sl[0], sl[1]),
                    score=score,
                    peak_probability=float(probs[sl][members].max()),
                    tiles=int(members.sum()),
                    alarm=score >= threshold,
                )
            )
        out.sort(key=lambda r: -r.score)
        return out, float(s.max()) if s.size else 0.0

    def detect(
        self,
        imaged: Imaged,
        goods: GoodsProfile | None,
        *,
        threshold: float | None = None,
        threshold_source: str | None = None,
    ) -> LearnedResult:
        """Regions of ``imaged``'s load the model flags; ``threshold`` defaults to the model's."""
        limit = self.default_threshold if threshold is None else threshold
        source = threshold_source or ("default" if threshold is None else "given")
        why = learned_applies(imaged, goods)
        if why is not None:
            return LearnedResult(False, why, (), 0.0, limit, "none", self.version)
        tf = tile_features(imaged)
        if tf.usable.sum() < 20:
            return LearnedResult(
                False, "too little load to compare regions", (), 0.0, limit, "none", self.version
            )
        regions, score = self.regions(tf, limit)
        return LearnedResult(
            True, "scored by the learned model", tuple(regions), score, limit, source, self.version
        )


class _Cache:
    lock = threading.Lock()
    detector: LearnedDetector | None = None


def default_detector() -> LearnedDetector:
    """The packaged model, loaded once per process."""
    with _Cache.lock:
        if _Cache.detector is None:
            _Cache.detector = LearnedDetector.load()
        return _Cache.detector
