"""Cargo generators: the loads a container carries, as solids tagged ``cargo/…``.

Each generator fills the interior the way such goods are loaded – bales and cartons stacked in
lanes and tiers with uneven gaps, sacks in layers, drums on pallets, cars on their wheels,
machinery on skids – with the spread of densities and sizes that makes real loads look uneven.
Densities are bulk densities of the packed goods (e.g. pressed second-hand-clothing bales
0.38–0.50 g/cm³, garment cartons 0.10–0.28 g/cm³, rice in sacks ≈0.75 g/cm³).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from smartcustoms.sandbox.scan_simulator.scene import Box, DiscZ, Scene, VerticalCylinder

__all__ = ["CargoKind", "CargoLoad", "Interior", "generate_cargo"]

STEEL = 7.85


class CargoKind(StrEnum):
    EMPTY = "empty"
    PALLETS = "pallets"
    TEXTILE_BALES = "textile-bales"
    TEXTILE_CARTONS = "textile-cartons"
    BULK_BAGS = "bulk-bags"
    DRUMS = "drums"
    VEHICLES = "vehicles"
    MACHINERY = "machinery"


@dataclass(frozen=True)
class Interior:
    """The load space: x along the container, y up from the floor's top, z across (the beam)."""

    x0: float
    x1: float
    y0: float
    y1: float
    width: float

    @property
    def length(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass
class CargoLoad:
    """What a generator loaded: its HS code, a description and the solids."""

    kind: CargoKind
    hs_code: str | None
    description: str
    scene: Scene = field(default_factory=Scene)

    @property
    def mass_kg(self) -> float:
        return self.scene.mass_kg("cargo")


Maker = Callable[[float, float, float, float, float, float], list[Box]]


def _stack(
    inside: Interior,
    rng: np.random.Generator,
    size: tuple[float, float, float],
    make: Maker,
    *,
    length_fraction: float,
    height: float,
    gap: float = 0.02,
    jitter: float = 0.05,
) -> list[Box]:
    """Packages of about ``size`` (x, y, z) in lanes across the width, columns along the length
    and tiers up to ``height``, leaving uneven gaps as hand-stowed loads do."""
    sx, sy, sz = size
    lanes = max(1, int(inside.width // (sz + gap)))
    lane_w = inside.width / lanes
    out: list[Box] = []
    x = inside.x0 + rng.uniform(0, gap)
    x_end = inside.x0 + inside.length * length_fraction
    while x + sx * 0.6 < x_end:
        dx = sx * rng.uniform(1 - jitter, 1 + jitter)
        for lane in range(lanes):
            y = inside.y0
            z0 = lane * lane_w + rng.uniform(0, max(lane_w - sz, 0.0) + 1e-9)
            while True:
                dy = sy * rng.uniform(1 - jitter, 1 + jitter)
                if y + dy > inside.y0 + height or y + dy > inside.y1:
                    break
                dz = min(sz * rng.uniform(1 - jitter, 1 + jitter), lane_w)
                z0c = min(z0, inside.width - dz)
                out.extend(make(x, min(x + dx, inside.x1), y, y + dy, z0c, z0c + dz))
                y += dy + rng.uniform(0, gap / 2)
        x += dx + rng.uniform(0, 2 * gap)
    return out


def carton(
    x0: float,
    x1: float,
    y0: float,
    y1: float,
    z0: float,
    z1: float,
    contents: str,
    density: float,
    tag: str,
    wall: float = 0.005,
) -> list[Box]:
    """A corrugated-board carton (walls ``wall`` m of 0.12 g/cm³ board-equivalent) with contents."""
    board = 0.12 * 5  # paper at 0.6 g/cm³ over a fifth of the flute thickness
    return [
        Box(x0 + wall, x1 - wall, y0 + wall, y1 - wall, z0, z1, contents, density, tag),
        Box(x0, x0 + wall, y0, y1, z0, z1, "paper", board, tag + "/board"),
        Box(x1 - wall, x1, y0, y1, z0, z1, "paper", board, tag + "/board"),
        Box(x0 + wall, x1 - wall, y0, y0 + wall, z0, z1, "paper", board, tag + "/board"),
        Box(x0 + wall, x1 - wall, y1 - wall, y1, z0, z1, "paper", board, tag + "/board"),
        # the two faces across the beam, spread over the carton's face
        Box(
            x0 + wall,
            x1 - wall,
            y0 + wall,
            y1 - wall,
            z0,
            z0 + 2 * wall,
            "paper",
            board,
            tag + "/board",
        ),
    ]


def _pallet(x0: float, z0: float, y0: float, rng: np.random.Generator) -> list[Box]:
    """A 1.2 × 1.0 m wooden pallet, 0.144 m tall (≈22 kg)."""
    tag = "cargo/pallet"
    out = [
        Box(x0, x0 + 1.2, y0 + 0.122, y0 + 0.144, z0, z0 + 1.0, "wood", 0.55 * 0.75, tag),
        Box(x0, x0 + 1.2, y0, y0 + 0.022, z0, z0 + 1.0, "wood", 0.55 * 0.45, tag),
    ]
    for xb in (x0, x0 + 0.55, x0 + 1.1):
        out.append(Box(xb, xb + 0.1, y0 + 0.022, y0 + 0.122, z0, z0 + 1.0, "wood", 0.55 * 0.3, tag))
    return out


def _pallets(inside: Interior, rng: np.random.Generator) -> CargoLoad:
    goods = [
        ("3924.10", "plastic household articles", "polyethylene", (0.08, 0.20)),
        ("4818.10", "toilet paper", "paper", (0.10, 0.20)),
        ("1905.31", "biscuits", "sugar", (0.20, 0.40)),
        ("6911.10", "ceramic tableware", "glass", (0.35, 0.60)),
        ("2202.10", "soft drinks in bottles", "water", (0.55, 0.75)),
    ]
    hs, desc, material, (lo, hi) = goods[int(rng.integers(len(goods)))]
    load = CargoLoad(CargoKind.PALLETS, hs, desc)
    y = inside.y0
    height = rng.uniform(1.2, min(2.1, inside.height - 0.1))
    x = inside.x0 + rng.uniform(0, 0.05)
    end = inside.x0 + inside.length * rng.uniform(0.6, 1.0)
    while x + 1.2 <= end:
        for z0 in (0.05, inside.width - 1.05):
            load.scene.add(*_pallet(x, z0, y, rng))
            density = rng.uniform(lo, hi)
            sub = Interior(x, x + 1.2, y + 0.144, inside.y1, 1.0)

            def make(
                a: float,
                b: float,
                c: float,
                d: float,
                e: float,
                f: float,
                density: float = density,
                z0: float = z0,
            ) -> list[Box]:
                return carton(a, b, c, d, e + z0, f + z0, material, density, "cargo/goods")

            boxes = _stack(
                sub,
                rng,
                (0.4, 0.3, 0.5),
                make,
                length_fraction=1.0,
                height=height - 0.144,
                gap=0.005,
                jitter=0.02,
            )
            load.scene.add(*boxes)
        x += 1.2 + rng.uniform(0.02, 0.12)
    return load


def _textile_bales(inside: Interior, rng: np.random.Generator) -> CargoLoad:
    load = CargoLoad(CargoKind.TEXTILE_BALES, "6309.00", "worn clothing in pressed bales")

    def bale(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> list[Box]:
        # Pressed bales: 45–55 kg, density varying bale to bale and, within a bale, layer to layer.
        density = rng.uniform(0.38, 0.50)
        mid = y0 + (y1 - y0) * rng.uniform(0.3, 0.7)
        skew = rng.uniform(-0.06, 0.06)
        return [
            Box(x0, x1, y0, mid, z0, z1, "cotton textile", density * (1 + skew), "cargo/bale"),
            Box(x0, x1, mid, y1, z0, z1, "polyester textile", density * (1 - skew), "cargo/bale"),
        ]

    load.scene.add(
        *_stack(
            inside,
            rng,
            (0.62, 0.42, 0.45),
            bale,
            length_fraction=rng.uniform(0.85, 1.0),
            height=inside.height - rng.uniform(0.0, 0.3),
            gap=0.04,
            jitter=0.08,
        )
    )
    return load


def _textile_cartons(inside: Interior, rng: np.random.Generator) -> CargoLoad:
    load = CargoLoad(CargoKind.TEXTILE_CARTONS, "6204.62", "garments in cartons")
    base = rng.uniform(0.10, 0.28)  # light shirts to denim

    def make(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> list[Box]:
        material = "cotton textile" if rng.random() < 0.7 else "polyester textile"
        return carton(
            x0, x1, y0, y1, z0, z1, material, base * rng.uniform(0.85, 1.15), "cargo/garments"
        )

    load.scene.add(
        *_stack(
            inside,
            rng,
            (0.6, 0.4, 0.4),
            make,
            length_fraction=rng.uniform(0.8, 1.0),
            height=inside.height - rng.uniform(0.0, 0.3),
            gap=0.01,
            jitter=0.03,
        )
    )
    return load


def _bulk_bags(inside: Interior, rng: np.random.Generator) -> CargoLoad:
    goods = [
        ("1006.30", "milled rice in 50 kg sacks", "rice", 0.78),
        ("1701.99", "sugar in 50 kg sacks", "sugar", 0.85),
        ("3102.10", "urea fertiliser in 50 kg sacks", "urea fertiliser", 0.75),
    ]
    hs, desc, material, density = goods[int(rng.integers(len(goods)))]
    load = CargoLoad(CargoKind.BULK_BAGS, hs, desc)

    def sack(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> list[Box]:
        # A filled sack bulges: denser along its middle than at its seams.
        d = density * rng.uniform(0.95, 1.05)
        inset = (y1 - y0) * 0.2
        return [
            Box(x0, x1, y0 + inset, y1 - inset, z0, z1, material, d, "cargo/sack"),
            Box(x0 + 0.03, x1 - 0.03, y0, y0 + inset, z0, z1, material, d * 0.8, "cargo/sack"),
            Box(x0 + 0.03, x1 - 0.03, y1 - inset, y1, z0, z1, material, d * 0.8, "cargo/sack"),
        ]

    load.scene.add(
        *_stack(
            inside,
            rng,
            (0.9, 0.16, 0.55),
            sack,
            length_fraction=rng.uniform(0.7, 1.0),
            height=rng.uniform(1.0, 1.6),
            gap=0.01,
        )
    )
    return load


def _drums(inside: Interior, rng: np.random.Generator) -> CargoLoad:
    oil = rng.random() < 0.5
    load = CargoLoad(
        CargoKind.DRUMS,
        "2710.19" if oil else "1511.90",
        "lubricating oil in 200 l drums" if oil else "palm oil in 200 l drums",
    )
    r, h = 0.286, 0.88
    tiers = 2 if rng.random() < 0.5 else 1
    x = inside.x0 + 0.03
    end = inside.x0 + inside.length * rng.uniform(0.6, 1.0)
    while x + 1.2 <= end:
        for z0 in (0.05, inside.width - 1.05):
            y = inside.y0
            for _ in range(tiers):
                load.scene.add(*_pallet(x, z0, y, rng))
                for dx in (0.3, 0.9):
                    for dz in (0.25, 0.75):
                        xc, zc, yb = x + dx, z0 + dz, y + 0.144
                        load.scene.add(
                            VerticalCylinder(
                                xc, zc, r, yb, yb + h, "steel", STEEL, r - 0.0012, "cargo/drum"
                            ),
                            VerticalCylinder(
                                xc,
                                zc,
                                r - 0.0012,
                                yb,
                                yb + 0.0012,
                                "steel",
                                STEEL,
                                tag="cargo/drum",
                            ),
                            VerticalCylinder(
                                xc,
                                zc,
                                r - 0.0012,
                                yb + h - 0.0012,
                                yb + h,
                                "steel",
                                STEEL,
                                tag="cargo/drum",
                            ),
                            VerticalCylinder(
                                xc,
                                zc,
                                r - 0.0012,
                                yb + 0.0012,
                                yb + 0.0012 + h * rng.uniform(0.88, 0.95),
                                "oil",
                                0.88,
                                tag="cargo/liquid",
                            ),
                        )
                y += 0.144 + h + 0.01
        x += 1.22
    return load


def _car(x0: float, y0: float, z0: float, rng: np.random.Generator) -> list[Box | DiscZ]:
    """A passenger car seen from the side, ≈1,200–1,450 kg, its wheels on ``y0``."""
    length, width, height = rng.uniform(4.2, 4.7), rng.uniform(1.72, 1.84), rng.uniform(1.42, 1.58)
    tag = "cargo/car"
    z1 = z0 + width
    sill = y0 + 0.18
    belt = y0 + 0.95
    out: list[Box | DiscZ] = [
        # Door and wing skins (two sides) and the windows above the belt line.
        Box(x0 + 0.1, x0 + length - 0.1, sill, belt, z0, z0 + 0.0016, "steel", STEEL, tag),
        Box(
            x0 + 1.1, x0 + length - 0.9, belt, y0 + height - 0.05, z0, z0 + 0.008, "glass", 2.5, tag
        ),
        # Floor pan and roof lie along the beam.
        Box(x0 + 0.3, x0 + length - 0.3, sill, sill + 0.01, z0, z1, "steel", STEEL * 0.1, tag),
        Box(
            x0 + 1.3,
            x0 + length - 1.1,
            y0 + height - 0.02,
            y0 + height,
            z0 + 0.2,
            z1 - 0.2,
            "steel",
            STEEL * 0.04,
            tag,
        ),
        # Engine and gearbox at the front, a cast block of mixed density.
        Box(x0 + 0.25, x0 + 0.95, sill + 0.1, sill + 0.7, z0 + 0.45, z0 + 1.25, "steel", 0.95, tag),
        Box(
            x0 + 0.25,
            x0 + 0.95,
            sill + 0.1,
            sill + 0.7,
            z0 + 0.45,
            z0 + 1.25,
            "aluminium",
            0.35,
            tag,
        ),
        # Body structure: pillars, sills, chassis rails and door frames, spread over the body.
        Box(x0 + 0.2, x0 + length - 0.2, sill, belt, z0 + 0.05, z1 - 0.05, "steel", 0.042, tag),
        # Seats, dashboard, trim: foam and plastics on steel frames.
        Box(x0 + 1.6, x0 + 3.3, sill + 0.1, belt, z0 + 0.1, z1 - 0.1, "polyethylene", 0.06, tag),
        Box(x0 + 1.6, x0 + 3.3, sill + 0.1, sill + 0.5, z0 + 0.1, z1 - 0.1, "steel", 0.012, tag),
        # Fuel tank, exhaust, suspension and axles.
        Box(
            x0 + length - 1.3,
            x0 + length - 0.6,
            sill - 0.05,
            sill + 0.2,
            z0 + 0.4,
            z1 - 0.4,
            "water",
            0.5,
            tag,
        ),
        Box(
            x0 + 0.2,
            x0 + length - 0.2,
            sill - 0.02,
            sill + 0.08,
            z0 + 0.3,
            z1 - 0.3,
            "steel",
            0.08,
            tag,
        ),
    ]
    for xc in (x0 + 0.85, x0 + length - 0.9):
        yc = y0 + 0.31
        # Tyre, rim and brake disc, one wheel on each side (along the beam).
        for z in (z0 + 0.02, z1 - 0.22):
            out.append(DiscZ(xc, yc, 0.31, z, z + 0.2, "rubber", 1.1 * 0.35, 0.2, tag))
            out.append(DiscZ(xc, yc, 0.2, z + 0.05, z + 0.12, "steel", STEEL * 0.12, 0.04, tag))
            out.append(DiscZ(xc, yc, 0.14, z + 0.12, z + 0.145, "steel", STEEL, 0.05, tag))
    return out


def _vehicles(inside: Interior, rng: np.random.Generator) -> CargoLoad:
    load = CargoLoad(CargoKind.VEHICLES, "8703.23", "used passenger cars")
    x = inside.x0 + rng.uniform(0.1, 0.4)
    while x + 4.7 < inside.x1:
        load.scene.add(*_car(x, inside.y0, rng.uniform(0.2, inside.width - 1.9), rng))
        x += 4.8 + rng.uniform(0.1, 0.6)
    return load


def _machine(x0: float, y0: float, rng: np.random.Generator) -> tuple[list[Box | DiscZ], float]:
    """A crated machine on a steel skid: a plate-steel body, a motor and a gearbox inside."""
    tag = "cargo/machine"
    length, height, depth = rng.uniform(1.5, 3.0), rng.uniform(1.0, 1.9), rng.uniform(1.0, 1.8)
    z0 = rng.uniform(0.1, 2.2 - depth)
    plate = rng.uniform(0.006, 0.012)
    out: list[Box | DiscZ] = [
        Box(x0, x0 + length, y0, y0 + 0.15, z0, z0 + depth, "steel", STEEL * 0.12, tag),  # skid
        Box(
            x0 + 0.1,
            x0 + length - 0.1,
            y0 + 0.15,
            y0 + height,
            z0,
            z0 + 2 * plate,
            "steel",
            STEEL,
            tag,
        ),
        Box(
            x0 + 0.1, x0 + 0.1 + plate, y0 + 0.15, y0 + height, z0, z0 + depth, "steel", STEEL, tag
        ),
        Box(
            x0 + length - 0.1 - plate,
            x0 + length - 0.1,
            y0 + 0.15,
            y0 + height,
            z0,
            z0 + depth,
            "steel",
            STEEL,
            tag,
        ),
        Box(
            x0 + 0.1,
            x0 + length - 0.1,
            y0 + height - plate,
            y0 + height,
            z0,
            z0 + depth,
            "steel",
            STEEL,
            tag,
        ),
    ]
    r = rng.uniform(0.15, 0.3)
    xc, yc = x0 + length * rng.uniform(0.25, 0.4), y0 + 0.15 + r + 0.05
    out.append(DiscZ(xc, yc, r, z0 + 0.2, z0 + 0.2 + 2 * r, "steel", STEEL * 0.6, tag=tag))
    out.append(
        DiscZ(xc, yc, r * 0.8, z0 + 0.3, z0 + 0.2 + 1.6 * r, "copper", 8.96 * 0.3, r * 0.35, tag)
    )
    gx = x0 + length * rng.uniform(0.55, 0.7)
    gs = rng.uniform(0.25, 0.45)
    out.append(
        Box(
            gx,
            gx + gs,
            y0 + 0.15,
            y0 + 0.15 + gs,
            z0 + 0.3,
            z0 + 0.3 + gs,
            "steel",
            STEEL * 0.55,
            tag,
        )
    )
    # The crate: 20 mm boards.
    out.append(
        Box(
            x0 - 0.05,
            x0 + length + 0.05,
            y0,
            y0 + height + 0.05,
            z0 - 0.05,
            z0 - 0.01,
            "wood",
            0.5,
            "cargo/crate",
        )
    )
    out.append(
        Box(
            x0 - 0.05, x0 - 0.03, y0, y0 + height + 0.05, z0, z0 + depth, "wood", 0.5, "cargo/crate"
        )
    )
    out.append(
        Box(
            x0 + length + 0.03,
            x0 + length + 0.05,
            y0,
            y0 + height + 0.05,
            z0,
            z0 + depth,
            "wood",
            0.5,
            "cargo/crate",
        )
    )
    return out, length


def _machinery(inside: Interior, rng: np.random.Generator) -> CargoLoad:
    load = CargoLoad(CargoKind.MACHINERY, "8474.20", "crushing and grinding machines")
    x = inside.x0 + rng.uniform(0.1, 0.5)
    while x + 1.8 < inside.x1:
        solids, length = _machine(x, inside.y0, rng)
        load.scene.add(*solids)
        x += length + rng.uniform(0.3, 1.5)
    return load


_GENERATORS: dict[CargoKind, Callable[[Interior, np.random.Generator], CargoLoad]] = {
    CargoKind.PALLETS: _pallets,
    CargoKind.TEXTILE_BALES: _textile_bales,
    CargoKind.TEXTILE_CARTONS: _textile_cartons,
    CargoKind.BULK_BAGS: _bulk_bags,
    CargoKind.DRUMS: _drums,
    CargoKind.VEHICLES: _vehicles,
    CargoKind.MACHINERY: _machinery,
}


def generate_cargo(
    kind: CargoKind, inside: Interior, rng: np.random.Generator, *, max_kg: float | None = None
) -> CargoLoad:
    """A load of ``kind`` in ``inside``; packages are dropped from the far end above ``max_kg``."""
    if kind is CargoKind.EMPTY:
        return CargoLoad(CargoKind.EMPTY, None, "empty container")
    load = _GENERATORS[kind](inside, rng)
    if max_kg is not None and load.mass_kg > max_kg:
        # Trucks and cranes limit the payload: unload from the door end until it fits.
        solids = sorted(load.scene.solids, key=lambda s: s.bounds()[0])
        total = 0.0
        kept = []
        for s in solids:
            if total + s.mass_kg > max_kg:
                break
            kept.append(s)
            total += s.mass_kg
        load.scene.solids = kept
    return load
