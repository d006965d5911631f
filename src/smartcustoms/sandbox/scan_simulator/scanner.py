"""The simulated scanner: a container, its cargo and any concealment, scanned into a ``Scan``.

``simulate_scan(SimulationSpec(...))`` is deterministic for a given spec (the seed included) and
returns the scan as a reader would produce it from the scanner's files, plus the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import numpy as np
from stdnum import iso6346

from smartcustoms.sandbox.scan_simulator.cargo import CargoKind, Interior, generate_cargo
from smartcustoms.sandbox.scan_simulator.concealment import (
    ConcealmentKind,
    Placed,
    add_clutter,
    cigarettes_among_textiles,
    dense_block,
    false_wall,
    metal_among_organics,
    small_object,
)
from smartcustoms.sandbox.scan_simulator.detector import DetectorModel, expose
from smartcustoms.sandbox.scan_simulator.placement import (
    TRAILER_DECK_M,
    Placement,
    project,
    trailer_chassis,
)
from smartcustoms.sandbox.scan_simulator.reference import simulated_site_calibration
from smartcustoms.sandbox.scan_simulator.scene import (
    Box,
    DiscZ,
    Grid,
    Scene,
    VerticalCylinder,
    rasterize,
)
from smartcustoms.sandbox.scan_simulator.site import SCANNER_ID, truth_calibration
from smartcustoms.sandbox.scan_simulator.structures import (
    CONTAINERS,
    ContainerType,
    build_container,
)
from smartcustoms.scans.model import BeamGeometry, EnergyChannel, Scan, ScanMetadata
from smartcustoms.scans.physics.calibration import Calibration

__all__ = [
    "SCANNER_ID",
    "SimulatedScan",
    "SimulationSpec",
    "Truth",
    "TruthObject",
    "simulate_scan",
    "site_calibration",
    "truth_calibration",
]

_EPOCH = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)
_OWNERS = ("MSCU", "MAEU", "CMAU", "HLBU", "ONEU", "EGHU", "PONU")


@dataclass(frozen=True)
class SimulationSpec:
    """What to simulate. Distances in metres, masses in kilograms."""

    container: ContainerType = ContainerType.DRY_40
    cargo: CargoKind = CargoKind.PALLETS
    concealment: ConcealmentKind = ConcealmentKind.NONE
    concealment_kg: float | None = (
        None  # default per kind: 200 (cigarettes), 2 (organic), 1 (steel)…
    )
    seed: int = 0
    pitch_x_mm: float = 5.5
    pitch_y_mm: float = 6.0
    rows: int = 520
    cols: int | None = None  # default: the container plus 0.5 m of air at each end
    clutter: bool = True
    detector: DetectorModel = field(default_factory=DetectorModel)
    # The goods' gross mass as declared (packaging in, container out); default the goods' true
    # mass rounded to 10 kg.
    declared_gross_kg: float | None = None
    # How it sits and how the beam sees it (see :mod:`.placement`); the defaults are a level
    # container on no chassis, parallel rays: the simulator as it always was.
    tilt_deg: float = 0.0
    sag_m: float = 0.0
    trailer: bool = False
    fan_beam: bool = False
    # Scene variations for training (:mod:`.training`); the defaults draw the scene as it always
    # was. ``partitions`` scales the board partitions of cigarette master cases (0: none) and
    # ``partition_mm`` widens them (the same board, fainter); ``case_spread`` and
    # ``cigarette_mix`` vary the cases' density and composition (see
    # :func:`.concealment.cigarettes_among_textiles`); ``density_spread`` varies each piece of the
    # goods' density (relative standard deviation); ``dividers`` is the chance that a carton or
    # bale of the goods holds board dividers at a regular 7–16 cm pitch (honest packaging lines);
    # ``swap_channels`` writes the low-energy channel first. Their draws come from a second
    # generator seeded from ``seed``, so the rest of the scene does not move.
    partitions: float = 1.0
    partition_mm: float = 2.0
    case_spread: float = 0.0
    cigarette_mix: float = 0.0
    density_spread: float = 0.0
    dividers: float = 0.0
    swap_channels: bool = False


@dataclass(frozen=True)
class TruthObject:
    """Something the simulator put in the container, located in the image."""

    kind: str
    material: str
    mass_kg: float
    bbox_px: tuple[int, int, int, int]  # (col0, row0, col1, row1), end-exclusive
    description: str


@dataclass(frozen=True)
class Truth:
    """Ground truth of a simulated scan."""

    container: ContainerType
    tare_kg: float  # the container as built (nominal ±2 %)
    nominal_tare_kg: float
    cargo: CargoKind
    hs_code: str | None
    cargo_description: str
    cargo_kg: float  # declared goods actually loaded (excluding concealments)
    concealed: tuple[TruthObject, ...]
    clutter: tuple[TruthObject, ...]
    container_bbox_px: tuple[int, int, int, int]

    @property
    def net_kg(self) -> float:
        """Everything inside the container: goods, concealments and clutter."""
        return (
            self.cargo_kg
            + sum(o.mass_kg for o in self.concealed)
            + sum(o.mass_kg for o in self.clutter)
        )

    @property
    def gross_kg(self) -> float:
        return self.tare_kg + self.net_kg


@dataclass(frozen=True, eq=False)
class SimulatedScan:
    scan: Scan
    truth: Truth


def _container_number(rng: np.random.Generator) -> str:
    owner = _OWNERS[int(rng.integers(len(_OWNERS)))]
    serial = f"{int(rng.integers(0, 1_000_000)):06d}"
    return owner + serial + iso6346.calc_check_digit(owner + serial)


def _to_px(
    grid: Grid, bounds: tuple[float, ...], placement: Placement | None = None
) -> tuple[int, int, int, int]:
    if placement is not None and len(bounds) == 6:
        x0, x1, y0, y1 = placement.image_bounds(bounds)
    else:
        x0, x1, y0, y1 = bounds[:4]
    c0, c1 = grid.col_range(x0, x1)
    r0, r1 = grid.row_range(y0, y1)
    return (c0, r0, c1, r1)


def _vary_load(scene: Scene, spec: SimulationSpec, varied: np.random.Generator) -> None:
    """Spread the goods' densities and put board dividers in some of their cartons and bales."""
    out: list[Box | VerticalCylinder | DiscZ] = []
    for s in scene.solids:
        goods = isinstance(s, Box) and s.tag.startswith("cargo") and not s.tag.endswith("/board")
        if not goods or not isinstance(s, Box):
            out.append(s)
            continue
        if spec.density_spread > 0:
            factor = float(np.clip(1 + spec.density_spread * varied.standard_normal(), 0.5, 1.5))
            s = replace(s, density=s.density * factor)
        out.append(s)
        if spec.dividers > 0 and varied.random() < spec.dividers:
            pitch = varied.uniform(0.07, 0.16)
            wide = varied.uniform(0.002, 0.008)
            rho = 0.6 * (0.002 / wide) * varied.uniform(0.3, 1.0)
            across = varied.random() < 0.7  # upright dividers (lines along the rows) or shelves
            lo, hi = (s.x0, s.x1) if across else (s.y0, s.y1)
            for at in np.arange(lo + pitch, hi - pitch / 2, pitch):
                a, b = float(at - wide / 2), float(at + wide / 2)
                out.append(
                    Box(a, b, s.y0, s.y1, s.z0, s.z1, "paper", rho, "cargo/dividers")
                    if across
                    else Box(s.x0, s.x1, a, b, s.z0, s.z1, "paper", rho, "cargo/dividers")
                )
    scene.solids = out


def _conceal(
    spec: SimulationSpec, scene: Scene, inside: Interior, rng: np.random.Generator
) -> list[Placed]:
    kind = spec.concealment
    kg = spec.concealment_kg
    if kind is ConcealmentKind.NONE:
        return []
    if kind is ConcealmentKind.CIGARETTES_IN_TEXTILES:
        return [
            cigarettes_among_textiles(
                scene,
                inside,
                rng,
                kg or 200.0,
                partitions=spec.partitions,
                partition_mm=spec.partition_mm,
                case_spread=spec.case_spread,
                mix=spec.cigarette_mix,
                spread_rng=np.random.default_rng([spec.seed, 15]),
            )
        ]
    if kind is ConcealmentKind.DENSE_BLOCK:
        return [dense_block(scene, inside, rng, material="steel", mass_kg=kg or 200.0)]
    if kind is ConcealmentKind.METAL_IN_ORGANICS:
        return [metal_among_organics(scene, inside, rng, kg or 150.0)]
    if kind is ConcealmentKind.FALSE_WALL:
        return [false_wall(scene, inside, rng, mass_kg=kg or 400.0)]
    if kind is ConcealmentKind.SMALL_ORGANIC:
        return [
            small_object(scene, inside, rng, material="cocaine hydrochloride", mass_kg=kg or 2.0)
        ]
    return [small_object(scene, inside, rng, material="steel", mass_kg=kg or 1.0)]


def simulate_scan(spec: SimulationSpec) -> SimulatedScan:
    """Scan one simulated container; the same spec always gives the same counts."""
    rng = np.random.default_rng(spec.seed)
    box = CONTAINERS[spec.container]
    pitch_x, pitch_y = spec.pitch_x_mm / 1000, spec.pitch_y_mm / 1000
    cols = spec.cols or round((box.length + 1.0) / pitch_x)
    y_origin = TRAILER_DECK_M if spec.trailer else 0.12
    source_height = y_origin + 0.4
    distance_m = 6.0
    rows = spec.rows
    if spec.trailer or spec.fan_beam or spec.tilt_deg or spec.sag_m:
        # Room for the chassis below, the near wall's magnified roof and a tilt above.
        top = y_origin + box.height + abs(np.sin(np.radians(spec.tilt_deg))) * box.length / 2
        if spec.fan_beam:
            near = distance_m / (distance_m - box.width / 2)
            top = source_height + (top - source_height) * near
        rows = max(rows, int(np.ceil((top + 0.15) / pitch_y)))
    grid = Grid(rows, cols, pitch_x, pitch_y)
    x_origin = (grid.width_m - box.length) / 2
    if y_origin + box.height > grid.height_m - 0.05:
        raise ValueError(f"{spec.rows} rows of {spec.pitch_y_mm} mm do not fit a {box.kind.value}")
    scene, tare = build_container(box, x_origin, y_origin, rng)
    end = (box.length - box.inner_length) / 2
    inside = Interior(
        x_origin + end,
        x_origin + end + box.inner_length,
        y_origin + box.floor_height,
        y_origin + box.floor_height + box.inner_height,
        box.inner_width,
    )
    load = generate_cargo(spec.cargo, inside, rng, max_kg=box.max_gross_kg - box.tare_kg - 500)
    scene.add(*load.scene.solids)
    if spec.density_spread > 0 or spec.dividers > 0:
        _vary_load(scene, spec, np.random.default_rng([spec.seed, 14]))
    concealed = _conceal(spec, scene, inside, rng)
    clutter = add_clutter(scene, inside, rng) if spec.clutter else []
    cargo_kg = scene.mass_kg("cargo")

    beam = BeamGeometry(
        source_row=grid.rows - source_height / pitch_y,
        source_distance_mm=distance_m * 1000,
        projection="fan" if spec.fan_beam else "parallel",
    )
    angles = beam.row_angles_deg(grid.rows, spec.pitch_y_mm)
    placement = Placement(
        tilt_deg=spec.tilt_deg,
        sag_m=spec.sag_m,
        pivot=(x_origin + box.length / 2, y_origin + box.height / 2),
        length_m=box.length,
        source_height_m=source_height,
        source_distance_m=distance_m if spec.fan_beam else None,
        centre_z_m=box.inner_width / 2,
    )
    if spec.trailer:
        # Added after the load so the seeded draws, and so every default scan, stay as they were.
        scene.add(
            *trailer_chassis(x_origin, x_origin + box.length, y_origin, box.inner_width).solids
        )
    plain = not (placement.moves or spec.fan_beam)
    maps = rasterize(scene, grid) if plain else project(scene, grid, placement)
    high, low = expose(maps, angles, truth_calibration(), spec.detector, rng)
    where = None if plain else placement

    truth = Truth(
        container=spec.container,
        tare_kg=tare,
        nominal_tare_kg=box.tare_kg,
        cargo=spec.cargo,
        hs_code=load.hs_code,
        cargo_description=load.description,
        cargo_kg=cargo_kg,
        concealed=tuple(
            TruthObject(p.kind, p.material, p.mass_kg, _to_px(grid, p.bounds, where), p.description)
            for p in concealed
        ),
        clutter=tuple(
            TruthObject(p.kind, p.material, p.mass_kg, _to_px(grid, p.bounds, where), p.description)
            for p in clutter
        ),
        container_bbox_px=_to_px(
            grid,
            (
                x_origin,
                x_origin + box.length,
                y_origin,
                y_origin + box.height,
                -0.043,
                box.inner_width + 0.043,
            ),
            where,
        ),
    )
    declared = spec.declared_gross_kg
    if declared is None:
        declared = round(cargo_kg / 10) * 10  # the goods' gross: the container never in it
    metadata = ScanMetadata(
        scanner_id=SCANNER_ID,
        container_number=_container_number(rng),
        container_type=box.iso_code,
        declaration_ref=f"SIM{spec.seed:08d}",
        acquired_at=_EPOCH + timedelta(minutes=spec.seed),
        calibration=site_calibration(),
        extra={"declared_gross_kg": declared, "hs_code": load.hs_code, "simulated": True},
    )
    channels = tuple(
        EnergyChannel(e.channel, nominal, e.counts, e.air, e.dark)
        for e, nominal in ((high, 9.0), (low, 6.0))
    )
    if spec.swap_channels:
        channels = channels[::-1]
    scan = Scan(channels, spec.pitch_x_mm, spec.pitch_y_mm, metadata, beam)
    return SimulatedScan(scan, truth)


def site_calibration() -> Calibration:
    """The calibration the simulated site fitted on its reference scan (see :mod:`.reference`)."""
    return simulated_site_calibration()
