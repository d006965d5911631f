"""What the simulator promises: masses (the container's tare, the goods, what is hidden, all of
it in the image), geometry (where the container sits, its floor and roof rows, the image size
for the pitch) and units (mm, kg, MeV, α)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from smartcustoms.sandbox.scan_simulator import (
    CargoKind,
    ConcealmentKind,
    DetectorModel,
    SimulatedScan,
    simulate_scan,
)
from smartcustoms.sandbox.scan_simulator.scene import Grid, Scene, rasterize
from smartcustoms.sandbox.scan_simulator.structures import build_container
from smartcustoms.scans.container_types import CONTAINERS, ContainerType
from smartcustoms.scans.physics.spectra import Channel
from smartcustoms.scans.preprocess import attenuation
from tests.scans.helpers import PITCH, ROWS, spec

FLOOR_Y = 0.12  # m: the container's underside above the image's bottom edge (scanner.py)
AIR_M = 0.5  # m of air at each end of the container by default


def ideal(
    container: ContainerType,
    *,
    pitch: tuple[float, float] = PITCH,
    rows: int = ROWS,
    cols: int | None = None,
) -> SimulatedScan:
    """An empty container seen by noise-free detectors, without clutter: geometry alone."""
    base = spec(
        CargoKind.EMPTY, container=container, seed=3, detector=DetectorModel.ideal(), clutter=False
    )
    return simulate_scan(
        replace(base, pitch_x_mm=pitch[0], pitch_y_mm=pitch[1], rows=rows, cols=cols)
    )


# -- masses ------------------------------------------------------------------------------------


def test_tares_scatter_two_percent_around_the_nominal() -> None:
    """Each box is scaled to its nominal tare ×N(1, 0.02) (containers.py: "within ±2 %")."""
    box = CONTAINERS[ContainerType.DRY_20]
    ratios = (
        np.array(
            [build_container(box, 0.5, 0.1, np.random.default_rng(seed))[1] for seed in range(60)]
        )
        / box.tare_kg
    )
    assert abs(ratios.mean() - 1) < 0.01
    assert 0.01 < ratios.std() < 0.03
    assert np.all(np.abs(ratios - 1) < 0.08)  # four standard deviations


@pytest.mark.parametrize("kind", [k for k in CargoKind if k is not CargoKind.EMPTY])
def test_goods_stay_within_the_payload_and_are_declared_as_loaded(kind: CargoKind) -> None:
    sim = simulate_scan(spec(kind, seed=7))
    box, truth = CONTAINERS[ContainerType.DRY_20], sim.truth
    assert truth.cargo == kind and truth.hs_code is not None
    # The generator unloads from the door end above the payload less a 500 kg margin.
    assert 0 < truth.cargo_kg <= box.max_gross_kg - box.tare_kg - 500
    assert truth.nominal_tare_kg == box.tare_kg
    assert truth.tare_kg == pytest.approx(box.tare_kg, rel=0.08)
    clutter = sum(o.mass_kg for o in truth.clutter)
    assert truth.net_kg == pytest.approx(truth.cargo_kg + clutter)  # nothing hidden
    assert truth.gross_kg == pytest.approx(truth.tare_kg + truth.net_kg)
    declared = sim.scan.metadata.extra["declared_gross_kg"]
    assert declared % 10 == 0
    assert abs(declared - truth.cargo_kg) <= 5  # the goods alone, rounded to 10 kg
    assert sim.scan.metadata.extra["hs_code"] == truth.hs_code


def test_an_empty_container_holds_nothing() -> None:
    truth = ideal(ContainerType.DRY_20).truth
    assert truth.cargo_kg == 0 and truth.hs_code is None
    assert truth.concealed == () and truth.clutter == ()
    assert truth.gross_kg == truth.tare_kg


# Requested mass of the hidden goods, and what may come with them: a crate (wood, 0.05 g/cm³,
# at most 0.9 × 0.7 × 0.8 m: 25 kg), a false wall (2 mm of steel across the interior: ≈90 kg).
CONCEALMENTS = {
    ConcealmentKind.DENSE_BLOCK: (200.0, 0.0),
    ConcealmentKind.FALSE_WALL: (400.0, 100.0),
    ConcealmentKind.CIGARETTES_IN_TEXTILES: (200.0, 0.0),
    ConcealmentKind.METAL_IN_ORGANICS: (150.0, 26.0),
    ConcealmentKind.SMALL_ORGANIC: (2.0, 0.0),
    ConcealmentKind.SMALL_STEEL: (1.0, 0.0),
}


@pytest.mark.parametrize("kind", list(CONCEALMENTS))
def test_what_is_hidden_weighs_what_was_asked(
    kind: ConcealmentKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hidden goods weigh the requested mass (default per kind); and everything the truth
    counts — tare, goods, hidden, clutter — is in the image: the areal densities the detectors
    see, summed over the pixels, weigh the truth's gross mass."""
    seen: list[dict[str, np.ndarray]] = []

    def keep(scene: Scene, grid: Grid) -> dict[str, np.ndarray]:
        maps = rasterize(scene, grid)
        seen.append(maps)
        return maps

    monkeypatch.setattr("smartcustoms.sandbox.scan_simulator.scanner.rasterize", keep)
    sim = simulate_scan(spec(CargoKind.TEXTILE_BALES, kind, seed=4))
    requested, extra = CONCEALMENTS[kind]
    (hidden,) = sim.truth.concealed
    assert hidden.kind == kind.value
    assert requested * 0.99 <= hidden.mass_kg <= requested * 1.01 + extra

    (maps,) = seen
    pixel_cm2 = (PITCH[0] / 10) * (PITCH[1] / 10)
    imaged_kg = sum(float(m.sum(dtype=np.float64)) for m in maps.values()) * pixel_cm2 / 1000
    assert imaged_kg == pytest.approx(sim.truth.gross_kg, rel=1e-4)


def test_a_requested_mass_is_the_mass_hidden() -> None:
    sim = simulate_scan(
        spec(CargoKind.PALLETS, ConcealmentKind.DENSE_BLOCK, seed=2, concealment_kg=35.0)
    )
    (block,) = sim.truth.concealed
    assert block.mass_kg == pytest.approx(35.0)
    assert block.material == "steel"


# -- geometry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ContainerType))
def test_the_container_sits_where_the_truth_says(kind: ContainerType) -> None:
    box = CONTAINERS[kind]
    sim = ideal(kind)
    pitch_x, pitch_y = PITCH[0] / 1000, PITCH[1] / 1000
    # The image: the container plus 0.5 m of air at each end, ROWS rows.
    assert sim.scan.shape == (ROWS, round((box.length + 2 * AIR_M) / pitch_x))
    c0, r0, c1, r1 = sim.truth.container_bbox_px
    x_origin = (sim.scan.shape[1] * pitch_x - box.length) / 2  # centred along the image
    assert x_origin == pytest.approx(AIR_M, abs=pitch_x)
    assert c0 == math.floor(x_origin / pitch_x)
    assert c1 == math.ceil((x_origin + box.length) / pitch_x)
    assert (c1 - c0) * pitch_x == pytest.approx(box.length, abs=2 * pitch_x)
    assert r1 == ROWS - math.floor(FLOOR_Y / pitch_y)  # row 0 is the top of the image
    assert r0 == ROWS - math.ceil((FLOOR_Y + box.height) / pitch_y)
    assert (r1 - r0) * pitch_y == pytest.approx(box.height, abs=2 * pitch_y)

    alpha = attenuation(sim.scan).high
    inner = slice(c0 + 20, c1 - 20)
    walls = float(np.median(alpha[(r0 + r1) // 2, inner]))
    # Floor and roof lie along the beam: dense bands on the container's bottom and top rows,
    # air just beyond them.
    assert float(np.median(alpha[r1 - 1, inner])) > 5 * walls  # the floor's bottom rail
    assert float(np.median(alpha[r1 - 4, inner])) > 2 * walls  # the floor
    assert max(float(np.median(alpha[r, inner])) for r in range(r0, r0 + 4)) > 5 * walls
    assert abs(float(np.median(alpha[r1, inner]))) < 0.01
    assert abs(float(np.median(alpha[r0 - 1, inner]))) < 0.01
    assert np.abs(alpha[: r0 - 1]).max() < 0.01  # air above the roof
    assert np.abs(alpha[r1 + 1 :]).max() < 0.01  # air below the floor
    assert np.abs(alpha[:, c1 + 1 :]).max() < 0.01  # air behind the doors
    if not box.reefer:  # (a reefer's machinery reaches past the front end)
        assert np.abs(alpha[:, : c0 - 1]).max() < 0.01
    side = np.median(alpha[r0 + 5 : r1 - 5], axis=0)
    walled = np.flatnonzero(side > 0.02)
    # The walls span the container; only the door's locking bars reach a pixel further.
    assert walled[0] == c0 and c1 - 1 <= walled[-1] <= c1


@pytest.mark.parametrize("pitch", [(11.0, 12.0), (22.0, 24.0)])
def test_the_image_size_follows_the_pitch(pitch: tuple[float, float]) -> None:
    rows = round(ROWS * PITCH[1] / pitch[1])
    sim = ideal(ContainerType.DRY_20, pitch=pitch, rows=rows)
    box = CONTAINERS[ContainerType.DRY_20]
    assert sim.scan.shape == (rows, round((box.length + 2 * AIR_M) / (pitch[0] / 1000)))
    assert (sim.scan.pitch_x_mm, sim.scan.pitch_y_mm) == pitch
    for channel in sim.scan.channels:
        assert channel.counts.shape == sim.scan.shape
        assert channel.air.shape == channel.dark.shape == (rows,)


def test_explicit_columns_are_kept() -> None:
    sim = ideal(ContainerType.DRY_20, cols=700)
    assert sim.scan.shape == (ROWS, 700)
    c0, _, c1, _ = sim.truth.container_bbox_px
    assert (c0 + c1) / 2 == pytest.approx(350, abs=1)  # centred in the wider image


# -- units -------------------------------------------------------------------------------------


def test_units_of_the_scan() -> None:
    sim = simulate_scan(spec(CargoKind.PALLETS, seed=5))
    scan = sim.scan
    assert (scan.pitch_x_mm, scan.pitch_y_mm) == PITCH  # millimetres, as given
    assert scan.beam is not None and scan.beam.source_distance_mm == 6000.0
    assert [(c.name, c.nominal_mev) for c in scan.channels] == [
        (Channel.HIGH, 9.0),
        (Channel.LOW, 6.0),
    ]
    model = DetectorModel()
    for channel, air_adu in zip(scan.channels, model.air_adu, strict=True):
        assert channel.counts.dtype == np.uint16  # a 16-bit ADC
        assert float(np.median(channel.air)) == pytest.approx(air_adu, rel=0.1)
        assert float(np.median(channel.dark)) == pytest.approx(model.dark_adu, rel=0.2)
    assert scan.metadata.container_type == CONTAINERS[ContainerType.DRY_20].iso_code
    truth = sim.truth
    # Kilograms: a 20 ft box weighs tonnes, its goods tonnes more.
    assert 2000 < truth.tare_kg < 2500 and 500 < truth.cargo_kg < 28_000


def test_attenuation_ranges() -> None:
    """α = −ln(I/I₀): 0 in air; the two side walls (2.9 g/cm² of steel, μ/ρ of iron 0.03–0.06
    cm²/g over a 6–9 MeV linac spectrum) about 0.1; higher at 6 MeV than at 9; never beyond
    what a 16-bit scan can express."""
    sim = ideal(ContainerType.DRY_40)
    att = attenuation(sim.scan)
    assert att.low is not None
    c0, r0, c1, r1 = sim.truth.container_bbox_px
    middle = (r0 + r1) // 2, slice(c0 + 20, c1 - 20)
    high = float(np.median(att.high[middle]))
    low = float(np.median(att.low[middle]))
    wall = CONTAINERS[ContainerType.DRY_40].wall_areal_density
    assert wall * 0.03 < high < wall * 0.06
    assert high < low < 2 * high
    assert np.abs(att.high[: att.air_rows[1]]).max() < 1e-3
    assert np.isfinite(att.high).all()
    assert 1 < float(att.high.max()) < 15  # floor and roof along the beam: dense, not opaque
    assert 8 < att.max_alpha < 15  # the dark floor: ln(56,000 ADU / a few ADU)
