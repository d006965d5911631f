"""The declared goods' composition, for weighing organic loads by their high-energy attenuation.

At linac energies attenuation per gram follows the electrons per gram (Z/A): 0.555 for water,
0.531 for cellulose. The dual-energy ratio α_H/α_L separates elements by Z but not water from
cellulose (carbon and oxygen with more or less hydrogen: the same ratio), so a decomposition
reads both along one basis curve and weighs water-rich goods (fresh fruit and vegetables) about
4.5 % heavy. Without the site's step-wedge calibration it is worse: the shipped calibration's
ratio scale is another scanner's, so an organic load seen through the steel walls may read as
"mixed" (Z_eff 13–18, a cellulose–aluminium blend with 5–10 % fewer electrons per gram: weighed
heavier still) while the thin walls alone read as lead – the walls measured in the empty space
and the walls inside a loaded ray are then converted along different curves and do not cancel.

Where the HS chapter says what the goods are made of, the load is weighed from the high-energy
attenuation alone along that composition's curve, the walls too (so that they cancel): a
single-energy scanner's reading with the declared material, which needs neither the ratio nor
its calibration. Only chapters whose goods' electrons per gram are known within about 2 % have
a prior; all other goods keep the dual-energy decomposition.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.physics.calibration import Calibration
from smartcustoms.scans.physics.materials import Material, compound, mixture
from smartcustoms.scans.physics.spectra import Channel, ScannerSpectra
from smartcustoms.scans.physics.xcom import cross_sections

__all__ = ["CELLULOSIC", "WATER_RICH", "Composition", "areal_density_as", "composition_of"]

_WATER = compound("water", {1: 2, 8: 1}, 1.0)
_CELLULOSE = compound("cellulose", {6: 6, 1: 10, 8: 5}, 1.5)


@dataclass(frozen=True)
class Composition:
    """What the declared goods are made of, as far as their attenuation per gram goes."""

    name: str
    material: Material


# Fresh fruit and vegetables are 80–90 % water, the rest sugars and fibre (cellulose's C, H, O);
# their cartons and pallets are a few percent of the load. Z/A 0.551.
WATER_RICH = Composition(
    "water-rich", mixture("fresh produce", [(_WATER, 0.85), (_CELLULOSE, 0.15)], 0.9)
)
# Wood, paper and textiles: cellulose with its equilibrium moisture (5–10 %); polyester's Z/A
# (0.521) is within 2 % of cellulose's (0.531). Z/A 0.532.
CELLULOSIC = Composition(
    "cellulosic", mixture("cellulosic goods", [(_CELLULOSE, 0.95), (_WATER, 0.05)], 0.5)
)

# HS chapters (first two digits) whose goods have a known composition.
_CHAPTERS: dict[str, Composition] = {
    "07": WATER_RICH,  # edible vegetables
    "08": WATER_RICH,  # edible fruit and nuts
    "44": CELLULOSIC,  # wood and articles of wood
    "47": CELLULOSIC,  # pulp of wood
    "48": CELLULOSIC,  # paper and paperboard
    **{f"{c:02d}": CELLULOSIC for c in range(50, 64)},  # textiles and clothing
}
# Headings of those chapters that are not fresh: dried vegetables and pulses, nuts (fat-rich:
# more hydrogen), dried fruit – their water share is anything from 5 to 60 %.
_NOT_FRESH = ("0712", "0713", "0801", "0802", "080620", "0813")

_ALPHA_STEP = 0.02
_ALPHA_MAX = 14.0  # beyond any 16-bit scan's dynamic range
_ANGLE_NODES = 9


def composition_of(hs_code: str | None) -> Composition | None:
    """The composition the HS code's goods are made of, or None where it is not known."""
    if not hs_code:
        return None
    digits = hs_code.replace(".", "").strip()
    if digits.startswith(_NOT_FRESH):
        return None
    return _CHAPTERS.get(digits[:2])


@cache
def _table(
    material: Material, calibration: Calibration, spectra: ScannerSpectra
) -> tuple[NDArray[np.float64], NDArray[np.float32]]:
    """The elevation angles of the table's nodes and λ(α_H) of ``material`` at each one
    (angles × α on a ``_ALPHA_STEP`` grid): the calibrated model's high channel, as the
    decomposer's."""
    energy = spectra.energy_mev
    comp = np.zeros((4, energy.size))
    for z, w in material.mass_fractions.items():
        xs = cross_sections(z).at(energy)
        comp += w * np.stack([xs.total, xs.photoelectric, xs.compton, xs.pair])
    nodes = np.linspace(0, spectra.n_angles - 1, _ANGLE_NODES).round().astype(int)
    angles = spectra.angle_deg[nodes]
    lam = np.concatenate([[0.0], np.geomspace(0.02, 1200.0, 400)])
    alphas = np.arange(0.0, _ALPHA_MAX + _ALPHA_STEP / 2, _ALPHA_STEP)
    weights = spectra.weights(Channel.HIGH)
    table = np.empty((nodes.size, alphas.size))
    for g, node in enumerate(nodes):
        a, b, c = calibration.factors(Channel.HIGH, angles[g : g + 1])[:, 0]
        mu = comp[0] + (a - 1) * comp[1] + (b - 1) * comp[2] + (c - 1) * comp[3]
        spectrum = calibration.filtered(Channel.HIGH, energy, weights[node])
        curve = -np.log(spectrum @ np.exp(-np.outer(np.maximum(mu, 0.0), lam)))
        table[g] = np.interp(alphas, curve, lam)
    return angles, table.astype(np.float32)


def areal_density_as(
    alpha_high: NDArray[np.floating],
    row_angle_deg: NDArray[np.floating],
    material: Material,
    calibration: Calibration,
    spectra: ScannerSpectra,
) -> NDArray[np.float32]:
    """Areal density (g/cm²) of ``material`` giving each pixel's high-energy attenuation
    (rows × columns, ``row_angle_deg`` the elevation of each row)."""
    angles, table = _table(material, calibration, spectra)
    n_a = table.shape[1]
    elevation = np.abs(np.asarray(row_angle_deg, dtype=np.float64))
    g = np.interp(elevation, angles, np.arange(angles.size))
    g0 = np.minimum(np.floor(g), angles.size - 2).astype(np.intp)
    wg = (g - g0).astype(np.float32)[:, None]
    # Each row's own curve, blended between the two nearest elevation nodes; then one
    # interpolation along α per pixel, gathered from the flat rows × α table.
    per_row = ((1 - wg) * table[g0] + wg * table[g0 + 1]).reshape(-1)
    a = np.clip(np.asarray(alpha_high, dtype=np.float32) / np.float32(_ALPHA_STEP), 0, n_a - 1.001)
    a0 = a.astype(np.intp)
    wa = a - a0
    idx = np.arange(a.shape[0])[:, None] * n_a + a0
    return np.asarray(per_row[idx] * (1 - wa) + per_row[idx + 1] * wa, dtype=np.float32)
