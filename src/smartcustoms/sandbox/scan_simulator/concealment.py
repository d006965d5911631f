"""Concealments, targets and clutter: what the analyses must find, and what they must not.

Every function edits a scene in place and returns the truth about what it put there: kind,
material, mass and where (metres; the scanner turns that into pixels).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from smartcustoms.sandbox.scan_simulator.cargo import Interior, carton
from smartcustoms.sandbox.scan_simulator.scene import Box, Scene
from smartcustoms.scans.physics.materials import MATERIALS

__all__ = [
    "ConcealmentKind",
    "Placed",
    "add_clutter",
    "cigarettes_among_textiles",
    "dense_block",
    "false_wall",
    "metal_among_organics",
    "small_object",
]

STEEL = 7.85


class ConcealmentKind(StrEnum):
    NONE = "none"
    DENSE_BLOCK = "dense-block"
    FALSE_WALL = "false-wall"
    CIGARETTES_IN_TEXTILES = "cigarettes-in-textiles"
    METAL_IN_ORGANICS = "metal-in-organics"
    SMALL_ORGANIC = "small-organic"
    SMALL_STEEL = "small-steel"


@dataclass(frozen=True)
class Placed:
    """Something placed in a scene, with its bounds (x0, x1, y0, y1, z0, z1) in metres."""

    kind: str
    material: str
    mass_kg: float
    bounds: tuple[float, float, float, float, float, float]
    description: str


def _bounds(boxes: list[Box]) -> tuple[float, float, float, float, float, float]:
    return (
        min(b.x0 for b in boxes),
        max(b.x1 for b in boxes),
        min(b.y0 for b in boxes),
        max(b.y1 for b in boxes),
        min(b.z0 for b in boxes),
        max(b.z1 for b in boxes),
    )


def _block_in_load(
    scene: Scene,
    inside: Interior,
    rng: np.random.Generator,
    size: tuple[float, float, float],
    load_top: float,
) -> tuple[float, float, float]:
    """A random corner for a block of ``size`` inside the loaded volume (not above the load)."""
    sx, sy, sz = size
    x0 = rng.uniform(inside.x0 + 0.3, max(inside.x0 + 0.31, inside.x1 - sx - 0.3))
    y0 = inside.y0 + rng.uniform(0, max(0.0, min(load_top, inside.y1) - inside.y0 - sy))
    z0 = rng.uniform(0.0, max(0.0, inside.width - sz))
    return x0, y0, z0


def _load_top(scene: Scene, inside: Interior) -> float:
    tops = [s.bounds()[3] for s in scene.solids if s.tag.startswith("cargo")]
    return max(tops) if tops else inside.y1


def cigarettes_among_textiles(
    scene: Scene,
    inside: Interior,
    rng: np.random.Generator,
    mass_kg: float = 200.0,
    *,
    partitions: float = 1.0,
    partition_mm: float = 2.0,
    case_spread: float = 0.0,
    mix: float = 0.0,
    spread_rng: np.random.Generator | None = None,
) -> Placed:
    """Master cases of cigarettes (10,000 sticks, ≈16 kg, 0.21 g/cm³) stowed among the goods.

    The cases replace whatever textiles were in their volume; cartons inside each case show as a
    regular grid of board, unlike the uneven bales or garment cartons around them.

    For training with varied scenes (:mod:`.training`): ``partitions`` scales the board
    partitions' areal density (0: none drawn, as in real images where a 9 MeV scanner at 5 mm
    does not resolve them), ``partition_mm`` spreads the same board over a wider, fainter line;
    ``case_spread`` varies the sticks' density case to case (relative standard deviation) and
    ``mix`` puts that share of the sticks' mass in as cotton instead (a Z_eff nearer the
    textiles'); those draws come from ``spread_rng`` so that the placement's draws stay as they
    were. The defaults draw the cases as they always were.
    """
    case = (0.56, 0.30, 0.46)
    case_mass = 0.21 * case[0] * case[1] * case[2] * 1000
    n = max(1, round(mass_kg / case_mass))
    shapes = [
        (nx, ny, nz)
        for nx in range(1, 5)
        for ny in range(1, 6)
        for nz in range(1, 5)
        if nx * ny * nz == n
    ]
    if not shapes:
        shapes = [(n, 1, 1)]
    nx, ny, nz = shapes[int(rng.integers(len(shapes)))]
    size = (nx * case[0], ny * case[1], min(nz * case[2], inside.width))
    x0, y0, z0 = _block_in_load(scene, inside, rng, size, _load_top(scene, inside))
    region = (x0, x0 + size[0], y0, y0 + size[1], z0, z0 + size[2])
    scene.carve(region, "cargo")
    varied = spread_rng if spread_rng is not None else np.random.default_rng(0)
    boxes: list[Box] = []
    sticks: list[int] = []  # where the sticks are in ``boxes`` (kept in the order always drawn)
    wide = max(partition_mm, 0.1) / 1000
    for i in range(nx):
        for j in range(ny):
            for k in range(nz):
                bx, by = x0 + i * case[0], y0 + j * case[1]
                bz = z0 + k * case[2]
                cz1 = min(bz + case[2], inside.width)
                content, *board = carton(
                    bx,
                    bx + case[0],
                    by,
                    by + case[1],
                    bz,
                    cz1,
                    "cigarettes",
                    0.21,
                    "conceal/cigarettes",
                )
                if case_spread > 0:
                    factor = float(np.clip(1 + case_spread * varied.standard_normal(), 0.5, 1.5))
                    content = replace(content, density=content.density * factor)
                sticks.append(len(boxes))
                boxes.append(content)
                boxes.extend(board)
                if partitions <= 0:
                    continue
                # Five cartons across the case's length: board partitions every 0.11 m.
                for p in range(1, 5):
                    xp = bx + p * case[0] / 5 - (wide - 0.002) / 2
                    boxes.append(
                        Box(
                            xp,
                            xp + wide,
                            by,
                            by + case[1],
                            bz,
                            cz1,
                            "paper",
                            0.6 * partitions * (0.002 / wide),
                            "conceal/cigarettes",
                        )
                    )
    # The sticks make up what the board does not: the block weighs ``mass_kg`` in all.
    stickset = set(sticks)
    board_kg = sum(b.mass_kg for i, b in enumerate(boxes) if i not in stickset)
    scale = max(mass_kg - board_kg, 0.0) / sum(boxes[i].mass_kg for i in sticks)
    mix = min(max(mix, 0.0), 0.9)
    for i in sticks:
        boxes[i] = replace(boxes[i], density=boxes[i].density * scale * (1 - mix))
    if mix > 0:
        boxes += [
            replace(boxes[i], material="cotton textile", density=boxes[i].density * mix / (1 - mix))
            for i in sticks
        ]
    scene.add(*boxes)
    mass = sum(b.mass_kg for b in boxes)
    return Placed(
        "cigarettes-in-textiles", "cigarettes", mass, region, f"{n} master cases of cigarettes"
    )


def dense_block(
    scene: Scene,
    inside: Interior,
    rng: np.random.Generator,
    *,
    material: str = "steel",
    mass_kg: float = 200.0,
    density: float | None = None,
) -> Placed:
    """A compact block (e.g. steel parts, lead, compressed drugs) among the goods."""
    rho = density if density is not None else {"steel": 7.85, "lead": 11.35}.get(material, 1.0)
    volume = mass_kg / (rho * 1000)
    side = volume ** (1 / 3)
    size = (side * rng.uniform(0.8, 1.25), side * rng.uniform(0.8, 1.25), 0.0)
    size = (size[0], size[1], volume / (size[0] * size[1]))
    x0, y0, z0 = _block_in_load(scene, inside, rng, size, _load_top(scene, inside))
    region = (x0, x0 + size[0], y0, y0 + size[1], z0, z0 + size[2])
    scene.carve(region, "cargo")
    block = Box(*region, material, rho, "conceal/block")
    scene.add(block)
    return Placed(
        "dense-block",
        material,
        block.mass_kg,
        region,
        f"{block.mass_kg:.0f} kg block of {material}",
    )


def metal_among_organics(
    scene: Scene, inside: Interior, rng: np.random.Generator, mass_kg: float = 150.0
) -> Placed:
    """Steel parts (weapons, engine parts) packed in a crate among organic goods."""
    size = (rng.uniform(0.5, 0.9), rng.uniform(0.4, 0.7), rng.uniform(0.4, 0.8))
    x0, y0, z0 = _block_in_load(scene, inside, rng, size, _load_top(scene, inside))
    region = (x0, x0 + size[0], y0, y0 + size[1], z0, z0 + size[2])
    scene.carve(region, "cargo")
    boxes: list[Box] = []
    remaining = mass_kg
    while remaining > 0:
        m = min(remaining, rng.uniform(5, 25))
        v = m / (STEEL * 1000)
        w, h = rng.uniform(0.05, 0.3), rng.uniform(0.03, 0.2)
        d = min(v / (w * h), size[2])
        w = v / (h * d)
        bx = rng.uniform(x0, max(x0 + 1e-3, x0 + size[0] - w))
        by = rng.uniform(y0, max(y0 + 1e-3, y0 + size[1] - h))
        boxes.append(Box(bx, bx + w, by, by + h, z0, z0 + d, "steel", STEEL, "conceal/metal"))
        remaining -= m
    boxes.append(Box(*region, "wood", 0.05, "conceal/metal-crate"))
    scene.add(*boxes)
    mass = sum(b.mass_kg for b in boxes)
    return Placed(
        "metal-in-organics", "steel", mass, region, f"{mass:.0f} kg of steel parts in a crate"
    )


def false_wall(
    scene: Scene,
    inside: Interior,
    rng: np.random.Generator,
    *,
    content: str = "cigarettes",
    mass_kg: float = 400.0,
) -> Placed:
    """A second front wall 0.4–0.9 m behind the real one, with goods in the gap it hides."""
    depth = rng.uniform(0.4, 0.9)
    xw = inside.x0 + depth
    region = (inside.x0, xw + 0.05, inside.y0, inside.y1, 0.0, inside.width)
    scene.carve(region, "cargo")
    wall = Box(
        xw,
        xw + 0.04,
        inside.y0,
        inside.y1,
        0.0,
        inside.width,
        "steel",
        STEEL * 0.002 / 0.04,
        "conceal/wall",
    )
    rho = 0.21 if content == "cigarettes" else 0.8
    height = min(inside.height, mass_kg / (rho * 1000 * depth * inside.width))
    goods = Box(
        inside.x0 + 0.01,
        xw - 0.01,
        inside.y0,
        inside.y0 + height,
        0.05,
        inside.width - 0.05,
        content,
        rho,
        "conceal/goods",
    )
    goods = Box(
        goods.x0,
        goods.x1,
        goods.y0,
        goods.y1,
        goods.z0,
        goods.z1,
        content,
        mass_kg / (goods.volume_m3 * 1000),
        goods.tag,
    )
    scene.add(wall, goods)
    mass = wall.mass_kg + goods.mass_kg
    return Placed(
        "false-wall",
        content,
        mass,
        (inside.x0, xw + 0.04, *region[2:]),
        f"false front wall hiding {goods.mass_kg:.0f} kg of {content}",
    )


def small_object(
    scene: Scene, inside: Interior, rng: np.random.Generator, *, material: str, mass_kg: float
) -> Placed:
    """A small object in an otherwise empty container: on the floor (7 in 10) or taped up high.

    Shapes vary: a brick, a flat packet or a near-cube, in any orientation.
    """
    rho = MATERIALS[material].density
    volume = mass_kg / (rho * 1000)
    shape = int(rng.integers(3))
    if shape == 0:  # brick 2:1.4:1
        unit = (volume / 2.8) ** (1 / 3)
        dims = [2 * unit, 1.4 * unit, unit]
    elif shape == 1:  # flat packet 5:4:1
        unit = (volume / 20) ** (1 / 3)
        dims = [5 * unit, 4 * unit, unit]
    else:
        unit = volume ** (1 / 3)
        dims = [unit, unit, unit]
    rng.shuffle(dims)
    sx, sy, sz = dims
    x0 = rng.uniform(inside.x0 + 0.05, inside.x1 - sx - 0.05)
    z0 = rng.uniform(0.02, inside.width - sz - 0.02)
    on_floor = rng.random() < 0.7
    y0 = inside.y0 if on_floor else rng.uniform(inside.y0 + 0.3, inside.y1 - sy - 0.05)
    box = Box(x0, x0 + sx, y0, y0 + sy, z0, z0 + sz, material, rho, "conceal/object")
    scene.add(box)
    return Placed(
        f"small-{'steel' if material == 'steel' else 'organic'}",
        material,
        box.mass_kg,
        box.bounds(),
        f"{box.mass_kg:.1f} kg of {material}",
    )


def add_clutter(scene: Scene, inside: Interior, rng: np.random.Generator) -> list[Placed]:
    """What an honest empty container carries: dents, repair patches and light debris.

    Dents move steel without adding any (a bump of extra path ringed by a deficit); a welded
    patch adds a thin steel plate; debris is paper, film and splinters of a few tens of grams
    (log-normal, median 50 g – rarely above half a kilogram).
    """
    placed: list[Placed] = []
    for _ in range(int(rng.poisson(1.5))):
        w, h = rng.uniform(0.15, 0.5), rng.uniform(0.15, 0.5)
        x0 = rng.uniform(inside.x0 + 0.2, inside.x1 - w - 0.2)
        y0 = rng.uniform(inside.y0 + 0.1, inside.y1 - h - 0.1)
        extra = rng.uniform(0.0003, 0.0012)  # metres of steel along the beam
        inner = Box(
            x0 + w / 4,
            x0 + 3 * w / 4,
            y0 + h / 4,
            y0 + 3 * h / 4,
            -0.04,
            -0.04 + extra,
            "steel",
            STEEL,
            "clutter/dent",
        )
        # The ring's deficit carries the same mass with the opposite sign.
        ring_area = w * h - (w / 2) * (h / 2)
        deficit = -STEEL * (w / 2) * (h / 2) / ring_area
        ring = [
            Box(x0, x0 + w, y0, y0 + h / 4, -0.04, -0.04 + extra, "steel", deficit, "clutter/dent"),
            Box(
                x0,
                x0 + w,
                y0 + 3 * h / 4,
                y0 + h,
                -0.04,
                -0.04 + extra,
                "steel",
                deficit,
                "clutter/dent",
            ),
            Box(
                x0,
                x0 + w / 4,
                y0 + h / 4,
                y0 + 3 * h / 4,
                -0.04,
                -0.04 + extra,
                "steel",
                deficit,
                "clutter/dent",
            ),
            Box(
                x0 + 3 * w / 4,
                x0 + w,
                y0 + h / 4,
                y0 + 3 * h / 4,
                -0.04,
                -0.04 + extra,
                "steel",
                deficit,
                "clutter/dent",
            ),
        ]
        scene.add(inner, *ring)
        placed.append(Placed("dent", "steel", 0.0, inner.bounds(), "dent in a side wall"))
    if rng.random() < 0.15:
        w, h = rng.uniform(0.3, 1.2), rng.uniform(0.3, 1.0)
        x0 = rng.uniform(inside.x0 + 0.2, inside.x1 - w - 0.2)
        y0 = rng.uniform(inside.y0, inside.y1 - h)
        patch = Box(x0, x0 + w, y0, y0 + h, -0.045, -0.043, "steel", STEEL, "clutter/patch")
        scene.add(patch)
        placed.append(
            Placed("patch", "steel", patch.mass_kg, patch.bounds(), "welded repair patch")
        )
    for _ in range(int(rng.poisson(2.0))):
        mass = float(np.exp(rng.normal(np.log(0.05), 0.8)))
        material = ["paper", "polyethylene", "wood"][int(rng.integers(3))]
        rho = {"paper": 0.3, "polyethylene": 0.2, "wood": 0.5}[material]
        area = mass / (rho * 1000 * rng.uniform(0.005, 0.03))
        w = np.sqrt(area) * rng.uniform(0.6, 1.6)
        d = area / w
        x0 = rng.uniform(inside.x0 + 0.05, inside.x1 - w - 0.05)
        z0 = rng.uniform(0, inside.width - d)
        t = mass / (rho * 1000 * w * d)
        debris = Box(
            x0, x0 + w, inside.y0, inside.y0 + t, z0, z0 + d, material, rho, "clutter/debris"
        )
        scene.add(debris)
        placed.append(
            Placed(
                "debris",
                material,
                debris.mass_kg,
                debris.bounds(),
                f"{mass * 1000:.0f} g of {material} debris",
            )
        )
    return placed
