"""Train the learned concealment detector on simulated scans, reproducibly.

    python -m smartcustoms.sandbox.scan_simulator.training     # writes the packaged model
    python -m smartcustoms.sandbox.scan_simulator.training --out /tmp/model.txt \
        --scans 120 --workers 2

The training set is simulated by the sandbox's scan simulator
(:mod:`smartcustoms.sandbox.scan_simulator`) with fixed seeds from :data:`TRAIN_SEED`
(validation: :data:`VALIDATION_SEED`), far from the seeds the benchmarks and tests use (under
100,000): worn clothing in bales (HS 6309) and garments in cartons (HS 6204), 20 ft and 40 ft,
half of them with master cases of cigarettes of 120–300 kg somewhere in the load (the
benchmark's 200 kg among them). Each scan's scanner and scene are drawn at random from its seed
(domain randomisation, :func:`_randomised`): blur, halo along the detector array, stripes,
per-row air levels, dead rows, photon noise, linac jitter, pixel pitch, tilt, fan beam, the
goods' densities, honest board dividers in the goods, the cigarettes' partitions (absent in
half the scans), density and composition, the channels' order – so that no one thing the
simulator draws its own way (the master cases' 0.11 m partitions above all, which a real 9 MeV
scanner at 5 mm hardly resolves) carries the model. The metadata records each feature's share
of the model's gain. Every tile of
the load is one example (:mod:`.analyses.learned_features`): positive when at least half of it
lies in the cigarettes' box, negative when none does, left out in between. LightGBM learns the
tiles. The scan score (:mod:`.analyses.learned`) alarms by default at :data:`DEFAULT_THRESHOLD`
– an even chance, averaged over 3 × 3 tiles – and a heading's history may move it, never below
:data:`MIN_THRESHOLD`; the validation scans (honest and with cigarettes, never trained on) are
scored at the default and their figures go into the metadata file beside the model.

With the same LightGBM version, the same seeds give the same model (``deterministic``, one
thread per tree build).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_THRESHOLD",
    "MODEL_VERSION",
    "TRAIN_SEED",
    "VALIDATION_SEED",
    "main",
    "tile_labels",
    "training_spec",
]

TRAIN_SEED = 200_000
VALIDATION_SEED = 300_000
DEFAULT_THRESHOLD = 0.5
MODEL_VERSION = "2.0"  # raise when the features or the training set change
MIN_THRESHOLD = 0.2
_MASSES = (120.0, 160.0, 200.0, 200.0, 250.0, 300.0)
_PARAMS: dict[str, object] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
_ROUNDS = 200


@dataclass(frozen=True)
class ScanTiles:
    """One simulated scan's tiles: features, labels (1, 0 or -1 left out) and the truth."""

    seed: int
    cargo: str
    concealed: bool
    values: NDArray[np.float32]  # (tile rows, tile columns, features)
    usable: NDArray[np.bool_]  # (tile rows, tile columns)
    labels: NDArray[np.int8]  # (tile rows, tile columns)


def training_spec(seed: int, *, with_cigarettes: bool) -> object:
    """The simulation of training (or validation) scan ``seed``, its scene and scanner drawn at
    random from the seed (see :func:`_randomised`)."""
    from smartcustoms.sandbox.scan_simulator import (
        CargoKind,
        ConcealmentKind,
        SimulationSpec,
    )
    from smartcustoms.scans.container_types import ContainerType

    rng = np.random.default_rng(seed)
    cargo = (CargoKind.TEXTILE_BALES, CargoKind.TEXTILE_CARTONS)[int(rng.integers(2))]
    container = (ContainerType.DRY_20, ContainerType.DRY_40)[int(rng.integers(2))]
    kg = float(_MASSES[int(rng.integers(len(_MASSES)))])
    spec = SimulationSpec(
        container=container,
        cargo=cargo,
        concealment=(
            ConcealmentKind.CIGARETTES_IN_TEXTILES if with_cigarettes else ConcealmentKind.NONE
        ),
        concealment_kg=kg if with_cigarettes else None,
        seed=seed,
    )
    return _randomised(spec, np.random.default_rng([seed, 1]))


def _randomised(spec: object, rng: np.random.Generator) -> object:
    """Domain randomisation (issue 14): the scanner and the scene drawn wide per scan, so that no
    one thing the simulator draws its own way carries the model.

    * the detector: blur 1–3.5× the default along and across the array, a halo along the array
      of 0.1–3 % over 4–20 rows, residual gain drift (stripes) 0.1–0.8 %, per-row air-level
      drift 0–0.4 %, linac jitter 0.5–2.5×, 1–5× fewer photons, dead rows 0–1 %;
    * the geometry: pixels 4.8–6.2 mm either way, tilt 0–1° either way in half the scans (the
      tilted projection is the slow part of the simulation), a fan beam in half;
    * the goods: densities spread 0–15 % piece to piece, and in half the scans board dividers
      at a 7–16 cm pitch in 20–80 % of the cartons and bales (honest packaging lines);
    * the cigarettes: board partitions in only half the scans, then 0.3–1× as dense and 2–10 mm
      wide; case-to-case density 0–15 %, 0–30 % of the sticks' mass as cotton instead;
    * the low-energy channel written first in half the scans.
    """
    from smartcustoms.sandbox.scan_simulator import SimulationSpec

    assert isinstance(spec, SimulationSpec)
    d = spec.detector
    blur = rng.uniform(1.0, 3.5, size=2)
    dose = rng.uniform(1.0, 5.0)
    detector = replace(
        d,
        blur_sigma_px=(d.blur_sigma_px[0] * blur[0], d.blur_sigma_px[1] * blur[1]),
        halo_fraction=rng.uniform(0.001, 0.03),
        halo_rows=rng.uniform(4.0, 20.0),
        gain_drift=rng.uniform(0.001, 0.008),
        air_drift=rng.uniform(0.0, 0.004),
        pulse_jitter=d.pulse_jitter * rng.uniform(0.5, 2.5),
        quanta=(d.quanta[0] / dose, d.quanta[1] / dose),
        dead_row_rate=rng.uniform(0.0, 0.01),
    )
    pitch_x, pitch_y = rng.uniform(4.8, 6.2, size=2)
    lines = rng.random() < 0.5
    return replace(
        spec,
        detector=detector,
        pitch_x_mm=round(float(pitch_x), 2),
        pitch_y_mm=round(float(pitch_y), 2),
        rows=int(np.ceil(3.12 / (pitch_y / 1000))),  # as tall as the default 520 rows of 6 mm
        tilt_deg=float(rng.uniform(-1.0, 1.0)) if rng.random() < 0.5 else 0.0,
        fan_beam=bool(rng.random() < 0.5),
        density_spread=rng.uniform(0.0, 0.15),
        dividers=rng.uniform(0.2, 0.8) if rng.random() < 0.5 else 0.0,
        partitions=rng.uniform(0.3, 1.0) if lines else 0.0,
        partition_mm=rng.uniform(2.0, 10.0),
        case_spread=rng.uniform(0.0, 0.15),
        cigarette_mix=rng.uniform(0.0, 0.3),
        swap_channels=bool(rng.random() < 0.5),
    )


def tile_labels(
    origin: tuple[int, int],
    size: tuple[int, int],
    shape: tuple[int, int],
    box: tuple[int, int, int, int] | None,
) -> NDArray[np.int8]:
    """1 where at least half a tile lies in ``box``, 0 where none does, -1 in between."""
    nr, nc = shape
    if box is None:
        return np.zeros(shape, dtype=np.int8)
    (c0, r0), (tx, ty) = origin, size
    cs = c0 + np.arange(nc) * tx
    rs = r0 + np.arange(nr) * ty
    ox = np.clip(np.minimum(cs + tx, box[2]) - np.maximum(cs, box[0]), 0, None) / tx
    oy = np.clip(np.minimum(rs + ty, box[3]) - np.maximum(rs, box[1]), 0, None) / ty
    share = oy[:, None] * ox[None, :]
    out = np.full(shape, -1, dtype=np.int8)
    out[share >= 0.5] = 1
    out[share <= 0.0] = 0
    return out


def scan_tiles(job: tuple[int, bool, str | None]) -> ScanTiles:
    """Simulate one scan and return its tiles (cached as .npz in ``cache`` when given)."""
    seed, conceal, cache = job
    path = Path(cache) / f"{seed}-{int(conceal)}.npz" if cache else None
    if path is not None and path.exists():
        with np.load(path) as z:
            return ScanTiles(
                seed,
                str(z["cargo"]),
                conceal,
                z["values"],
                z["usable"].astype(bool),
                z["labels"].astype(np.int8),
            )
    from smartcustoms.sandbox.scan_simulator import SimulationSpec, simulate_scan
    from smartcustoms.scans.analyses.imaging import image
    from smartcustoms.scans.analyses.learned_features import tile_features

    spec = training_spec(seed, with_cigarettes=conceal)
    assert isinstance(spec, SimulationSpec)
    sim = simulate_scan(spec)
    tf = tile_features(image(sim.scan))
    box = sim.truth.concealed[0].bbox_px if sim.truth.concealed else None
    labels = tile_labels(tf.tiles.origin, tf.tiles.size_px, tf.tiles.valid.shape, box)
    out = ScanTiles(seed, spec.cargo.value, conceal, tf.values, tf.usable, labels)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path, cargo=out.cargo, values=out.values, usable=out.usable, labels=out.labels
        )
    return out


def simulate_set(base: int, n: int, workers: int, cache: str | None) -> list[ScanTiles]:
    """``n`` honest and ``n`` concealed scans from seed ``base`` on."""
    jobs = [(base + i, c, cache) for i in range(n) for c in (False, True)]
    if workers <= 1:
        return [scan_tiles(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(scan_tiles, jobs, chunksize=2))


def _stack(scans: Sequence[ScanTiles]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    x = np.concatenate([s.values[s.usable] for s in scans])
    y = np.concatenate([s.labels[s.usable] for s in scans])
    keep = y >= 0
    return x[keep], y[keep].astype(np.float32)


def main(argv: Sequence[str] | None = None) -> None:
    import lightgbm as lgb

    from smartcustoms.scans.analyses.learned import (
        DEFAULT_MODEL_PATH,
        LearnedDetector,
        scan_score_of,
    )
    from smartcustoms.scans.analyses.learned_features import FEATURE_NAMES

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--scans", type=int, default=100, help="training scans per class")
    parser.add_argument("--validation", type=int, default=30, help="validation scans per class")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--cache",
        default=None,
        help="folder to keep each scan's tiles in (empty it when the features change)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    train = simulate_set(TRAIN_SEED, args.scans, args.workers, args.cache)
    valid = simulate_set(VALIDATION_SEED, args.validation, args.workers, args.cache)
    simulated_s = time.perf_counter() - started
    x, y = _stack(train)
    dataset = lgb.Dataset(x, y, feature_name=list(FEATURE_NAMES), free_raw_data=True)
    booster = lgb.train(_PARAMS, dataset, num_boost_round=_ROUNDS)
    trained_s = time.perf_counter() - started - simulated_s

    gain = booster.feature_importance("gain")
    share = gain / max(float(gain.sum()), 1e-12)
    top = np.argsort(-share)[:10]

    detector = LearnedDetector.from_booster(booster)
    honest: list[float] = []
    concealed: list[float] = []
    for s in valid:
        probs = np.zeros(s.usable.shape)
        probs[s.usable] = detector.tile_probabilities_of(s.values[s.usable])
        score = scan_score_of(probs, s.usable)
        (concealed if s.concealed else honest).append(score)
    h, c = np.asarray(honest), np.asarray(concealed)
    meta = {
        "version": MODEL_VERSION,
        "features": list(FEATURE_NAMES),
        "params": _PARAMS,
        "rounds": _ROUNDS,
        "train": {
            "seed": TRAIN_SEED,
            "scans_per_class": args.scans,
            "tiles": int(y.size),
            "positive_tiles": int(y.sum()),
        },
        "validation": {"seed": VALIDATION_SEED, "scans_per_class": args.validation},
        "default_threshold": DEFAULT_THRESHOLD,
        "min_threshold": MIN_THRESHOLD,
        "validation_at_default": {
            "false_alarms": int((h >= DEFAULT_THRESHOLD).sum()),
            "honest_scans": int(h.size),
            "detections": int((c >= DEFAULT_THRESHOLD).sum()),
            "scans_with_cigarettes": int(c.size),
            "highest_honest_score": round(float(h.max()), 4),
            "lowest_score_with_cigarettes": round(float(c.min()), 4),
        },
        "gain_share_top": {FEATURE_NAMES[i]: round(float(share[i]), 4) for i in top},
        "randomised": " ".join((_randomised.__doc__ or "").split("\n\n")[1].split()),
        "lightgbm": lgb.__version__,
        "seconds": {"simulate": round(simulated_s), "train": round(trained_s)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(args.out))
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta | {"features": len(FEATURE_NAMES)}, indent=2))


if __name__ == "__main__":
    main()
