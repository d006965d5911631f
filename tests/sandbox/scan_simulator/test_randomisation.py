"""Domain randomisation for training the learned detector: each variation does what it says,
the defaults draw the scene as before, and the training scans are drawn reproducibly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from smartcustoms.sandbox.scan_simulator import (
    CargoKind,
    ConcealmentKind,
    DetectorModel,
    SimulationSpec,
    simulate_scan,
)
from smartcustoms.sandbox.scan_simulator.cargo import Interior
from smartcustoms.sandbox.scan_simulator.concealment import cigarettes_among_textiles
from smartcustoms.sandbox.scan_simulator.scanner import _vary_load
from smartcustoms.sandbox.scan_simulator.scene import Box, Scene
from smartcustoms.sandbox.scan_simulator.training import training_spec
from smartcustoms.scans.physics.spectra import Channel
from tests.scans.helpers import spec

INSIDE = Interior(0.0, 5.9, 0.0, 2.39, 2.35)


def _textiles() -> Scene:
    return Scene(
        [
            Box(x, x + 0.6, 0.0, 2.0, 0.0, 2.35, "cotton textile", 0.2, "cargo/garments")
            for x in np.arange(0.0, 5.4, 0.6)
        ]
    )


def test_partitions_can_be_left_out_or_widened_and_the_block_keeps_its_mass() -> None:
    drawn = {}
    for name, kw in {
        "default": {},
        "none": {"partitions": 0.0},
        "wide": {"partitions": 0.5, "partition_mm": 8.0},
        "mixed": {"case_spread": 0.1, "mix": 0.3, "spread_rng": np.random.default_rng(3)},
    }.items():
        scene = _textiles()
        placed = cigarettes_among_textiles(
            scene,
            INSIDE,
            np.random.default_rng(5),
            200.0,
            **kw,  # type: ignore[arg-type]
        )
        mine = [s for s in scene.solids if isinstance(s, Box) and s.tag == "conceal/cigarettes"]
        drawn[name] = mine
        assert abs(placed.mass_kg - 200.0) < 0.5, name
    thin = [b for b in drawn["default"] if b.material == "paper" and b.x1 - b.x0 < 0.003]
    assert thin and all(b.density == 0.6 for b in thin)
    assert not [b for b in drawn["none"] if b.material == "paper" and b.x1 - b.x0 < 0.003]
    wide = [b for b in drawn["wide"] if b.material == "paper" and b.x1 - b.x0 > 0.0079]
    assert len(wide) == len(thin)
    # The same board spread wider: a quarter of the default's density times the half.
    assert all(abs(b.density - 0.6 * 0.5 * 0.25) < 1e-9 for b in wide)
    mixed = drawn["mixed"]
    assert {b.material for b in mixed} >= {"cigarettes", "cotton textile", "paper"}
    sticks = sorted({round(b.density, 6) for b in mixed if b.material == "cigarettes"})
    assert len(sticks) > 1  # case-to-case spread


def test_dividers_and_density_spread_vary_the_goods_only() -> None:
    scene = _textiles()
    before = scene.mass_kg("cargo/garments")
    plain = SimulationSpec(dividers=1.0, density_spread=0.1)
    _vary_load(scene, plain, np.random.default_rng(1))
    dividers = [s for s in scene.solids if s.tag == "cargo/dividers"]
    assert len(dividers) >= 9 * 3  # every carton, at a 7–16 cm pitch
    assert all(isinstance(d, Box) and d.material == "paper" for d in dividers)
    goods = [s.density for s in scene.solids if s.tag == "cargo/garments"]
    assert len(set(goods)) > 1 and scene.mass_kg("cargo/garments") != before
    untouched = _textiles()
    _vary_load(untouched, SimulationSpec(), np.random.default_rng(1))
    assert untouched.solids == _textiles().solids


def test_defaults_draw_the_scan_as_before_and_variations_change_it() -> None:
    base = spec(CargoKind.TEXTILE_CARTONS, ConcealmentKind.CIGARETTES_IN_TEXTILES, seed=7)
    a, b = simulate_scan(base), simulate_scan(base)
    high = a.scan.channel(Channel.HIGH).counts
    assert np.array_equal(high, b.scan.channel(Channel.HIGH).counts)
    wider = simulate_scan(replace(base, partition_mm=8.0))
    assert not np.array_equal(high, wider.scan.channel(Channel.HIGH).counts)
    drifted = simulate_scan(replace(base, detector=replace(DetectorModel(), air_drift=0.004)))
    assert not np.array_equal(high, drifted.scan.channel(Channel.HIGH).counts)
    swapped = simulate_scan(replace(base, swap_channels=True))
    assert [c.name for c in swapped.scan.channels] == [Channel.LOW, Channel.HIGH]
    assert np.array_equal(high, swapped.scan.channel(Channel.HIGH).counts)
    hidden = simulate_scan(replace(base, partitions=0.0, dividers=0.5, cigarette_mix=0.2))
    assert abs(hidden.truth.concealed[0].mass_kg - 200.0) < 0.5


def test_training_scans_are_randomised_reproducibly() -> None:
    specs = [training_spec(200_000 + i, with_cigarettes=True) for i in range(40)]
    assert all(isinstance(s, SimulationSpec) for s in specs)
    again = training_spec(200_003, with_cigarettes=True)
    assert again == specs[3]
    drawn = [s for s in specs if isinstance(s, SimulationSpec)]
    assert 8 < sum(s.partitions == 0.0 for s in drawn) < 32  # lines in about half
    assert 8 < sum(s.fan_beam for s in drawn) < 32
    assert all(0.001 <= s.detector.halo_fraction <= 0.03 for s in drawn)
    assert all(abs(s.tilt_deg) <= 1.0 and 4.8 <= s.pitch_x_mm <= 6.2 for s in drawn)
    assert len({s.detector.blur_sigma_px for s in drawn}) == len(drawn)
    honest = training_spec(200_003, with_cigarettes=False)
    assert isinstance(honest, SimulationSpec) and honest.concealment is ConcealmentKind.NONE
    assert honest.detector == drawn[3].detector  # the same scanner for the pair
