"""Empty-container verification on simulated empties, with and without something inside."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind, simulate_scan
from smartcustoms.scans.analyses.empty import verify_empty
from smartcustoms.scans.analyses.imaging import image
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.materials import MaterialClass
from tests.scans.helpers import simulated, simulated_full, spec


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


@pytest.mark.parametrize(
    ("concealment", "container", "kg", "cls"),
    [
        (ConcealmentKind.SMALL_ORGANIC, ContainerType.DRY_20, 2.0, MaterialClass.ORGANIC),
        (ConcealmentKind.SMALL_STEEL, ContainerType.DRY_40, 1.0, MaterialClass.METAL),
        (ConcealmentKind.SMALL_ORGANIC, ContainerType.REEFER_40, 2.0, MaterialClass.ORGANIC),
    ],
)
def test_finds_and_weighs_a_small_object(
    concealment: ConcealmentKind, container: ContainerType, kg: float, cls: MaterialClass
) -> None:
    # Kilogram objects are a few pixels across: weigh them at the scanner's own resolution.
    sim = simulated_full(CargoKind.EMPTY, concealment, container, 3)
    verdict = verify_empty(image(sim.scan))
    assert not verdict.empty
    (target,) = sim.truth.concealed
    heaviest = verdict.objects[0]
    assert _overlaps(heaviest.bbox, target.bbox_px)
    # Small dense objects weigh light: blur spreads them and the log of a blurred transmission
    # under-counts (bench/scans_empty.py gives the spread).
    assert heaviest.mass_kg == pytest.approx(kg, rel=0.3)
    assert heaviest.material_class is cls


def test_a_clean_empty_container_is_empty() -> None:
    sim = simulated(CargoKind.EMPTY, ConcealmentKind.NONE, ContainerType.DRY_40, 3)
    verdict = verify_empty(image(sim.scan))
    assert verdict.empty, verdict.objects[:3]
    assert verdict.inspected_fraction > 0.9
    assert verdict.noise_kg < 0.05  # noise does not limit this check; structure and clutter do


def test_dents_weigh_nothing() -> None:
    """A dent moves steel without adding any: its weighed mass must be ≈0 even if it is seen."""
    for seed in range(20, 40):
        sim = simulate_scan(spec(CargoKind.EMPTY, seed=seed))
        if any(c.kind == "dent" for c in sim.truth.clutter):
            break
    verdict = verify_empty(image(sim.scan))
    dents = [c for c in sim.truth.clutter if c.kind == "dent"]
    for obj in verdict.objects:
        if any(_overlaps(obj.bbox, d.bbox_px) for d in dents):
            assert abs(obj.mass_kg) < 0.3


def test_slow_structure_is_removed_and_a_small_object_kept() -> None:
    """A row step that leans by a pixel along the length (what tilt and a fan beam's parallax
    leave of a floor edge) goes with the slow running median; a 10-pixel object stays."""
    import numpy as np

    from smartcustoms.scans.analyses.background import separable_noise, slow_along_rows

    rows, cols = 40, 1200
    edge = 30.0 + np.linspace(-1.0, 1.0, cols)
    img = np.where(np.arange(rows)[:, None] > edge[None, :], 5.0, 0.0).astype(np.float32)
    img[10:20, 600:610] += 2.0
    left = img - slow_along_rows(img, 240)
    assert np.abs(left[25:35, :550]).max() < 0.5  # the edge, but for its one-pixel steps
    assert left[10:20, 600:610].mean() > 1.8
    noise = np.random.default_rng(1).normal(size=(rows, cols)).astype(np.float32)
    noise[:, 100:200] *= 3.0  # behind a post: three times noisier
    col, _ = separable_noise(noise)
    assert col[100:200].mean() / col[300:].mean() == pytest.approx(3.0, rel=0.15)


def _end_walls_leaning(scan: Scan, px: float) -> Scan:
    """The scan with each row moved sideways by up to ±``px``/2 pixels from top to bottom:
    the end walls lean as a tilt leans them, while the roof and floor stay level – a tilt the
    frame, reading the roof and floor, does not see (as when the roof is clipped)."""
    rows = scan.shape[0]
    channels = []
    for ch in scan.channels:
        counts = ch.counts.astype(np.float64)
        out = np.stack(
            [
                ndimage.shift(counts[r], px * (r / rows - 0.5), order=1, mode="nearest")
                for r in range(rows)
            ]
        )
        channels.append(dataclasses.replace(ch, counts=out.astype(ch.counts.dtype)))
    return dataclasses.replace(scan, channels=tuple(channels))


@pytest.mark.parametrize("lean_px", [5.0, -5.0])
def test_end_walls_leaning_by_a_tilt_the_frame_missed_are_no_object(lean_px: float) -> None:
    """Unstraightened leaning end walls cross the columns next to them: their steep edges
    once weighed 15–18 kg here. The lean is read from the image and the posts left out."""
    sim = simulated(CargoKind.EMPTY, ConcealmentKind.NONE, ContainerType.DRY_20, 3)
    imaged = image(_end_walls_leaning(sim.scan, lean_px))
    assert not imaged.rectified  # the frame sees a level box: nothing straightened the ends
    verdict = verify_empty(imaged)
    assert verdict.empty, verdict.objects[:3]
    assert verdict.max_object_kg < 0.3


def _with_block(scan: Scan, rows: slice, cols: slice, alpha: float) -> Scan:
    """The scan with a block that attenuates by ``alpha`` (of the log transmission) painted
    into both channels' counts over ``rows`` × ``cols``."""

    def put(ch: Any) -> Any:
        counts = ch.counts.astype(np.float64)
        dark = np.asarray(ch.dark, dtype=np.float64).reshape(-1, 1)[rows]
        counts[rows, cols] = dark + (counts[rows, cols] - dark) * np.exp(-alpha)
        return dataclasses.replace(ch, counts=counts.astype(ch.counts.dtype))

    return dataclasses.replace(scan, channels=tuple(put(c) for c in scan.channels))


def test_an_object_filling_the_floor_band_is_weighed() -> None:
    # With a fan beam an object lying on the floor by the near wall shows in the floor's band
    # below the load space only, and fills most of its rows: the band's column term (a median
    # over its rows) took it for structure, and a 1 kg object weighed nothing (−0.15 kg).
    from smartcustoms.scans.analyses.empty import _floor_band

    sim = simulate_scan(spec(CargoKind.EMPTY, seed=3, fan_beam=True))
    honest = image(sim.scan)
    c0, _, c1, r1 = honest.geometry.interior
    band = _floor_band(honest, r1)
    assert band >= 6
    a = c0 + (c1 - c0) // 3
    rows, cols = slice(r1, r1 + int(0.75 * band)), slice(a, a + 12)
    imaged = image(_with_block(sim.scan, rows, cols, 0.35))
    added = (
        float(
            (imaged.decomposition.areal_density - honest.decomposition.areal_density).sum(
                dtype=np.float64
            )
        )
        * sim.scan.pixel_area_cm2
        / 1000.0
    )
    assert added > 0.8  # kg
    verdict = verify_empty(imaged)
    on = [o for o in verdict.objects if _overlaps(o.bbox, (a, r1, a + 12, rows.stop))]
    assert on and on[0].mass_kg > 0.4 * added, [(o.bbox, round(o.mass_kg, 2)) for o in on]


def test_cross_members_flanges_beside_their_webs_are_taken_off() -> None:
    # A cross-member seen as a comb in a fan beam's floor band: a web at every depth, flanges a
    # flange's width beside it at the heights the depth layers project them to, beyond the
    # columns masked as the member; they read as 0.7–1 kg objects. The neighbours' median
    # appearance, aligned on the webs to a fraction of a pixel, takes them off and leaves an
    # object lying beside a member.
    from smartcustoms.scans.analyses.empty import _webs, _without_members

    rows, cols, pitch = 32, 1400, 55.3
    rng = np.random.default_rng(4)
    fine = np.zeros((rows, cols * 10), dtype=np.float64)  # tenths of a pixel along the rows
    webs = 20.43 + pitch * np.arange(int((cols - 40) / pitch))
    for w in webs:
        c = round(w * 10)
        fine[:, c - 5 : c + 5] += 4.0
        for r in (4, 11, 18, 25):
            fine[r : r + 2, c + 5 : c + 90] += 2.0
    band = ndimage.gaussian_filter(fine.reshape(rows, cols, 10).mean(axis=2), 0.6)
    obj = (slice(8, 20), slice(int(webs[12]) + 12, int(webs[12]) + 24))
    band[obj] += 0.5
    band += rng.normal(0.0, 0.05, band.shape)
    members = np.zeros(cols, dtype=bool)
    for w in webs:
        members[round(w) - 2 : round(w) + 3] = True  # the web, not the flanges
    found = _webs(band.astype(np.float32), members)
    assert np.abs(np.sort(found) - (webs - 0.5)).max() < 0.3  # pixel i is centred on i
    out = _without_members(band.astype(np.float32), found, 16)
    free = ~members[None, :] & np.ones((rows, 1), dtype=bool)
    free[obj] = False
    assert np.abs(band[free]).max() > 1.5  # the flanges, before
    assert np.abs(out[free]).max() < 0.4
    assert out[obj].sum() == pytest.approx(0.5 * 12 * 12, rel=0.1)


def test_a_load_space_ending_above_the_floor_is_moved_down_to_it() -> None:
    # A fan beam's near roof cut off at the image's top and the far one read as the roof: the
    # load space placed from it ended 50-70 rows above the floor, and a 1 kg object lying on
    # the floor was never looked at. Both walls' floor edges from the underside place it.
    from smartcustoms.scans.analyses.empty import _floor_band, _walls_floor
    from smartcustoms.scans.analyses.frame import EdgeLine

    sim = simulate_scan(spec(CargoKind.EMPTY, seed=3, fan_beam=True))
    imaged = image(sim.scan)
    frame = imaged.frame
    assert frame is not None
    c0, r0, c1, r1 = imaged.geometry.interior
    under = EdgeLine(
        imaged.geometry.outer[3] - 0.5, 0.0, 0.0, frame.floor.c_mid, frame.floor.half, 1.0, 0.2
    )
    clipped = dataclasses.replace(frame, underside=under, roof_clipped=True)
    right = dataclasses.replace(imaged, frame=clipped)
    band = _floor_band(right, r1)
    top, _ = _walls_floor(right, r1, r1 + band)
    assert abs(top - r1) <= 2
    high = dataclasses.replace(
        right, geometry=dataclasses.replace(imaged.geometry, interior=(c0, r0, c1, r1 - 40))
    )
    moved, bottom = _walls_floor(high, r1 - 40, r1 - 40 + band)
    assert abs(moved - top) <= 1
    assert bottom >= moved + band - 2
