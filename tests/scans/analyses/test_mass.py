"""Imaged mass against the truth and against declarations."""

from __future__ import annotations

import pytest

from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind
from smartcustoms.scans.analyses.imaging import image
from smartcustoms.scans.analyses.mass import estimate_mass
from smartcustoms.scans.container_types import ContainerType
from tests.scans.helpers import simulated


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
    assert not m.lower_bound and m.wall_source == "measured"


def test_declared_mass_compared_with_typical_or_given_tare() -> None:
    sim = simulated(CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, ContainerType.DRY_20, 1)
    im = image(sim.scan)
    honest = estimate_mass(im, declared_gross_kg=sim.truth.gross_kg)
    assert honest.consistent and honest.tare_source == "typical"
    light = estimate_mass(
        im, declared_gross_kg=sim.truth.gross_kg - 2500, tare_kg=sim.truth.tare_kg
    )
    assert light.consistent is False and light.tare_source == "given"
    assert light.difference_kg == pytest.approx(2500, rel=0.2) and light.z_score is not None
    assert light.z_score > 3
    assert estimate_mass(im).consistent is None


def test_dense_machinery_is_only_a_lower_bound() -> None:
    sim = simulated(CargoKind.MACHINERY, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    m = estimate_mass(image(sim.scan), declared_gross_kg=sim.truth.gross_kg)
    assert m.lower_bound
    assert m.imaged_net_kg < sim.truth.net_kg  # mass hides in edge-on plates
    assert m.consistent  # lighter than declared is not held against a lower bound
