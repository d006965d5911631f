"""The simulator: exact geometry, deterministic noise, the truth it reports."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from smartcustoms.sandbox.scan_simulator import (
    CargoKind,
    ConcealmentKind,
    DetectorModel,
    simulate_scan,
)
from smartcustoms.sandbox.scan_simulator.scene import (
    Box,
    DiscZ,
    Grid,
    Scene,
    VerticalCylinder,
    rasterize,
)
from smartcustoms.sandbox.scan_simulator.structures import build_container
from smartcustoms.scans.container_types import CONTAINERS, ContainerType
from smartcustoms.scans.physics.spectra import Channel
from smartcustoms.scans.preprocess import attenuation
from tests.scans.helpers import simulated, spec


def test_projection_conserves_mass_for_every_primitive() -> None:
    grid = Grid(50, 80, 0.011, 0.012)
    scene = Scene(
        [
            Box(0.0333, 0.2777, 0.1011, 0.3301, 0.0, 0.4, "steel", 7.85),
            VerticalCylinder(0.5, 1.0, 0.1234, 0.05, 0.45, "water", 1.0, 0.11),
            DiscZ(0.7, 0.3, 0.077, 0.0, 0.2, "rubber", 1.1, 0.03),
        ]
    )
    maps = rasterize(scene, grid)
    imaged_kg = sum(float(m.sum(dtype=np.float64)) for m in maps.values()) * 1.1 * 1.2 / 1000
    assert imaged_kg == pytest.approx(scene.mass_kg(), rel=1e-5)


def test_carving_keeps_what_lies_outside() -> None:
    scene = Scene([Box(0, 1, 0, 1, 0, 1, "paper", 0.5, "cargo/x")])
    scene.carve((0.25, 0.5, 0.25, 0.5, 0.25, 0.5), "cargo")
    assert scene.mass_kg() == pytest.approx(500 - 0.25**3 * 500)
    assert len(scene.solids) == 6


@pytest.mark.parametrize("kind", list(ContainerType))
def test_containers_weigh_their_nominal_tare(kind: ContainerType) -> None:
    spec_ = CONTAINERS[kind]
    scene, mass = build_container(spec_, 0.5, 0.1, np.random.default_rng(4))
    assert mass == pytest.approx(spec_.tare_kg, rel=0.08)
    assert scene.mass_kg("container") == pytest.approx(mass)


def test_same_seed_same_counts_other_seed_other_counts() -> None:
    a = simulate_scan(spec(CargoKind.PALLETS, seed=11))
    b = simulate_scan(spec(CargoKind.PALLETS, seed=11))
    c = simulate_scan(spec(CargoKind.PALLETS, seed=12))
    for ca, cb in zip(a.scan.channels, b.scan.channels, strict=True):
        assert np.array_equal(ca.counts, cb.counts)
    assert a.truth == b.truth
    assert not np.array_equal(a.scan.channels[0].counts, c.scan.channels[0].counts)
    assert a.scan.metadata.container_number == b.scan.metadata.container_number


def test_truth_and_metadata() -> None:
    sim = simulated(CargoKind.TEXTILE_BALES, ConcealmentKind.CIGARETTES_IN_TEXTILES)
    t = sim.truth
    assert t.hs_code == "6309.00" and t.cargo_kg > 3000
    (block,) = t.concealed
    assert block.kind == "cigarettes-in-textiles" and block.mass_kg == pytest.approx(200.0)
    c0, r0, c1, r1 = block.bbox_px
    assert 0 <= c0 < c1 <= sim.scan.shape[1] and 0 <= r0 < r1 <= sim.scan.shape[0]
    assert t.gross_kg == pytest.approx(t.tare_kg + t.net_kg)
    meta = sim.scan.metadata
    assert meta.container_type == "22G1" and meta.calibration is not None
    # Declared as loaded: goods and tare, not what was hidden.
    assert meta.extra["declared_gross_kg"] == round(t.cargo_kg / 10) * 10  # goods, no container


def test_noise_in_open_beam_matches_the_quanta() -> None:
    """Open beam: per-pixel noise of α is 1/√N (N noise-equivalent quanta) plus read noise."""
    sim = simulated(CargoKind.EMPTY)
    att = attenuation(sim.scan)
    air = att.high[: att.air_rows[1], :]
    rows_noise = np.std(air - np.median(air, axis=1, keepdims=True))
    quanta = DetectorModel().quanta[0]
    assert rows_noise == pytest.approx(1 / np.sqrt(quanta), rel=0.3)


def test_ideal_detector_gives_the_model_alpha_exactly() -> None:
    ideal = simulate_scan(
        spec(CargoKind.EMPTY, seed=2, detector=DetectorModel.ideal(), clutter=False)
    )
    att = attenuation(ideal.scan)
    assert np.abs(att.high[:20]).max() < 1e-3  # air is air
    assert att.dead_rows == ()
    assert ideal.scan.channel(Channel.LOW).counts.max() <= 65535


def test_dead_rows_are_found_and_repaired() -> None:
    noisy = DetectorModel(dead_row_rate=0.02)
    sim = simulate_scan(spec(CargoKind.EMPTY, seed=5, detector=noisy))
    att = attenuation(sim.scan)
    assert len(att.dead_rows) >= 1
    for r in att.dead_rows:
        assert np.median(att.high[r, :20]) < 0.05  # repaired rows read air where air is


def test_too_many_rows_for_the_image_is_an_error() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        simulate_scan(replace(spec(container=ContainerType.HIGH_CUBE_40), rows=200))


def test_the_cli_names_the_simulators_kinds() -> None:
    # The CLI spells them out so that loading it does not load the sandbox.
    from smartcustoms.cli.scans import CARGO_KINDS, CONCEALMENT_KINDS
    from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind

    assert tuple(k.value for k in CargoKind) == CARGO_KINDS
    assert tuple(k.value for k in ConcealmentKind) == CONCEALMENT_KINDS
