"""Materials as the physics sees them: elemental composition by mass and a density.

A material's mass attenuation coefficient is the mass-fraction-weighted sum of its elements'
(Bragg additivity). The densities below are what the simulator places in containers; the
compositions are standard (NIST/ICRU where one exists, stoichiometric otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.physics.xcom import ELEMENTS

__all__ = [
    "MATERIALS",
    "Material",
    "MaterialClass",
    "class_of_z",
    "compound",
    "element",
    "material",
    "mixture",
]


class MaterialClass(StrEnum):
    """The three colours of a dual-energy cargo image."""

    ORGANIC = "organic"  # Z_eff below 10: food, textiles, wood, plastics, drugs, tobacco
    MIXED = "mixed"  # 10 to 18: glass, ceramics, aluminium, salts, fertiliser
    METAL = "metal"  # above 18: steel, copper, lead


# Boundaries used by most vendors' colour coding (organic < 10 ≤ inorganic < 18 ≤ metal).
ORGANIC_MAX_Z = 10.0
MIXED_MAX_Z = 18.0


def class_of_z(z_eff: NDArray[np.floating] | float) -> NDArray[np.int8]:
    """0 organic, 1 mixed, 2 metal for each effective atomic number."""
    z = np.asarray(z_eff, dtype=np.float64)
    return (z >= ORGANIC_MAX_Z).astype(np.int8) + (z >= MIXED_MAX_Z).astype(np.int8)


@dataclass(frozen=True)
class Material:
    """A named material: mass fractions by atomic number (summing to 1) and density (g/cm³)."""

    name: str
    mass_fractions: dict[int, float] = field(hash=False)
    density: float

    def __post_init__(self) -> None:
        total = sum(self.mass_fractions.values())
        if not np.isclose(total, 1.0, atol=1e-6):
            raise ValueError(f"{self.name}: mass fractions sum to {total}, not 1")
        unknown = set(self.mass_fractions) - set(ELEMENTS)
        if unknown:
            raise ValueError(f"{self.name}: no XCOM table for Z={sorted(unknown)}")

    @property
    def material_class(self) -> MaterialClass:
        """The colour class a correct dual-energy analysis should give this material."""
        return list(MaterialClass)[int(class_of_z(self.z_effective))]

    @property
    def z_effective(self) -> float:
        """Effective Z for MeV cargo physics: electron-weighted mean Z (pair/Compton ratio)."""
        # At 1–9 MeV attenuation per electron is Compton plus pair production ∝ Z, so the ratio
        # the dual-energy signal sees is the electron-weighted mean of Z.
        electrons = {z: w * z / ELEMENTS[z][1] for z, w in self.mass_fractions.items()}
        total = sum(electrons.values())
        return float(sum(z * e for z, e in electrons.items()) / total)

    def with_density(self, density: float, name: str | None = None) -> Material:
        """The same composition packed to another density (e.g. bulk or baled goods)."""
        return Material(name or self.name, dict(self.mass_fractions), density)


def element(z: int, density: float, name: str | None = None) -> Material:
    """A pure element."""
    return Material(name or ELEMENTS[z][0], {z: 1.0}, density)


def compound(name: str, atoms: dict[int, float], density: float) -> Material:
    """A compound from atom counts per formula unit, e.g. water ``{1: 2, 8: 1}``."""
    masses = {z: n * ELEMENTS[z][1] for z, n in atoms.items()}
    total = sum(masses.values())
    return Material(name, {z: m / total for z, m in masses.items()}, density)


def mixture(name: str, parts: list[tuple[Material, float]], density: float) -> Material:
    """Materials mixed by mass fraction."""
    fractions: dict[int, float] = {}
    weight = sum(w for _, w in parts)
    for part, w in parts:
        for z, f in part.mass_fractions.items():
            fractions[z] = fractions.get(z, 0.0) + f * w / weight
    return Material(name, fractions, density)


_cellulose = compound("cellulose", {6: 6, 1: 10, 8: 5}, 1.5)
_polyester = compound("polyester", {6: 10, 1: 8, 8: 4}, 1.38)
_ash = compound("tobacco ash", {19: 2, 6: 1, 8: 3}, 2.4)  # potassium carbonate dominates leaf ash
_water = compound("water", {1: 2, 8: 1}, 1.0)
_calcite = compound("calcite", {20: 1, 6: 1, 8: 3}, 2.7)

MATERIALS: dict[str, Material] = {
    m.name: m
    for m in [
        element(26, 7.87, "steel"),
        element(13, 2.70, "aluminium"),
        element(29, 8.96, "copper"),
        element(82, 11.35, "lead"),
        element(6, 2.0, "graphite"),
        Material("air", {7: 0.7553, 8: 0.2447}, 0.0012),
        _water,
        compound("polyethylene", {6: 1, 1: 2}, 0.94),
        compound("oil", {6: 1, 1: 2}, 0.88),  # mineral and vegetable oils are close to (CH₂)ₙ
        _cellulose.with_density(0.60, "wood"),  # softwood / plywood
        _cellulose.with_density(0.70, "paper"),
        mixture("cotton textile", [(_cellulose, 0.9), (_polyester, 0.1)], 0.45),
        mixture("polyester textile", [(_polyester, 0.8), (_cellulose, 0.2)], 0.45),
        # Cigarettes: leaf is ~15 % ash by mass (K, Ca); master cases pack to ~0.2 g/cm³.
        mixture(
            "cigarettes",
            [(_cellulose, 0.85), (_ash, 0.10), (_calcite, 0.05)],
            0.21,
        ),
        compound("sugar", {6: 12, 1: 22, 8: 11}, 0.85),
        mixture("rice", [(_cellulose, 0.88), (_water, 0.12)], 0.78),
        compound("cocaine hydrochloride", {6: 17, 1: 22, 17: 1, 7: 1, 8: 4}, 1.1),
        compound("glass", {14: 1, 8: 2}, 2.5),
        compound("urea fertiliser", {6: 1, 8: 1, 7: 2, 1: 4}, 0.75),
        compound("salt", {11: 1, 17: 1}, 1.2),
        Material("rubber", {6: 0.88, 1: 0.12}, 0.95),
    ]
}


def material(name: str) -> Material:
    """A material from :data:`MATERIALS` by name."""
    try:
        return MATERIALS[name]
    except KeyError:
        raise KeyError(f"unknown material {name!r}; known: {sorted(MATERIALS)}") from None
