"""Imaged mass against the truth and against declarations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from smartcustoms.sandbox.scan_simulator import (
    CargoKind,
    ConcealmentKind,
    DetectorModel,
    simulate_scan,
)
from smartcustoms.scans.analyses import mass
from smartcustoms.scans.analyses.composition import CELLULOSIC, composition_of
from smartcustoms.scans.analyses.imaging import image
from smartcustoms.scans.analyses.mass import _above_floor, _fan_bands, _tail, estimate_mass
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.physics.calibration import geant4_calibration
from tests.scans.helpers import simulated, spec


@pytest.mark.parametrize(
    ("cargo", "container"),
    [
        (CargoKind.TEXTILE_BALES, ContainerType.DRY_20),
        (CargoKind.BULK_BAGS, ContainerType.DRY_40),
        (CargoKind.DRUMS, ContainerType.DRY_20),
        (CargoKind.PALLETS, ContainerType.REEFER_40),
    ],
)
def test_imaged_load_within_five_percent(cargo: CargoKind, container: ContainerType) -> None:
    sim = simulated(cargo, ConcealmentKind.NONE, container, 1)
    m = estimate_mass(image(sim.scan))
    assert m.imaged_net_kg == pytest.approx(sim.truth.net_kg, rel=0.05)
    assert m.wall_source == "measured"
    # Drums of liquid weigh right with this clean detector but about 15 % light with a 2 %
    # halo, and the image cannot tell which detector it came from: their mass is a lower bound.
    # (Half their loaded area is darker than 3 % of the load at its height.)
    assert m.lower_bound is (cargo is CargoKind.DRUMS)


def test_declared_goods_mass_is_compared_directly_the_tare_never_enters() -> None:
    sim = simulated(CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, ContainerType.DRY_20, 1)
    im = image(sim.scan)
    goods = sim.truth.net_kg  # the goods with their packaging, without the container
    honest = estimate_mass(im, declared_gross_kg=goods)
    assert honest.consistent and honest.tare_source == "typical"
    # A tare changes the reported container gross, never the comparison.
    given = estimate_mass(im, declared_gross_kg=goods, tare_kg=9999.0)
    assert given.difference_kg == honest.difference_kg and given.consistent
    assert given.imaged_gross_kg == pytest.approx(given.imaged_net_kg + 9999.0)
    light = estimate_mass(im, declared_gross_kg=goods - 2500, tare_kg=sim.truth.tare_kg)
    assert light.consistent is False and light.tare_source == "given"
    assert light.difference_kg == pytest.approx(2500, rel=0.2) and light.z_score is not None
    assert light.z_score > 3
    # Declaring the container's gross (goods + tare) as the goods' is a heavy discrepancy.
    assert estimate_mass(im, declared_gross_kg=sim.truth.gross_kg).consistent is False
    assert estimate_mass(im).consistent is None


def test_dense_machinery_is_only_a_lower_bound() -> None:
    sim = simulated(CargoKind.MACHINERY, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    m = estimate_mass(image(sim.scan), declared_gross_kg=sim.truth.net_kg)
    assert m.lower_bound
    assert m.imaged_net_kg < sim.truth.net_kg  # mass hides in edge-on plates
    assert m.consistent  # lighter than declared is not held against a lower bound


def test_an_arrays_halo_leaves_light_goods_weighed_right_and_hides_mass_in_dense_parts() -> None:
    # 2 % of each detector's signal leaked over ±12 rows, as real detector arrays show (the
    # simulator's option for domain randomisation): light goods still weigh right, dense
    # machinery reads lighter still than without it.
    halo = DetectorModel(halo_fraction=0.02, halo_rows=12.0)
    bales = simulate_scan(spec(CargoKind.TEXTILE_BALES, detector=halo))
    m = estimate_mass(image(bales.scan))
    assert m.imaged_net_kg == pytest.approx(bales.truth.net_kg, rel=0.05) and not m.lower_bound
    parts = simulate_scan(spec(CargoKind.MACHINERY, container=ContainerType.DRY_40, detector=halo))
    clean = simulated(CargoKind.MACHINERY, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    with_halo, without = estimate_mass(image(parts.scan)), estimate_mass(image(clean.scan))
    assert with_halo.imaged_net_kg < 0.97 * without.imaged_net_kg < parts.truth.net_kg
    # No pixel of it reaches the ceiling, yet its mass is a lower bound: part of its loaded
    # area reads darker than 3 % of the load at its height, where a 3 % array's borrowed signal
    # may be all a pixel reads. The bales have no such area.
    assert with_halo.impenetrable_fraction < 0.002
    assert with_halo.lower_bound and with_halo.dark_area_fraction > 0.02
    assert with_halo.hideable_fraction >= 0.05
    assert m.dark_area_fraction < 0.005 and m.hideable_fraction < 0.02


def test_a_leaky_array_that_empties_the_dark_pixels_still_marks_the_mass_a_lower_bound() -> None:
    # A 10 % halo: the dark parts lose so much of their areal density that they hold only about
    # 12 % of the imaged mass, under the 15 % that mass/1.2's criterion (the dark pixels' share
    # of the imaged MASS) required – it left this load, weighed at half its truth, unflagged.
    # Their share of the loaded AREA does not shrink with the loss.
    leaky = DetectorModel(halo_fraction=0.1)
    sim = simulate_scan(spec(CargoKind.MACHINERY, container=ContainerType.DRY_40, detector=leaky))
    m = estimate_mass(image(sim.scan))
    assert m.imaged_net_kg < 0.6 * sim.truth.net_kg
    assert m.impenetrable_fraction < 0.002
    assert m.dark_area_fraction > 0.02 and m.hideable_fraction >= 0.05
    assert m.lower_bound


@pytest.mark.parametrize("cargo", [CargoKind.TEXTILE_BALES, CargoKind.BULK_BAGS])
def test_a_fan_beam_weighs_the_load_in_the_floors_parallax_band(cargo: CargoKind) -> None:
    # In a fan beam the near and far walls' floor edges land rows apart and the load space
    # stops above the higher one; the load standing on the floor reaches into that band (half
    # the band's rows' worth of it, on average over the width) and is weighed there too.
    sim = simulate_scan(spec(cargo, fan_beam=True))
    im = image(sim.scan)
    bands = _fan_bands(im)
    assert bands is not None
    (_, roof_end), (floor_start, floor_end) = bands.roof, bands.floor
    assert floor_end > floor_start and roof_end == im.geometry.interior[1]
    assert floor_start <= im.geometry.interior[3]
    assert bands.above_floor.shape == (floor_end - floor_start,)
    assert bands.above_floor[0] == pytest.approx(1.0) and bands.above_floor[-1] == 0.0
    m = estimate_mass(im)
    assert m.imaged_net_kg == pytest.approx(sim.truth.net_kg, rel=0.05)
    assert not m.lower_bound
    # Parallel rays: no band.
    assert (
        _fan_bands(image(simulated(cargo, ConcealmentKind.NONE, ContainerType.DRY_20, 1).scan))
        is None
    )


def test_the_share_of_a_floor_band_rays_width_above_the_floor_follows_the_source() -> None:
    # Source 8 m before the centre plane, the floor's top 1 m below it, 2.35 m wide: the far
    # wall's floor edge lands at 100 + 1.0·8/9.175/0.005 ≈ 274.4, the near wall's at ≈ 334.4.
    # A ray between them is above the floor on the source's side of where it meets it.
    d, w, py, src = 8.0, 2.35, 0.005, 100.0
    far = src + 1.0 * d / (d + w / 2) / py
    near = src + 1.0 * d / (d - w / 2) / py
    rows = np.array([50.0, far - 1, far + 0.01, (far + near) / 2, near - 0.01, near + 1])
    share = _above_floor(rows, src, -1.0, d, w, py)
    assert share[0] == 1.0 and share[1] == 1.0  # above the source, above the far edge
    assert share[2] == pytest.approx(1.0, abs=0.01) and share[4] == pytest.approx(0.0, abs=0.01)
    assert share[5] == 0.0
    # Rows are magnified more near the source: half-way down the band, less than half is left.
    assert 0.4 < share[3] < 0.5
    assert np.all(np.diff(share) <= 0)
    # A source below the floor (a low source under a high trailer): mirrored, above the source.
    up = _above_floor(np.array([src - 200.0, src - 1.0, src + 5.0]), src, 0.5, d, w, py)
    assert up[0] == 1.0 and up[2] == 0.0


def test_a_floor_band_placed_too_high_is_carried_down_to_the_loads_foot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A roof clipped at the image's top or misread places the floor's edges rows too high: the
    # band then ends above the lower floor edge, and the load's foot seen below it (through the
    # near side of the width) must still be weighed against the bare columns.
    def cut(b0: int, b1: int) -> tuple[int, int]:
        return b0, b0 + (b1 - b0) // 3

    right, moved, truth = _weighed_with_the_band_moved(monkeypatch, CargoKind.BULK_BAGS, cut)
    assert moved == pytest.approx(right, rel=0.01)
    assert moved == pytest.approx(truth, rel=0.05)


def _weighed_with_the_band_moved(
    monkeypatch: pytest.MonkeyPatch,
    kind: CargoKind,
    move: Callable[[int, int], tuple[int, int]],
) -> tuple[float, float, float]:
    """A fan-beam scan of ``kind`` weighed with its floor band where the geometry puts it and
    where ``move`` puts it (its rows inside the geometry's); and the true net mass."""
    sim = simulate_scan(spec(kind, fan_beam=True))
    im = image(sim.scan)
    bands = _fan_bands(im)
    assert bands is not None
    right = estimate_mass(im).imaged_net_kg
    b0, b1 = bands.floor
    n0, n1 = move(b0, b1)
    moved = replace(bands, floor=(n0, n1), above_floor=bands.above_floor[n0 - b0 : n1 - b0])
    monkeypatch.setattr(mass, "_fan_bands", lambda _: moved)
    return right, estimate_mass(im).imaged_net_kg, sim.truth.net_kg


def test_the_floor_bands_tail_ends_where_the_load_does_never_at_a_chassis_below() -> None:
    wall = 3.0
    lam = np.full((60, 40), wall)
    lam[:30, 20:] = 40.0  # goods in half the columns, the rest bare
    lam[30:36, 20:] = np.linspace(30.0, 2.0, 6)[:, None] + wall  # the foot, fading
    lam[36:40] = 0.0  # air under the floor
    lam[40:50, 25:30] = 60.0  # a wheel under the loaded columns
    end = _tail(lam, (26, 30), (10, 28), 2.2 * wall, wall)
    assert end == 36
    # The floor's cross-members below the band, the same in every column: it keeps its end.
    floor = lam.copy()
    floor[30:36] = wall
    floor[30:36, ::5] = 12.0
    assert _tail(floor, (26, 30), (10, 28), 2.2 * wall, wall) == 30
    # No bare columns to compare with: the band is not carried down.
    full = lam.copy()
    full[:30, :] = 40.0
    assert _tail(full, (26, 30), (10, 28), 2.2 * wall, wall) == 30


def test_a_floor_band_placed_a_few_rows_low_leaves_the_floor_edge_out_of_the_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Placed a few rows low, the band leaves the far wall's floor edge in the load space's
    # rows, where it would read as load all along the container: those rows, loaded in every
    # column while the rows above them are not, are weighed in the band instead.
    right, moved, _ = _weighed_with_the_band_moved(
        monkeypatch, CargoKind.PALLETS, lambda b0, b1: (b0 + 4, b1)
    )
    assert moved == pytest.approx(right, rel=0.005)


def test_the_gaps_between_stacks_of_cartons_show_the_bare_floor_band() -> None:
    # Cartons along the whole length, a fan beam and a tilt: only the narrow gaps between the
    # stacks (about 1 % of the columns) show the bare band; measured against them the band
    # holds the load's foot, where carrying the rows beside it into the band misses some.
    sim = simulate_scan(
        spec(
            CargoKind.TEXTILE_CARTONS,
            fan_beam=True,
            container=ContainerType.DRY_40,
            tilt_deg=-0.5,
        )
    )
    m = estimate_mass(image(sim.scan))
    assert not m.lower_bound
    assert m.imaged_net_kg == pytest.approx(sim.truth.net_kg, rel=0.02)


def test_goods_of_a_known_composition_weigh_right_when_the_ratio_scale_is_off() -> None:
    # A calibration whose low channel is another scanner's (Compton 3 % off) shifts the
    # dual-energy ratio: the decomposition reads the bales as another material and weighs them
    # 6 % light. Weighed as what the heading says they are, from the high channel alone, they
    # weigh right – the ratio is not needed.
    sim = simulated(CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, ContainerType.DRY_20, 1)
    g = geant4_calibration()
    off = replace(g, low=(g.low[0], 0.97 * g.low[1], g.low[2]))
    im = image(sim.scan, off)
    assert estimate_mass(im).imaged_net_kg < 0.95 * sim.truth.net_kg
    m = estimate_mass(im, composition=composition_of(sim.truth.hs_code))
    assert m.composition == CELLULOSIC.name
    assert m.imaged_net_kg == pytest.approx(sim.truth.net_kg, rel=0.03)
    # With the right calibration both readings agree.
    right = image(sim.scan)
    both = [estimate_mass(right, composition=c).imaged_net_kg for c in (None, CELLULOSIC)]
    assert both[0] == pytest.approx(both[1], rel=0.01)


def test_the_mass_check_weighs_goods_as_their_heading_says_they_are_made() -> None:
    from smartcustoms.scans import analyze

    sim = simulated(CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, ContainerType.DRY_20, 1)
    textiles = analyze(sim.scan, hs_code=sim.truth.hs_code, use_learned=False).check("mass")
    machinery = analyze(sim.scan, hs_code="8483.40", use_learned=False).check("mass")
    assert textiles is not None and machinery is not None
    assert textiles.figures["composition"] == "cellulosic"
    assert machinery.figures["composition"] is None  # no single composition: the decomposition
