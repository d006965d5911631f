"""Beer–Lambert in practice: attenuation α = −ln(I/I₀) and the polychromatic forward model.

A scanner measures, per detector element, the detector-weighted flux behind the object ``I`` and
in open beam ``I₀`` (the air level). For a monoenergetic beam α would be ``μ/ρ · λ`` with ``λ``
the areal density (g/cm²) along the ray. Bremsstrahlung beams are polychromatic, so α grows less
than linearly with λ (beam hardening) and the forward model integrates over the spectrum:

    α(λ) = −ln Σ_E w(E) · exp(−μ(E) · λ),     w = D·φ normalised to 1.

``μ`` is the semiempirical one of Lalor & Danagoulian: XCOM's total plus calibrated corrections
to the photoelectric, Compton and pair-production terms (see :mod:`.calibration`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.physics.materials import Material
from smartcustoms.scans.physics.xcom import cross_sections

__all__ = [
    "Coefficients",
    "alpha_from_counts",
    "mass_attenuation",
    "polychromatic_alpha",
]

FloatArray = NDArray[np.float64]

# (a, b, c): scale factors of photoelectric, Compton and pair production. (1, 1, 1) is raw XCOM.
Coefficients = tuple[float, float, float]
XCOM: Coefficients = (1.0, 1.0, 1.0)


def alpha_from_counts(
    counts: NDArray[np.generic],
    air: NDArray[np.floating] | float,
    dark: NDArray[np.floating] | float = 0.0,
    *,
    floor: float = 0.5,
) -> NDArray[np.float32]:
    """Attenuation α = −ln((I − dark)/(I₀ − dark)) per pixel, as float32.

    ``air`` and ``dark`` broadcast against ``counts`` (a scalar, or one value per detector row
    shaped ``(rows, 1)``). Signals at or below the dark level carry no information beyond "very
    dense"; they are clamped to ``floor`` counts above dark so α stays finite – the largest α the
    scan can express, not a measurement.
    """
    signal = np.maximum(np.asarray(counts, dtype=np.float32) - np.float32(dark), np.float32(floor))
    open_beam = np.asarray(air, dtype=np.float32) - np.float32(dark)
    if np.any(open_beam <= floor):
        raise ValueError("air level must be above the dark level")
    return np.asarray(np.log(open_beam) - np.log(signal), dtype=np.float32)


def mass_attenuation(
    composition: Material | Mapping[int, float] | int,
    energy_mev: FloatArray,
    coefficients: Coefficients = XCOM,
) -> FloatArray:
    """Semiempirical mass attenuation coefficient μ(E) in cm²/g.

    ``composition`` is a material, mass fractions by Z, or one Z.
    """
    if isinstance(composition, Material):
        fractions: Mapping[int, float] = composition.mass_fractions
    elif isinstance(composition, int):
        fractions = {composition: 1.0}
    else:
        fractions = composition
    a, b, c = coefficients
    mu = np.zeros_like(np.asarray(energy_mev, dtype=np.float64))
    for z, w in fractions.items():
        xs = cross_sections(z).at(energy_mev)
        mu += w * (xs.total + (a - 1) * xs.photoelectric + (b - 1) * xs.compton + (c - 1) * xs.pair)
    return mu


def polychromatic_alpha(
    weights: FloatArray,
    mu: FloatArray | Sequence[FloatArray],
    areal_density: NDArray[np.floating],
) -> FloatArray:
    """α for rays through materials with the given areal densities.

    ``weights``: (energies,) detector-weighted spectrum summing to 1. ``mu``: (materials,
    energies). ``areal_density``: (materials, ...) g/cm² per material; the result has shape
    ``...``.
    """
    mu_arr = np.atleast_2d(np.asarray(mu, dtype=np.float64))
    lam = np.asarray(areal_density, dtype=np.float64)
    shape = lam.shape[1:]
    flat = lam.reshape(lam.shape[0], -1)
    optical = mu_arr.T @ flat  # (energies, rays): μ·λ summed over materials
    transmitted = weights @ np.exp(-optical)
    return np.asarray(-np.log(transmitted), dtype=np.float64).reshape(shape)
