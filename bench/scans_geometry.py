"""Geometry: empty verification, small objects and imaged mass with the container tilted, in a
fan beam, with and without the frame finder (the baseline, in the same run on the same scans).

    .venv/bin/python bench/scans_geometry.py            # 4 scans of each kind per setting
    .venv/bin/python bench/scans_geometry.py --n 10     # more

For tilt 0, 0.1, 0.3, 0.5 and 1.0° (the right-hand end higher), parallel rays and a fan beam
(source 6 m before the container's centre plane, 0.4 m above its underside), on the training
simulator (smartcustoms.sandbox.scan_simulator): honest empty containers (false alarms: any
object the empty check weighs at 0.7 kg or more), empty containers holding 2 kg of organic
material or 1 kg of steel in turn (found: an object over the threshold overlapping it), and
pallet and textile-bale loads (imaged load against the true load). 20 ft and 40 ft boxes in
turn, at 11 × 12 mm pixels (the tests' pitch: four times quicker than the scanner's 5.5 × 6).
Counts with 95 % Wilson intervals; the same scans analysed without the frame finder (level box,
parallel rays assumed) are printed beside them. A scan whose container the analysis cannot find
at all counts as a false alarm (an empty one), a miss (an object) and outside ±5 % (a load).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scans_common import header, parallel_map, rate

from smartcustoms.sandbox.scan_simulator import (
    CargoKind,
    ConcealmentKind,
    SimulationSpec,
    simulate_scan,
)
from smartcustoms.scans.analyses.empty import DEFAULT_THRESHOLD_KG, verify_empty
from smartcustoms.scans.analyses.imaging import image
from smartcustoms.scans.analyses.mass import estimate_mass
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.errors import ScanInputError

TILTS = (0.0, 0.1, 0.3, 0.5, 1.0)
TYPES = (ContainerType.DRY_20, ContainerType.DRY_40)
Job = tuple[str, float, bool, int]


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int], pad: int = 2) -> bool:
    return not (
        a[2] + pad <= b[0] or b[2] + pad <= a[0] or a[3] + pad <= b[1] or b[3] + pad <= a[1]
    )


def run(job: Job) -> tuple[Job, list[float]]:
    """One scan, analysed with and without the frame finder: [with, without] per figure."""
    kind, tilt, fan, seed = job
    concealment = ConcealmentKind.NONE
    cargo = CargoKind.EMPTY
    if kind == "object":
        concealment = (ConcealmentKind.SMALL_ORGANIC, ConcealmentKind.SMALL_STEEL)[seed % 2]
    elif kind == "load":
        cargo = (CargoKind.PALLETS, CargoKind.TEXTILE_BALES)[seed % 2]
    sim = simulate_scan(
        SimulationSpec(
            container=TYPES[(seed // 2) % 2],
            cargo=cargo,
            concealment=concealment,
            seed=seed,
            pitch_x_mm=11.0,
            pitch_y_mm=12.0,
            rows=260,
            tilt_deg=tilt,
            fan_beam=fan,
        )
    )
    out: list[float] = []
    for finder in (True, False):
        try:
            im = image(sim.scan, frame_finder=finder)
        except (ScanInputError, ValueError):
            # No container found: an empty one cannot be cleared, nothing is found or weighed.
            out.append({"empty": 1.0, "object": 0.0, "load": float("nan")}[kind])
            continue
        if kind == "load":
            m = estimate_mass(im)
            out.append(100.0 * (m.imaged_net_kg / sim.truth.net_kg - 1.0))
            continue
        verdict = verify_empty(im)
        if verdict.inspected_fraction == 0.0:
            mode = "frame finder" if finder else "baseline"
            print(f"# no load space found: {kind} tilt {tilt} fan {fan} seed {seed} ({mode})")
        if kind == "empty":
            out.append(float(not verdict.empty))
            continue
        truth = sim.truth.concealed[0].bbox_px
        out.append(
            float(
                any(
                    o.kind == "object"
                    and o.mass_kg >= DEFAULT_THRESHOLD_KG
                    and _overlaps(im.to_image_box(o.bbox), truth)
                    for o in verdict.objects
                )
            )
        )
    return job, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4, help="scans of each kind per setting")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--base", type=int, default=31000, help="first seed")
    args = parser.parse_args()
    header(
        "Scan geometry: tilt and fan beam, with and without the frame finder",
        f"n={args.n} per kind and setting, seeds {args.base}+, 11 × 12 mm pixels, "
        f"{args.workers} worker(s)",
    )
    jobs: list[Job] = [
        (kind, tilt, fan, args.base + i)
        for fan in (False, True)
        for tilt in TILTS
        for kind in ("empty", "object", "load")
        for i in range(args.n)
    ]
    started = time.perf_counter()
    results = parallel_map(run, jobs, args.workers)
    print(f"# {len(jobs)} scans in {time.perf_counter() - started:.0f} s\n")
    for fan in (False, True):
        for tilt in TILTS:
            rows = {k: [r for (kd, t, f, _), r in results if (kd, t, f) == (k, tilt, fan)]
                    for k in ("empty", "object", "load")}  # fmt: skip
            beam = "fan" if fan else "parallel"
            print(f"## tilt {tilt:.1f}°, {beam} rays")
            for label, col in (("frame finder", 0), ("baseline   ", 1)):
                empties = [int(r[col]) for r in rows["empty"]]
                found = [int(r[col]) for r in rows["object"]]
                errors = np.array([r[col] for r in rows["load"]])
                within = int((np.abs(np.nan_to_num(errors, nan=100.0)) <= 5.0).sum())
                print(
                    f"  {label}: empty false alarms {rate(sum(empties), len(empties))}; "
                    f"2 kg organic / 1 kg steel found {rate(sum(found), len(found))}; "
                    f"mass median error {np.nanmedian(errors):+.1f} %, "
                    f"within ±5 % {rate(within, len(errors))}"
                )
    print("\nAll figures are from simulated scans (the training simulator), not real cargo.")


if __name__ == "__main__":
    main()
