"""Container templates: ISO 668 dimensions and the steel (or insulated) structure of each type.

Seen from the side, a container is mostly transparent: two corrugated side walls face the beam
(≈2.5 g/cm² of steel together, more on the corrugation flanks), while the floor, roof, rails and
end frames lie along the beam and project as dense bands along the image's edges. Thicknesses are
typical of dry and reefer boxes; each built container's steel is scaled so that its mass lands
within a few percent of the nominal tare, as real boxes of one type differ by maker and repairs.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from smartcustoms.sandbox.scan_simulator.scene import Box, DiscZ, Scene
from smartcustoms.scans.container_types import CONTAINERS, ContainerSpec, ContainerType

__all__ = ["CONTAINERS", "ContainerSpec", "ContainerType", "build_container"]


STEEL = 7.85


def _corrugated_wall(
    x0: float, x1: float, y0: float, y1: float, z: float, thickness: float, rng: np.random.Generator
) -> list[Box]:
    """A side wall with vertical trapezoidal corrugations, seen face-on.

    The flanks are inclined to the beam, so the beam crosses more steel there (1/cos of the flank
    angle): the familiar fine vertical stripes of a container wall.
    """
    pitch = 0.278 * rng.uniform(0.99, 1.01)
    flat_out, flat_in, depth = 0.072, 0.070, 0.036
    flank = (pitch - flat_out - flat_in) / 2
    flank_factor = float(np.hypot(flank, depth) / flank)
    boxes: list[Box] = []
    x = x0 - rng.uniform(0, pitch)
    while x < x1:
        for width, factor in (
            (flat_out, 1.0),
            (flank, flank_factor),
            (flat_in, 1.0),
            (flank, flank_factor),
        ):
            a, b = max(x, x0), min(x + width, x1)
            if b > a:
                t = thickness * factor * rng.normal(1.0, 0.01)
                boxes.append(Box(a, b, y0, y1, z, z + t, "steel", STEEL, "container/wall"))
            x += width
    return boxes


def build_container(
    spec: ContainerSpec, x_origin: float, y_origin: float, rng: np.random.Generator
) -> tuple[Scene, float]:
    """The structure of one container whose underside's near end is at (x_origin, y_origin).

    Returns the scene (solids tagged ``container/…``) and its actual mass (kg). The interior
    spans x ∈ [x_origin + end, …], y from ``y_origin + floor_height``, z ∈ [0, inner_width].
    """
    s = Scene()
    end = (spec.length - spec.inner_length) / 2
    xi0, xi1 = x_origin + end, x_origin + end + spec.inner_length
    floor_top = y_origin + spec.floor_height
    yi1 = floor_top + spec.inner_height
    y_top = y_origin + spec.height
    w = spec.inner_width
    tag = "container"

    if spec.reefer:
        # Insulated walls: aluminium skins around polyurethane foam, aluminium T-bar floor.
        for z in (-0.08, w + 0.08):
            s.add(Box(xi0, xi1, floor_top, yi1, z, z + 0.0012, "steel", STEEL, f"{tag}/wall"))
            s.add(
                Box(
                    xi0,
                    xi1,
                    floor_top,
                    yi1,
                    z + 0.001,
                    z + 0.08,
                    "polyethylene",
                    0.035,
                    f"{tag}/foam",
                )
            )
            s.add(Box(xi0, xi1, floor_top, yi1, z, z + 0.0015, "aluminium", 2.7, f"{tag}/lining"))
        s.add(
            Box(
                xi0, xi1, floor_top - 0.05, floor_top, 0, w, "aluminium", 2.7 * 0.15, f"{tag}/floor"
            )
        )
        s.add(Box(xi0, xi1, yi1, y_top - 0.01, 0, w, "polyethylene", 0.035, f"{tag}/foam"))
        s.add(Box(xi0, xi1, y_top - 0.01, y_top, 0, w, "aluminium", 2.7 * 0.2, f"{tag}/roof"))
        # The refrigeration machinery fills the front end: compressor, coils, fans, frame.
        mx0 = x_origin
        s.add(
            Box(
                mx0,
                mx0 + 0.25,
                y_origin + 0.3,
                y_origin + 1.1,
                0.6,
                1.4,
                "steel",
                1.6,
                f"{tag}/compressor",
            )
        )
        s.add(
            Box(
                mx0,
                mx0 + 0.2,
                y_origin + 1.2,
                y_origin + 2.2,
                0.2,
                2.0,
                "copper",
                0.18,
                f"{tag}/coil",
            )
        )
        s.add(
            Box(
                mx0,
                mx0 + 0.2,
                y_origin + 1.2,
                y_origin + 2.2,
                0.2,
                2.0,
                "aluminium",
                0.25,
                f"{tag}/coil",
            )
        )
        for yc in (y_origin + 1.5, y_origin + 2.1):
            s.add(DiscZ(mx0 + 0.12, yc, 0.2, 0.3, 0.5, "steel", 0.9, tag=f"{tag}/fan"))
        s.add(Box(mx0, mx0 + 0.28, y_origin, y_top, 0, w, "steel", 0.06, f"{tag}/frame"))
    else:
        for z in (-0.043, w + 0.007):
            s.add(*_corrugated_wall(xi0, xi1, floor_top, yi1, z, 0.0016, rng))
        # Plywood floor (28 mm) on the cross members.
        s.add(Box(xi0, xi1, floor_top - 0.028, floor_top, 0, w, "wood", 0.70, f"{tag}/floor"))
        # Roof: 2 mm sheet with transverse corrugations 20 mm deep, lying along the beam.
        s.add(
            Box(
                xi0, xi1, yi1, yi1 + 0.02, 0, w, "steel", STEEL * 0.002 * 1.05 / 0.02, f"{tag}/roof"
            )
        )
    # C-section cross members (122 × 45 × 4.5 mm) every ~0.3 m under the floor, across the width.
    x = xi0 + 0.15
    yb = y_origin + 0.01
    while x < xi1 - 0.1:
        s.add(Box(x, x + 0.0045, yb, yb + 0.122, 0, w, "steel", STEEL, f"{tag}/crossmember"))
        s.add(Box(x, x + 0.045, yb, yb + 0.0045, 0, w, "steel", STEEL, f"{tag}/crossmember"))
        s.add(
            Box(x, x + 0.045, yb + 0.1175, yb + 0.122, 0, w, "steel", STEEL, f"{tag}/crossmember")
        )
        x += rng.uniform(0.28, 0.32)
    # Side rails along the length, both sides of the box (doubled along the beam).
    for yb, height, t in ((y_origin, spec.floor_height, 0.0045), (y_top - 0.06, 0.06, 0.003)):
        for z in (-0.043, w - 0.01):
            s.add(
                Box(
                    x_origin,
                    x_origin + spec.length,
                    yb,
                    yb + t,
                    z,
                    z + 0.05,
                    "steel",
                    STEEL,
                    f"{tag}/rail",
                )
            )
            s.add(
                Box(
                    x_origin,
                    x_origin + spec.length,
                    yb + height - t,
                    yb + height,
                    z,
                    z + 0.05,
                    "steel",
                    STEEL,
                    f"{tag}/rail",
                )
            )
            s.add(
                Box(
                    x_origin,
                    x_origin + spec.length,
                    yb,
                    yb + height,
                    z,
                    z + t,
                    "steel",
                    STEEL,
                    f"{tag}/rail",
                )
            )
    # End frames: corner posts, sills, headers and corner castings at both ends.
    for xe, sign in ((x_origin, 1), (x_origin + spec.length, -1)):
        xa, xb = sorted((xe, xe + sign * 0.16))
        for z in (-0.043, w - 0.12):
            s.add(Box(xa, xb, y_origin, y_top, z, z + 0.006, "steel", STEEL, f"{tag}/post"))
            s.add(Box(xa, xa + 0.006, y_origin, y_top, z, z + 0.16, "steel", STEEL, f"{tag}/post"))
            s.add(Box(xb - 0.006, xb, y_origin, y_top, z, z + 0.16, "steel", STEEL, f"{tag}/post"))
        for yb in (y_origin, y_top - 0.118):
            xc0, xc1 = sorted((xe, xe + sign * 0.178))
            s.add(Box(xc0, xc1, yb, yb + 0.118, -0.043, 0.12, "steel", 1.6, f"{tag}/casting"))
            s.add(
                Box(xc0, xc1, yb, yb + 0.118, w - 0.12, w + 0.043, "steel", 1.6, f"{tag}/casting")
            )
        s.add(Box(xa, xb, y_origin, floor_top, 0, w, "steel", 0.35, f"{tag}/sill"))
        s.add(Box(xa, xb, yi1, y_top, 0, w, "steel", 0.30, f"{tag}/header"))
    if not spec.reefer:
        # Front wall: corrugated, seen edge-on.
        s.add(
            Box(
                xi0 - 0.045,
                xi0,
                floor_top,
                yi1,
                0,
                w,
                "steel",
                STEEL * 0.002 * 1.12 / 0.045,
                f"{tag}/front",
            )
        )
    # Two door leaves (insulated on a reefer) with their four locking bars.
    door_t = 0.0045 if spec.reefer else 0.0025
    s.add(
        Box(
            xi1,
            xi1 + 0.06,
            floor_top,
            yi1,
            0,
            w,
            "steel",
            STEEL * door_t * 1.3 / 0.06,
            f"{tag}/door",
        )
    )
    for z in (0.25, 0.9, 1.45, 2.1):
        s.add(
            Box(
                xi1 + 0.06,
                xi1 + 0.087,
                y_origin + 0.1,
                y_top - 0.1,
                z,
                z + 0.027,
                "steel",
                STEEL * 0.22,
                f"{tag}/lockbar",
            )
        )
    # Makers differ and boxes get repaired: scale the steel to a tare within ±2 % of nominal.
    target = spec.tare_kg * rng.normal(1.0, 0.02)
    built = s.mass_kg(tag)
    factor = target / built
    s.solids = [replace(b, density=b.density * factor) for b in s.solids]
    return s, s.mass_kg(tag)
