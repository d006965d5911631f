"""Regions inconsistent with the declared goods."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind, SimulatedScan
from smartcustoms.scans.analyses.concealment import (
    DEFAULT_THRESHOLDS,
    _conditional,
    _zscores,
    find_concealments,
)
from smartcustoms.scans.analyses.goods import goods_profile, normalise_hs_code
from smartcustoms.scans.analyses.history import HeadingProfile, LoadSummary
from smartcustoms.scans.analyses.imaging import Imaged, image
from smartcustoms.scans.analyses.metal_lines import METAL_LINE_ALARM_KG, metal_line
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.errors import ScanInputError
from tests.scans.helpers import simulated, simulated_full


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def _full_resolution(cargo: CargoKind, concealment: ConcealmentKind, seed: int) -> SimulatedScan:
    """Composition needs the scanner's own resolution (5.5 × 6 mm): at coarser pitch the board
    lines of cartons leave too few clean pixels per tile."""
    return simulated_full(cargo, concealment, ContainerType.DRY_40, seed)


def test_cigarettes_among_garment_cartons_are_found_where_they_are() -> None:
    sim = _full_resolution(CargoKind.TEXTILE_CARTONS, ConcealmentKind.CIGARETTES_IN_TEXTILES, 4)
    result = find_concealments(image(sim.scan), goods_profile(sim.truth.hs_code or ""))
    assert result.applicable and result.alarm
    (block,) = sim.truth.concealed
    hits = [r for r in result.regions if r.alarm and _overlaps(r.bbox, block.bbox_px)]
    assert hits
    assert all(r.kind in ("composition", "density") for r in hits)
    assert max(r.delta_z for r in hits) > 0.3  # tobacco ash reads as higher Z_eff


def test_metal_among_textiles_is_a_metal_region() -> None:
    sim = simulated(
        CargoKind.TEXTILE_BALES, ConcealmentKind.METAL_IN_ORGANICS, ContainerType.DRY_40, 6
    )
    result = find_concealments(image(sim.scan), goods_profile("6309.00"))
    metal = [r for r in result.regions if r.kind == "metal" and r.alarm]
    (block,) = sim.truth.concealed
    assert any(_overlaps(r.bbox, block.bbox_px) for r in metal)


def test_clean_textiles_raise_no_alarm() -> None:
    sim = _full_resolution(CargoKind.TEXTILE_CARTONS, ConcealmentKind.NONE, 10)
    result = find_concealments(image(sim.scan), goods_profile("6204.62"))
    assert result.applicable and not result.alarm


def test_mixed_goods_are_compared_where_they_can_be_seen() -> None:
    # Machinery is no longer "not compared": the tiles the beam crosses are compared with the
    # rest of the load at raised thresholds, and those too dark to read are named as unchecked.
    sim = simulated(CargoKind.MACHINERY, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    result = find_concealments(image(sim.scan), goods_profile("8474.20"))
    assert result.applicable and "mixed goods" in result.reason
    assert any("too dense to see through: not checked there" in n for n in result.notes)
    assert result.thresholds == pytest.approx(tuple(1.5 * t for t in DEFAULT_THRESHOLDS))
    assert not result.alarm


def test_inorganic_goods_are_searched_only_for_organic_blocks() -> None:
    # Declared as articles of steel (HS 73), the same honest load: only lower-Z blocks are
    # looked for, and a lighter block alone (a gap between pallets) never alarms.
    sim = simulated(CargoKind.MACHINERY, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    result = find_concealments(image(sim.scan), goods_profile("7308.90"))
    assert result.applicable and "inorganic goods" in result.reason
    assert {r.kind for r in result.regions} <= {"organic", "density", "thin-plate"}
    assert not any(r.alarm for r in result.regions if r.kind == "density")
    assert result.load is not None and result.load.density_score == 0.0


def _load(rng: np.random.Generator, rows: int = 16, cols: int = 120) -> np.ndarray:
    return rng.normal(0.0, 1.0, (rows, cols))


def test_a_whole_load_offset_or_stretched_scores_the_same() -> None:
    # An uncalibrated scanner reads garments at Z_eff 15 instead of 6.5, with a larger spread:
    # the tiles' scores are relative to the same load, so neither changes them.
    rng = np.random.default_rng(3)
    z = 6.5 + 0.1 * _load(rng)
    valid = np.ones(z.shape, dtype=bool)
    assert np.allclose(_zscores(8.5 + 2.5 * z, valid), _zscores(z, valid))


def test_a_heavy_tailed_load_is_measured_in_its_own_spread() -> None:
    # A fifth of the cartons honestly differ five times more than the rest: measured in the
    # core's robust σ alone, a tenth of all tiles would stand out beyond 3.5σ.
    rng = np.random.default_rng(4)
    z = _load(rng)
    odd = rng.random(z.shape) < 0.2
    z[odd] *= 5.0
    valid = np.ones(z.shape, dtype=bool)
    assert float(np.mean(np.abs(_zscores(z, valid)) > 3.5)) < 0.06
    # … while a block of real concealment in a Gaussian load still stands out.
    clean = _load(rng)
    clean[5:11, 40:48] += 6.0
    scores = _zscores(clean, valid)
    assert float(np.mean(scores[5:11, 40:48] > 3.5)) > 0.8


def test_a_slow_drift_along_the_container_is_not_a_block() -> None:
    # The air level drifts while the container passes: one end reads higher than the other.
    rng = np.random.default_rng(5)
    z = _load(rng) + np.linspace(0.0, 8.0, 120)[None, :]
    z[5:11, 60:68] += 6.0
    scores = _zscores(z, np.ones(z.shape, dtype=bool))
    ends = np.concatenate([scores[:, :15], scores[:, -15:]], axis=1)
    assert float(np.mean(np.abs(ends) > 3.5)) < 0.02
    assert float(np.mean(scores[5:11, 60:68] > 3.5)) > 0.8


def test_history_sets_the_heading_threshold() -> None:
    loads = [LoadSummary(6.0, 80.0, float(i), float(i) / 2) for i in range(40)]
    profile = HeadingProfile.from_loads("6309", loads)
    comp, dens = profile.thresholds(0.05) or (0, 0)
    assert comp == pytest.approx(39 - 0.025 * 39, abs=0.1) and dens == pytest.approx(
        comp / 2, abs=0.1
    )
    assert HeadingProfile("6309", tuple(loads[:5])).thresholds(0.05) is None
    assert HeadingProfile.from_dict(profile.to_dict()) == profile
    z = profile.load_z_scores(LoadSummary(9.0, 80.0, 0, 0))
    assert z is not None and z[0] > 4


@pytest.mark.parametrize("code", ["62", "6x09", "0009.00", "12345678901"])
def test_malformed_hs_codes(code: str) -> None:
    with pytest.raises(ScanInputError) as info:
        goods_profile(code)
    assert info.value.field == "hs_code"


def test_hs_codes_normalise_and_profile() -> None:
    assert normalise_hs_code("6309.00") == "630900"
    assert goods_profile("6309 00").light_organic
    assert not goods_profile("8703.23").light_organic
    assert goods_profile("2402.20").organic_only


def test_only_clothing_is_expected_as_cartons_on_a_grid() -> None:
    # The edge cue reads a block's sides against the cartons' grid: clothing (HS 61–62) only.
    assert goods_profile("6204.62").carton_grid and goods_profile("6109.10").carton_grid
    for code in ("5208.11", "6309.00", "0805.10", "6907.21", "2402.20", "8474.20"):
        assert not goods_profile(code).carton_grid


def test_z_eff_drifting_with_areal_density_leaves_no_residual_in_light_tiles() -> None:
    """Z_eff read through less goods drifts smoothly upwards; tiles lighter than nearly all the
    load (a missing carton) must not keep that drift as a "composition" residual."""
    rng = np.random.default_rng(3)
    lam = rng.uniform(40.0, 60.0, size=(10, 40))
    lam[4:6, 10:13] = 34.0  # a missing carton: far lighter than the rest
    z = 7.0 - 0.02 * (lam - 50.0)
    valid = np.ones(lam.shape, dtype=bool)
    residual = _conditional(z, valid, lam)
    assert np.abs(residual[4:6, 10:13]).max() < 0.05  # steps would leave ≈0.15
    assert np.abs(residual).max() < 0.05


def test_a_block_as_dense_as_the_cartons_spread_is_found_by_its_edges() -> None:
    # 5 % denser than the cartons it replaced – within their own spread tile by tile – with
    # its sides and top inside carton columns and tiers: the edges that break the grid find it.
    sim = _full_resolution(CargoKind.TEXTILE_CARTONS, ConcealmentKind.NONE, 10)
    imaged = image(sim.scan)
    c0, r0, c1, r1 = imaged.geometry.interior
    lam = imaged.decomposition.areal_density
    load = lam[r0:r1, c0:c1] > 15.0
    cols = np.flatnonzero(load.mean(axis=0) > 0.5) + c0
    rows = np.flatnonzero(load.mean(axis=1) > 0.5) + r0
    mid_c, mid_r = (cols.min() + cols.max()) // 2, (rows.min() + rows.max()) // 2
    box = (mid_c - 43, mid_r - 60, mid_c + 122, mid_r + 65)  # 0.9 × 0.75 m
    high, low = imaged.attenuation.high.copy(), imaged.attenuation.low.copy()
    areal = lam.copy()
    assert low is not None
    for a in (high, low, areal):
        a[box[1] : box[3], box[0] : box[2]] *= 1.05
    hidden = replace(
        imaged,
        attenuation=replace(imaged.attenuation, high=high, low=low),
        decomposition=replace(imaged.decomposition, areal_density=areal),
    )
    result = find_concealments(hidden, goods_profile("6204.62"))
    hits = [r for r in result.regions if r.alarm and _overlaps(r.bbox, box)]
    assert hits and all(r.kind == "density" for r in hits)
    # The same load without it: no alarm.
    assert not find_concealments(imaged, goods_profile("6204.62")).alarm
    # Declared as rolls of fabric (HS 52), no carton grid is expected: edges are not read.
    assert not find_concealments(hidden, goods_profile("5208.11")).alarm


def _with_bar(imaged: Imaged, at: tuple[int, int], rows: int, cols: int, z: float) -> Imaged:
    """``imaged`` with a bar of excess attenuation (α 1.5 at the high energy, the low energy's
    as ``z`` decomposes) added at ``at`` (row, col): a steel bar a few centimetres thick."""
    ratios = np.linspace(0.5, 1.5, 401)
    read = imaged.decomposer.z_of(np.full_like(ratios, 1.5), ratios, np.zeros_like(ratios))
    ratio = float(ratios[np.argmin(np.abs(read - z))])
    high = imaged.attenuation.high.copy()
    low = imaged.attenuation.low.copy() if imaged.attenuation.low is not None else None
    assert low is not None
    r, c = at
    high[r : r + rows, c : c + cols] += 1.5
    low[r : r + rows, c : c + cols] += 1.5 / ratio
    return replace(imaged, attenuation=replace(imaged.attenuation, high=high, low=low))


def test_a_thin_steel_bar_among_textiles_alarms_where_it_is() -> None:
    # A barrel or receiver 5 cm thick and 60 cm long is a long thin band: the block search
    # drops such bands as tier edges, the metal-line search finds it.
    sim = simulated(CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, ContainerType.DRY_40, 6)
    honest = image(sim.scan)
    goods = goods_profile("6309.00")
    clean = find_concealments(honest, goods)
    assert clean.metal_score is not None and clean.metal_score < clean.metal_threshold
    c0, r0, c1, r1 = honest.geometry.interior
    at = ((r0 + r1) // 2, (c0 + c1) // 2)
    rows = max(3, round(50 / sim.scan.pitch_y_mm))
    cols = round(600 / sim.scan.pitch_x_mm)
    # Steel read through the goods decomposes well above iron's 26 (metal_lines._LINE_MIN_Z).
    result = find_concealments(_with_bar(honest, at, rows, cols, 60.0), goods)
    bar = (at[1], at[0], at[1] + cols, at[0] + rows)
    assert result.metal_score is not None and result.metal_score >= result.metal_threshold
    assert any(r.kind == "metal" and r.alarm and _overlaps(r.bbox, bar) for r in result.regions)


def test_a_band_of_organic_excess_is_not_a_metal_line() -> None:
    sim = simulated(CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, ContainerType.DRY_40, 6)
    honest = image(sim.scan)
    c0, r0, c1, r1 = honest.geometry.interior
    at = ((r0 + r1) // 2, (c0 + c1) // 2)
    rows = max(3, round(50 / sim.scan.pitch_y_mm))
    cols = round(600 / sim.scan.pitch_x_mm)
    line = metal_line(_with_bar(honest, at, rows, cols, 7.0))
    bar = (at[1], at[0], at[1] + cols, at[0] + rows)
    assert line is None or not _overlaps(line.bbox, bar) or line.kg < METAL_LINE_ALARM_KG
