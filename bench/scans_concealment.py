"""Concealment: 200 kg of cigarettes among textiles, found against false alarms on honest loads.

    .venv/bin/python bench/scans_concealment.py            # 60 + 60 history, 80 + 80 test scans
    .venv/bin/python bench/scans_concealment.py --n 20     # quicker

Target (issue 6): a 200 kg block of cigarettes among textiles found ≥ 90 % of the time at ≤ 5 %
false alarms; the full detection / false-alarm curve.

The loads: worn clothing in pressed bales (HS 6309.00, 0.38–0.50 g/cm³, Kenya's *mitumba*) and
new garments in cartons (HS 6204.62, 0.10–0.28 g/cm³), in 20 ft and 40 ft containers, with the
usual clutter (repair patches, dents). The cigarettes: master cases (0.21 g/cm³, tobacco with its
mineral ash) in a block of random shape – sometimes a single case deep along the beam, the hardest
case – anywhere in the load.

Protocol, as a site would run it: each heading's alarm thresholds come from its own *history* –
``--history`` honest scans per heading (seeds 50000+), kept apart from the test scans – at 5 %
false alarms (:class:`HeadingProfile`). The test set (seeds 60000+ honest, 70000+ with cigarettes)
is then scored once. A detection counts only if an alarmed region overlaps the block. The curve
scales both thresholds together. The analysis's defaults (no history) are reported beside it.
"""

from __future__ import annotations

import argparse
import time

from scans_common import header, parallel_map, rate

from smartcustoms.scans.analyses.concealment import (
    DEFAULT_THRESHOLDS,
    METAL_ALARM_KG,
    find_concealments,
)
from smartcustoms.scans.analyses.goods import goods_profile
from smartcustoms.scans.analyses.history import HeadingProfile
from smartcustoms.scans.analyses.imaging import image
from smartcustoms.scans.containers import ContainerType
from smartcustoms.scans.simulate import CargoKind, ConcealmentKind, SimulationSpec, simulate_scan

LOADS = {CargoKind.TEXTILE_BALES: "6309.00", CargoKind.TEXTILE_CARTONS: "6204.62"}
Row = tuple[str, bool, list[tuple[str, float, bool]], tuple[float, float, float, float]]


def score(job: tuple[CargoKind, bool, int]) -> Row:
    """(cargo, has cigarettes, [(kind, score, overlaps block)], load summary) for one scan."""
    cargo, conceal, seed = job
    spec = SimulationSpec(
        container=(ContainerType.DRY_20, ContainerType.DRY_40)[seed % 2],
        cargo=cargo,
        concealment=ConcealmentKind.CIGARETTES_IN_TEXTILES if conceal else ConcealmentKind.NONE,
        seed=seed,
    )
    sim = simulate_scan(spec)
    result = find_concealments(image(sim.scan), goods_profile(LOADS[cargo]))
    block = sim.truth.concealed[0].bbox_px if sim.truth.concealed else None
    regions = []
    for r in result.regions:
        if r.kind == "thin-plate":
            continue
        hit = block is not None and not (
            r.bbox[2] <= block[0]
            or block[2] <= r.bbox[0]
            or r.bbox[3] <= block[1]
            or block[3] <= r.bbox[1]
        )
        regions.append((r.kind, r.excess_kg if r.kind == "metal" else r.score, hit))
    load = result.load
    assert load is not None
    summary = (load.median_z, load.median_areal_density, load.composition_score, load.density_score)
    return cargo.value, conceal, regions, summary


def alarms(
    regions: list[tuple[str, float, bool]], limits: tuple[float, float], need_hit: bool
) -> bool:
    for kind, value, hit in regions:
        limit = (
            METAL_ALARM_KG if kind == "metal" else (limits[1] if kind == "density" else limits[0])
        )
        if value >= limit and (hit or not need_hit):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=80, help="test scans per heading and class")
    parser.add_argument("--history", type=int, default=60, help="history scans per heading")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    header(
        "Cigarettes among textiles",
        f"history {args.history}/heading (seeds 50000+); test {args.n} honest (60000+) and "
        f"{args.n} "
        f"with 200 kg of cigarettes (70000+) per heading; 20 ft and 40 ft alternating; 5.5 × 6 mm",
    )
    started = time.perf_counter()
    history_jobs = [(c, False, 50000 + i) for c in LOADS for i in range(args.history)]
    test_jobs = [
        (c, x, (70000 if x else 60000) + i)
        for c in LOADS
        for x in (False, True)
        for i in range(args.n)
    ]
    history = parallel_map(score, history_jobs, args.workers)
    test = parallel_map(score, test_jobs, args.workers)
    print(f"\n{len(history) + len(test)} scans in {time.perf_counter() - started:.0f} s")

    from smartcustoms.scans.analyses.history import LoadSummary

    profiles = {
        cargo.value: HeadingProfile.from_loads(
            LOADS[cargo][:4], [LoadSummary(*s) for c, _, _, s in history if c == cargo.value]
        )
        for cargo in LOADS
    }
    limits = {}
    for name, profile in profiles.items():
        limits[name] = profile.thresholds(0.05) or DEFAULT_THRESHOLDS
        print(
            f"{name}: thresholds from history (composition, density) = "
            f"({limits[name][0]:.1f}, {limits[name][1]:.1f})"
        )

    def evaluate(scale: float, own: bool) -> tuple[int, int, int, int]:
        fa = det = n_neg = n_pos = 0
        for cargo, conceal, regions, _ in test:
            lim = limits[cargo] if own else DEFAULT_THRESHOLDS
            lim = (lim[0] * scale, lim[1] * scale)
            if conceal:
                n_pos += 1
                det += alarms(regions, lim, need_hit=True)
            else:
                n_neg += 1
                fa += alarms(regions, lim, need_hit=False)
        return fa, n_neg, det, n_pos

    print("\n## Curve (thresholds from history, both scaled together)")
    print("scale   false alarms   detection")
    best = None
    for scale in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0):
        fa, n_neg, det, n_pos = evaluate(scale, own=True)
        print(f"{scale:5.2f}   {100 * fa / n_neg:10.1f} %   {100 * det / n_pos:8.1f} %")
        if fa / n_neg <= 0.05 and (best is None or det > best[2]):
            best = (scale, fa, det)
    fa, n_neg, det, n_pos = evaluate(1.0, own=True)
    print("\n## Operating point: each heading's history at 5 % false alarms (scale 1.0)")
    print(f"  false alarms   {rate(fa, n_neg)}   target ≤ 5 %")
    print(f"  detection      {rate(det, n_pos)}   target ≥ 90 %")
    for cargo in LOADS:
        sub = [t for t in test if t[0] == cargo.value]
        d = sum(alarms(r, limits[cargo.value], True) for _, x, r, _ in sub if x)
        f = sum(alarms(r, limits[cargo.value], False) for _, x, r, _ in sub if not x)
        n = sum(1 for t in sub if t[1])
        print(
            f"  {cargo.value:16s} detection {100 * d / n:5.1f} %, "
            f"false alarms {100 * f / (len(sub) - n):5.1f} %"
        )
    fa, n_neg, det, n_pos = evaluate(1.0, own=False)
    print(
        f"\nWithout history (default thresholds {DEFAULT_THRESHOLDS}): "
        f"detection {rate(det, n_pos)}, false alarms {rate(fa, n_neg)}"
    )


if __name__ == "__main__":
    main()
