"""Scenes: a container of our own build, its load, and what is hidden in it.

All dimensions in metres, densities in g/cm³, masses in kg. The container follows ISO 668
outer dimensions (20 ft 6.058 m, 40 ft 12.192 m; 2.438 m wide; 2.591 m high, 2.896 m for a
high cube) with a build of our own: corrugated side walls (1.6–2.0 mm sheet, trapezoidal
corrugation of a 0.278 m pitch and 36 mm depth, each wall with its own phase), top and bottom side
rails, a corrugated 2 mm roof, a 28 mm plywood floor on steel C-section cross-members every
0.28–0.31 m, corner posts and castings, a corrugated front wall and a door end with its frame and
locking bars, and sometimes a repair patch. Loads are built box by box, each carton, case, roll,
crate or pallet with its own density and composition drawn from a spread; a concealment takes
the place of the goods where it sits (the goods it displaces are removed, exactly). There are no
cardboard partition lines: a carton is one box of its smeared density.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from .attenuation import Material
from .geometry import Box, displace

__all__ = ["Cargo", "Concealment", "ContainerBuild", "Load", "build_container", "build_load"]

STEEL = Material.of("steel", iron=0.985, silica=0.015)
WOOD = Material.of("wood", cellulose=0.92, water=0.08)
RUBBER = Material.of("rubber", cellulose=0.85, silica=0.15)


class Cargo(StrEnum):
    EMPTY = "empty"
    GARMENTS = "garment-cartons"
    FRUIT = "fruit-boxes"
    TILES = "ceramic-tiles"
    MACHINERY = "machinery-parts"
    TEXTILE_ROLLS = "textile-rolls"


class Concealment(StrEnum):
    NONE = "none"
    CIGARETTES = "cigarettes"  # 200 kg among garments
    DRUGS = "drugs"  # 20 kg, organic 1.0–1.3 g/cm³, among fruit or tiles
    METAL = "metal"  # a 5–15 kg steel object among machinery parts or textile rolls
    ORGANIC_2KG = "organic-2kg"  # in an empty container
    STEEL_1KG = "steel-1kg"  # in an empty container


HS = {
    Cargo.GARMENTS: ("6204.62", "6109.10"),
    Cargo.FRUIT: ("0805.10", "0803.90"),
    Cargo.TILES: ("6907.21",),
    Cargo.MACHINERY: ("8483.40", "8409.99"),
    Cargo.TEXTILE_ROLLS: ("5208.52", "5407.61"),
}


@dataclass(frozen=True)
class ContainerBuild:
    length: float
    height: float
    width: float = 2.438
    iso_code: str = "22G1"
    floor_top: float = 0.160  # top of the plywood floor above the underside
    end_wall: float = 0.08  # inner face of each end from the outer end
    side_sheet_mm: float = 1.6
    door_left: bool = False  # the door end at u = 0

    @property
    def inner(self) -> tuple[float, float, float, float]:
        """(u0, u1, v0, v1) of the load space."""
        return (self.end_wall, self.length - self.end_wall, self.floor_top, self.height - 0.045)

    @property
    def inner_width(self) -> float:
        return 2.352


def _corrugated(
    u0: float, u1: float, pitch: float, phase: float
) -> list[tuple[float, float, float]]:
    """Segments (u0, u1, path factor) of a trapezoidal corrugation seen across its sheet:
    flats 72 and 68 mm, inclined runs of 69 mm at 27° (the beam crosses them 1/cos 27° longer)."""
    parts = [(0.072, 1.0), (0.069, 1 / math.cos(math.radians(27))), (0.068, 1.0)]
    parts.append((pitch - sum(p for p, _ in parts), 1 / math.cos(math.radians(27))))
    out = []
    u = u0 - phase * pitch
    k = 0
    while u < u1:
        size, factor = parts[k % 4]
        a, b = max(u, u0), min(u + size, u1)
        if b > a:
            out.append((a, b, factor))
        u += size
        k += 1
    return out


def build_container(kind: str, rng: np.random.Generator) -> tuple[ContainerBuild, list[Box]]:
    """A container's steel and wood: ``kind`` "20", "40" or "40hc"."""
    length = 6.058 if kind == "20" else 12.192
    height = 2.896 if kind == "40hc" else 2.591
    code = {"20": "22G1", "40": "42G1", "40hc": "45G1"}[kind]
    c = ContainerBuild(
        length,
        height,
        iso_code=code,
        side_sheet_mm=float(rng.choice([1.6, 1.6, 2.0])),
        door_left=bool(rng.random() < 0.5),
    )
    boxes: list[Box] = []
    fe = 7.85
    half = c.width / 2
    wall_v0, wall_v1 = 0.16, c.height - 0.075
    # side walls, each with its own corrugation phase
    for side in (-1, 1):
        w = side * (half - 0.02)
        for a, b, f in _corrugated(0.15, c.length - 0.15, 0.278, float(rng.random())):
            boxes.append(
                Box(
                    a,
                    b,
                    wall_v0,
                    wall_v1,
                    w - 0.02,
                    w + 0.02,
                    fe,
                    STEEL,
                    path_cm=c.side_sheet_mm / 10 * f,
                )
            )
        # top side rail: 60 × 60 × 3 mm tube; bottom side rail: 160 mm C-section, 4.5 mm
        boxes.append(
            Box(
                0.0,
                c.length,
                c.height - 0.075,
                c.height - 0.015,
                w - 0.03,
                w + 0.03,
                fe,
                STEEL,
                path_cm=0.6,
            )
        )
        for v in (c.height - 0.075, c.height - 0.018):
            boxes.append(
                Box(0.0, c.length, v, v + 0.003, w - 0.03, w + 0.03, fe, STEEL, path_cm=6.0)
            )
        boxes.append(Box(0.0, c.length, 0.0, 0.16, w - 0.03, w + 0.03, fe, STEEL, path_cm=0.45))
        for v in (0.0, 0.1555):
            boxes.append(
                Box(0.0, c.length, v, v + 0.0045, w - 0.03, w + 0.03, fe, STEEL, path_cm=4.8)
            )
    # roof: 2 mm sheet across the whole width, corrugated up and down by 20 mm along u
    rw = c.width - 0.08
    for a, b, f in _corrugated(0.15, c.length - 0.15, 0.23, float(rng.random())):
        top = (a // 0.23) % 2 == 0
        v1 = c.height - (0.008 if top else 0.028)
        thick = 0.002 if f == 1.0 else 0.022  # an inclined run spans the corrugation's depth
        v0 = v1 - thick if f == 1.0 else c.height - 0.030
        for k in range(5):  # across the width, one part per depth slice
            w0 = -rw / 2 + k * rw / 5
            boxes.append(
                Box(
                    a,
                    b,
                    v0,
                    v0 + thick,
                    w0,
                    w0 + rw / 5,
                    fe,
                    STEEL,
                    path_cm=rw * 20 * 0.2 / (thick * 1000),
                )
            )
    # floor: 28 mm plywood over C-section cross-members (122 mm, 4.5 mm web) every 0.28–0.31 m
    ply = float(rng.uniform(0.62, 0.74))
    for k in range(5):
        w0 = -c.inner_width / 2 + k * c.inner_width / 5
        boxes.append(
            Box(
                0.05,
                c.length - 0.05,
                c.floor_top - 0.028,
                c.floor_top,
                w0,
                w0 + c.inner_width / 5,
                ply,
                WOOD,
            )
        )
    spacing = float(rng.uniform(0.28, 0.31))
    u = 0.25
    while u < c.length - 0.25:
        for k in range(5):
            w0 = -c.inner_width / 2 + k * c.inner_width / 5
            w1 = w0 + c.inner_width / 5
            boxes.append(Box(u, u + 0.0045, 0.01, 0.132, w0, w1, fe, STEEL))  # web
            for v in (0.01, 0.1275):  # flanges, 45 mm wide
                boxes.append(Box(u, u + 0.045, v, v + 0.0045, w0, w1, fe, STEEL))
        u += spacing
    # ends: corner posts (150 mm, 6 mm plate, both sides), castings, front wall, door end
    for end in (0.0, c.length):
        u0, u1 = (end, end + 0.15) if end == 0 else (end - 0.15, end)
        for side in (-1, 1):
            w = side * (half - 0.08)
            boxes.append(Box(u0, u1, 0.0, c.height, w - 0.08, w + 0.08, fe, STEEL, path_cm=1.2))
            for v0 in (0.0, c.height - 0.118):
                uc0, uc1 = (end, end + 0.178) if end == 0 else (end - 0.178, end)
                boxes.append(
                    Box(uc0, uc1, v0, v0 + 0.118, w - 0.08, w + 0.08, fe, STEEL, path_cm=4.5)
                )
        door = (end == 0) == c.door_left
        sheet = 0.2 if door else 0.16  # cm, door panels 2 mm, front wall 1.6 mm
        ue0, ue1 = (end + 0.03, end + 0.075) if end == 0 else (end - 0.075, end - 0.03)
        for k in range(5):
            w0 = -c.inner_width / 2 + k * c.inner_width / 5
            boxes.append(
                Box(
                    ue0,
                    ue1,
                    0.16,
                    c.height - 0.1,
                    w0,
                    w0 + c.inner_width / 5,
                    fe,
                    STEEL,
                    path_cm=c.inner_width * 100 / 5 * sheet / 4.5,
                )
            )
            if door:  # header and sill: 100 × 100 × 5 mm hollow sections across the width
                for v0 in (0.04, c.height - 0.14):
                    boxes.append(
                        Box(
                            u0,
                            u1 - 0.05,
                            v0,
                            v0 + 0.1,
                            w0,
                            w0 + c.inner_width / 5,
                            fe,
                            STEEL,
                            path_cm=c.inner_width * 100 / 5 * 0.1,
                        )
                    )
        if door:  # four locking bars, 27 mm tubes of 4 mm wall
            for w in (-0.9, -0.35, 0.35, 0.9):
                boxes.append(
                    Box(
                        ue0 - 0.03,
                        ue0 - 0.003,
                        0.12,
                        c.height - 0.1,
                        w - 0.0135,
                        w + 0.0135,
                        fe,
                        STEEL,
                        path_cm=1.3,
                    )
                )
    # a repair patch (1.5–3 mm plate) on a wall, now and then
    for _ in range(int(rng.integers(0, 3))):
        if rng.random() < 0.5:
            continue
        a = float(rng.uniform(0.5, c.length - 1.0))
        v0 = float(rng.uniform(0.3, c.height - 0.8))
        w = float(rng.choice([-1, 1])) * (half - 0.01)
        boxes.append(
            Box(
                a,
                a + float(rng.uniform(0.15, 0.6)),
                v0,
                v0 + float(rng.uniform(0.1, 0.5)),
                w - 0.01,
                w + 0.01,
                fe,
                STEEL,
                path_cm=float(rng.uniform(0.15, 0.3)),
            )
        )
    return c, boxes


def chassis(c: ContainerBuild, rng: np.random.Generator) -> list[Box]:
    """A skeletal trailer under the container: main beams, axles, dual wheels (v < 0)."""
    fe = 7.85
    boxes = []
    for w in (-0.5, 0.5):  # main I-beams, 350 mm deep, 8 mm web, 150 × 12 mm flanges
        boxes.append(Box(0.3, c.length - 0.3, -0.35, 0.0, w - 0.004, w + 0.004, fe, STEEL))
        for v in (-0.35, -0.012):
            boxes.append(Box(0.3, c.length - 0.3, v, v + 0.012, w - 0.075, w + 0.075, fe, STEEL))
    rear = c.length - 1.2 if not c.door_left else 1.2
    step = -1.31 if not c.door_left else 1.31
    for k in range(3 if c.length > 7 else 2):
        uc = rear + k * step
        boxes.append(
            Box(
                uc - 0.5,
                uc + 0.5,
                -1.15,
                -0.15,
                -1.25,
                1.25,
                1.15,
                RUBBER,
                shape="disk",
                path_cm=4 * 30.0 * 0.55,
            )
        )  # tyres, 4 × 0.3 m, not solid
        boxes.append(
            Box(
                uc - 0.29,
                uc + 0.29,
                -0.94,
                -0.36,
                -1.25,
                1.25,
                fe,
                STEEL,
                shape="disk",
                path_cm=4 * 1.2,
            )
        )  # rims
        boxes.append(
            Box(
                uc - 0.065,
                uc + 0.065,
                -0.715,
                -0.585,
                -1.25,
                1.25,
                fe,
                STEEL,
                shape="disk",
                path_cm=250 * 0.4,
            )
        )  # the axle, a tube
    return boxes


@dataclass
class Load:
    """What is in the container: the boxes, the goods' mass and the concealment's pieces."""

    cargo: Cargo
    hs_code: str | None
    boxes: list[Box] = field(default_factory=list)
    concealed: list[Box] = field(default_factory=list)
    concealed_kg: float = 0.0
    description: str = ""

    @property
    def goods_kg(self) -> float:
        return sum(b.mass_kg for b in self.boxes) + sum(b.mass_kg for b in self.concealed)


def _garment(rng: np.random.Generator) -> Material:
    moist = float(rng.uniform(0.0, 0.06))
    return Material.of("garments", cellulose=1 - moist, water=moist)


def _stack_cartons(
    c: ContainerBuild,
    rng: np.random.Generator,
    size: tuple[float, float, float],
    density: tuple[float, float],
    material: Callable[[np.random.Generator], Material],
    fill: float,
) -> list[Box]:
    """Floor-loaded cartons, stacked in columns across the width, with gaps and missing ones."""
    u0, u1, v0, v1 = c.inner
    lu, lv, lw = (s * float(rng.uniform(0.93, 1.07)) for s in size)
    n_w = max(1, int(c.inner_width // lw))
    n_v = max(1, int((v1 - v0) // lv))
    end = u0 + (u1 - u0) * fill
    if rng.random() < 0.5:  # loaded from the front wall or from the doors
        start = u0
    else:
        start, end = u1 - (end - u0), u1
    boxes = []
    u = start
    w_start = -n_w * lw / 2
    while u + lu <= end:
        layers = n_v - int(rng.choice([0, 0, 0, 1, 1, 2]))
        for k in range(layers):
            for j in range(n_w):
                if rng.random() < 0.025:
                    continue
                w0 = w_start + j * lw + float(rng.uniform(-0.01, 0.01))
                boxes.append(
                    Box(
                        u,
                        u + lu,
                        v0 + k * lv,
                        v0 + (k + 1) * lv,
                        w0,
                        w0 + lw * 0.98,
                        float(rng.uniform(*density)),
                        material(rng),
                    )
                )
        u += lu + float(rng.uniform(0.0, 0.03))
    return boxes


def _pallets(
    c: ContainerBuild,
    rng: np.random.Generator,
    footprint: tuple[float, float],
    height: tuple[float, float],
    box_size: tuple[float, float, float],
    density: tuple[float, float],
    material: Callable[[np.random.Generator], Material],
    pallet_kg_max: float,
    payload_kg: float,
) -> list[Box]:
    """Pallets two across the width, each stacked with boxes of goods."""
    u0, u1, v0, _ = c.inner
    lu, lw = footprint
    boxes: list[Box] = []
    total = 0.0
    u = u0 + float(rng.uniform(0.0, 0.1))
    while u + lu <= u1 and total < payload_kg:
        for w0 in (-c.inner_width / 2 + 0.05, 0.05):
            top = v0 + 0.144 + float(rng.uniform(*height))
            pallet = [Box(u, u + lu, v0, v0 + 0.144, w0, w0 + lw, 0.22, WOOD)]
            nu_, nw_ = max(1, int(lu // box_size[0])), max(1, int(lw // box_size[2]))
            bu, bw = lu / nu_, lw / nw_
            v = v0 + 0.144
            while v + box_size[1] <= top:
                for a in range(nu_):
                    for b in range(nw_):
                        pallet.append(
                            Box(
                                u + a * bu,
                                u + (a + 1) * bu,
                                v,
                                v + box_size[1],
                                w0 + b * bw,
                                w0 + (b + 1) * bw * 0.99,
                                float(rng.uniform(*density)),
                                material(rng),
                            )
                        )
                v += box_size[1]
            mass = sum(p.mass_kg for p in pallet)
            if mass > pallet_kg_max:
                continue
            boxes += pallet
            total += mass
        u += lu + float(rng.uniform(0.02, 0.12))
    return boxes


def _fruit(rng: np.random.Generator) -> Material:
    dry = float(rng.uniform(0.10, 0.22))
    return Material.of("fruit", water=1 - dry, cellulose=dry)


def _tile(rng: np.random.Generator) -> Material:
    al = float(rng.uniform(0.12, 0.25))
    fe = float(rng.uniform(0.0, 0.04))
    return Material.of("ceramic", silica=1 - al - fe, aluminium=al, iron=fe)


def _machinery(c: ContainerBuild, rng: np.random.Generator) -> list[Box]:
    """Wooden crates of steel and cast-iron parts: hollow castings, shafts, plates."""
    u0, u1, v0, _ = c.inner
    boxes: list[Box] = []
    payload = float(rng.uniform(5000, 13000)) * (1.0 if c.length < 7 else 1.5)
    total = 0.0
    u = u0 + 0.05
    while u < u1 - 0.8 and total < payload:
        lu = float(rng.uniform(0.8, 1.6))
        if u + lu > u1:
            break
        w0 = -c.inner_width / 2 + 0.05
        while w0 < c.inner_width / 2 - 0.6:
            lw = min(float(rng.uniform(0.7, 1.2)), c.inner_width / 2 - w0)
            h = float(rng.uniform(0.6, 1.3))
            crate = Box(u, u + lu, v0, v0 + h, w0, w0 + lw, 0.55, WOOD, path_cm=2 * 2.0)
            boxes.append(crate)
            for _ in range(int(rng.integers(1, 5))):
                kind = rng.random()
                pu0 = u + float(rng.uniform(0.05, lu * 0.5))
                pv0 = v0 + 0.08
                pw0 = w0 + float(rng.uniform(0.03, lw * 0.4))
                if kind < 0.45:  # a hollow casting: effective 0.8–2.2 g/cm³ of iron
                    su, sv, sw = (float(rng.uniform(0.2, 0.6)) for _ in range(3))
                    su, sw = min(su, u + lu - pu0), min(sw, w0 + lw - pw0)
                    sv = min(sv, h - 0.1)
                    part = Box(
                        pu0,
                        pu0 + su,
                        pv0,
                        pv0 + sv,
                        pw0,
                        pw0 + sw,
                        float(rng.uniform(0.8, 2.2)),
                        Material.of("cast iron", iron=0.95, silica=0.05),
                    )
                elif kind < 0.75:  # a shaft along the container
                    d = float(rng.uniform(0.05, 0.14))
                    lu_ = min(float(rng.uniform(0.3, lu - 0.1)), u + lu - pu0)
                    part = Box(
                        pu0,
                        pu0 + lu_,
                        pv0,
                        pv0 + d,
                        pw0,
                        pw0 + d,
                        7.85,
                        STEEL,
                        shape="rod",
                        path_cm=d * 100,
                    )
                else:  # a stack of plates
                    su, sw = float(rng.uniform(0.2, 0.6)), float(rng.uniform(0.2, 0.5))
                    su, sw = min(su, u + lu - pu0), min(sw, w0 + lw - pw0)
                    sv = float(rng.uniform(0.02, 0.15))
                    part = Box(pu0, pu0 + su, pv0, pv0 + sv, pw0, pw0 + sw, 7.85, STEEL)
                if part.u1 > part.u0 and part.w1 > part.w0:
                    boxes.append(part)
                    total += part.mass_kg
            w0 += lw + 0.05
        u += lu + float(rng.uniform(0.05, 0.3))
    return boxes


def _rolls(c: ContainerBuild, rng: np.random.Generator) -> list[Box]:
    """Rolls of woven fabric, lying across the container (axis along the beam) or along it."""
    u0, u1, v0, v1 = c.inner
    boxes: list[Box] = []
    fill = float(rng.uniform(0.6, 0.98))
    end = u0 + (u1 - u0) * fill
    across = rng.random() < 0.7
    d = float(rng.uniform(0.22, 0.40))
    length = float(rng.uniform(1.5, 1.8))
    top = v1 - float(rng.uniform(0.1, 0.6))

    def mat() -> Material:
        syn = float(rng.uniform(0.0, 1.0))  # cotton (cellulose) or polyester (near it)
        return Material.of("fabric", cellulose=1.0, water=0.05 * (1 - syn))

    if across:
        u = u0 + 0.02
        while u + d <= end:
            v = v0
            while v + d <= top:
                w0 = float(rng.uniform(-c.inner_width / 2, c.inner_width / 2 - length))
                dd = d * float(rng.uniform(0.92, 1.05))
                boxes.append(
                    Box(
                        u,
                        u + dd,
                        v,
                        v + dd,
                        w0,
                        w0 + length,
                        float(rng.uniform(0.45, 0.75)),
                        mat(),
                        shape="disk",
                    )
                )
                v += dd
            u += d * float(rng.uniform(1.0, 1.08))
    else:
        n_w = int(c.inner_width // d)
        u = u0 + 0.02
        while u + length <= end:
            v = v0
            while v + d <= top:
                for j in range(n_w):
                    w0 = -n_w * d / 2 + j * d
                    boxes.append(
                        Box(
                            u,
                            u + length,
                            v,
                            v + d,
                            w0,
                            w0 + d,
                            float(rng.uniform(0.45, 0.75)),
                            mat(),
                            shape="rod",
                            path_cm=d * 100,
                        )
                    )
                v += d
            u += length + float(rng.uniform(0.02, 0.1))
    return boxes


def _inside(
    load: list[Box],
    size: tuple[float, float, float],
    rng: np.random.Generator,
    *,
    on_floor: bool = False,
) -> tuple[float, float, float]:
    """A corner (u0, v0, w0) for a block of ``size`` that sits within the goods."""
    goods = [b for b in load if b.density > 0 and b.material is not WOOD]
    host = goods[int(rng.integers(len(goods)))]
    u_lo = min(b.u0 for b in goods)
    u_hi = max(b.u1 for b in goods)
    v_lo = min(b.v0 for b in goods)
    w_lo, w_hi = min(b.w0 for b in goods), max(b.w1 for b in goods)
    # the stack top where the host is, so that the block stays under the goods' surface
    v_hi = max((b.v1 for b in goods if b.u0 <= host.u0 + 1e-6 < b.u1 + 1e-6), default=host.v1)
    uc = (host.u0 + host.u1) / 2
    u0 = float(np.clip(uc - size[0] / 2, u_lo, max(u_lo, u_hi - size[0])))
    v0 = v_lo if on_floor else float(rng.uniform(v_lo, max(v_lo, v_hi - size[1])))
    w0 = float(rng.uniform(w_lo, max(w_lo, w_hi - size[2])))
    return u0, v0, w0


def _block(
    corner: tuple[float, float, float],
    size: tuple[float, float, float],
    density: float,
    material: Material,
    hosts: list[Box],
    shape: str = "box",
) -> tuple[list[Box], list[Box]]:
    u0, v0, w0 = corner
    piece = Box(
        u0,
        u0 + size[0],
        v0,
        v0 + size[1],
        w0,
        w0 + size[2],
        density,
        material,
        shape,
        path_cm=size[2] * 100 if shape == "rod" else None,
    )
    return [piece], displace(piece, hosts)


def build_load(
    c: ContainerBuild, cargo: Cargo, concealment: Concealment, rng: np.random.Generator
) -> Load:
    hs = None if cargo is Cargo.EMPTY else str(rng.choice(HS[cargo]))
    load = Load(cargo, hs)
    if cargo is Cargo.GARMENTS:
        load.boxes = _stack_cartons(
            c, rng, (0.60, 0.40, 0.45), (0.12, 0.30), _garment, float(rng.uniform(0.55, 1.0))
        )
        load.description = "garments in cartons"
    elif cargo is Cargo.FRUIT:
        load.boxes = _pallets(
            c, rng, (1.2, 1.0), (1.7, 2.1), (0.40, 0.25, 0.30), (0.38, 0.62), _fruit, 1400, 26000
        )
        load.description = "fruit in boxes on pallets"
    elif cargo is Cargo.TILES:
        load.boxes = _pallets(
            c,
            rng,
            (1.2, 0.8),
            (0.45, 0.8),
            (0.60, 0.09, 0.40),
            (1.7, 2.1),
            _tile,
            1500,
            21000 if c.length < 7 else 26000,
        )
        load.description = "ceramic tiles on pallets"
    elif cargo is Cargo.MACHINERY:
        load.boxes = _machinery(c, rng)
        load.description = "machinery parts in crates"
    elif cargo is Cargo.TEXTILE_ROLLS:
        load.boxes = _rolls(c, rng)
        load.description = "rolls of woven fabric"
    pieces: list[Box] = []
    removed: list[Box] = []
    if concealment is Concealment.CIGARETTES:
        density = float(rng.uniform(0.22, 0.30))
        volume = 200.0 / (density * 1000)
        depth = 0.45 if rng.random() < 0.3 else float(rng.uniform(0.6, 1.8))
        area = volume / depth
        aspect = float(np.exp(rng.uniform(np.log(0.4), np.log(2.5))))
        h = min(math.sqrt(area * aspect), 1.8)
        size = (area / h, h, depth)
        ash = float(rng.uniform(0.05, 0.10))
        mat = Material.of("cigarettes", cellulose=0.88 - ash, water=0.12, silica=ash)
        pieces, removed = _block(_inside(load.boxes, size, rng), size, density, mat, load.boxes)
        load.concealed_kg = 200.0
    elif concealment is Concealment.DRUGS:
        density = float(rng.uniform(1.0, 1.3))
        volume = 20.0 / (density * 1000)
        a = float(rng.uniform(0.25, 0.5))
        b = float(rng.uniform(0.15, 0.35))
        size = (a, b, volume / (a * b))
        chlor = float(rng.uniform(0.0, 0.1))  # cocaine hydrochloride's chlorine, roughly
        mat = Material.of("drugs", cellulose=1.0 - chlor, silica=chlor)
        pieces, removed = _block(_inside(load.boxes, size, rng), size, density, mat, load.boxes)
        load.concealed_kg = 20.0
    elif concealment is Concealment.METAL:
        target = float(rng.uniform(5.0, 15.0))
        corner = _inside(load.boxes, (1.0, 0.3, 0.3), rng)
        n = int(rng.integers(1, 4))
        for k in range(n):
            share = target / n
            d = float(rng.uniform(0.02, 0.045))
            length = share / (7.85 * math.pi * (d * 100 / 2) ** 2 / 1000) / 100
            if length > 1.0:  # a receiver-like block instead of a long barrel
                section = share / (7.85 * 1000 * 0.6)
                size = (0.6, math.sqrt(section), math.sqrt(section))
                shape = "box"
            else:
                size, shape = (length, d, d), "rod"
            c0 = (corner[0] + 0.1 * k, corner[1] + 0.08 * k, corner[2] + 0.05 * k)
            p, r = _block(c0, size, 7.85, STEEL, load.boxes, shape)
            pieces += p
            removed += r
        load.concealed_kg = target
    elif concealment in (Concealment.ORGANIC_2KG, Concealment.STEEL_1KG):
        steel = concealment is Concealment.STEEL_1KG
        mass = 1.0 if steel else 2.0
        density = 7.85 if steel else float(rng.uniform(0.9, 1.2))
        volume = mass / (density * 1000)
        a, b = float(rng.uniform(0.05, 0.2)), float(rng.uniform(0.03, 0.12))
        if not steel:
            a, b = a * 1.6, b * 1.6
        size = (a, b, volume / (a * b))
        u0, u1, v0, v1 = c.inner
        u = float(rng.uniform(u0 + 0.3, u1 - 0.3 - a))
        v = v0 if rng.random() < 0.7 else float(rng.uniform(v0, v1 - b - 0.1))
        w = float(rng.uniform(-1.1, 1.1 - size[2]))
        mat = STEEL if steel else Material.of("package", cellulose=0.9, water=0.1)
        pieces = [Box(u, u + size[0], v, v + size[1], w, w + size[2], density, mat)]
        load.concealed_kg = mass
    load.concealed = pieces + removed
    load.boxes = load.boxes
    return load
