"""Mass attenuation, materials and the two linac spectra of the independent scene generator.

Written apart from the product's physics and from its simulator: its own table, its own
spectra, its own detector response. Mass attenuation coefficients μ/ρ (cm²/g), total with
coherent scattering, as tabulated by NIST XCOM (Berger et al., XCOM: Photon Cross Sections
Database, NIST SRD 8) and in Hubbell & Seltzer, NISTIR 5632 (X-Ray Mass Attenuation
Coefficients), rounded to 4 significant figures:

    E (MeV)   0.5     1.0     1.5     2.0     3.0     4.0     5.0     6.0     8.0     10.0
    H       .1729   .1263   .1027   .08769  .06921  .05806  .05049  .04498  .03746  .03254
    C       .08715  .06361  .05177  .04442  .03562  .03047  .02708  .02469  .02154  .01959
    O       .08729  .06372  .05187  .04460  .03589  .03089  .02762  .02533  .02236  .02057
    Al      .08445  .06146  .05006  .04324  .03541  .03106  .02836  .02655  .02437  .02318
    Si      .08748  .06361  .05183  .04480  .03678  .03229  .02954  .02771  .02555  .02433
    Fe      .08414  .05995  .04883  .04265  .03621  .03312  .03146  .03057  .02991  .02994
    water   .09687  .07072  .05754  .04942  .03969  .03403  .03031  .02770  .02429  .02219

Compounds follow the mixture rule (μ/ρ = Σ wᵢ (μ/ρ)ᵢ by mass fraction): cellulose C₆H₁₀O₅
(C 0.4445, H 0.0622, O 0.4933), silica SiO₂ (Si 0.4674, O 0.5326). Five basis materials are
enough for everything in a container: water, cellulose (paper, wood, cotton, tobacco, most
plastics, drugs), iron (steel, cast iron), aluminium (and alumina in ceramics), silica (glass,
ceramics, sand, the mineral ash of tobacco).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["BASES", "Material", "Spectrum", "mu", "spectrum", "transmission"]

_E = np.array([0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0])
_ELEMENTS = {
    "H": [0.1729, 0.1263, 0.1027, 0.08769, 0.06921, 0.05806, 0.05049, 0.04498, 0.03746, 0.03254],
    "C": [0.08715, 0.06361, 0.05177, 0.04442, 0.03562, 0.03047, 0.02708, 0.02469, 0.02154, 0.01959],
    "O": [0.08729, 0.06372, 0.05187, 0.04460, 0.03589, 0.03089, 0.02762, 0.02533, 0.02236, 0.02057],
    "Si": [
        0.08748,
        0.06361,
        0.05183,
        0.04480,
        0.03678,
        0.03229,
        0.02954,
        0.02771,
        0.02555,
        0.02433,
    ],
}
_TABLE = {
    "water": np.array(
        [0.09687, 0.07072, 0.05754, 0.04942, 0.03969, 0.03403, 0.03031, 0.02770, 0.02429, 0.02219]
    ),
    "cellulose": 0.4445 * np.array(_ELEMENTS["C"])
    + 0.0622 * np.array(_ELEMENTS["H"])
    + 0.4933 * np.array(_ELEMENTS["O"]),
    "iron": np.array(
        [0.08414, 0.05995, 0.04883, 0.04265, 0.03621, 0.03312, 0.03146, 0.03057, 0.02991, 0.02994]
    ),
    "aluminium": np.array(
        [0.08445, 0.06146, 0.05006, 0.04324, 0.03541, 0.03106, 0.02836, 0.02655, 0.02437, 0.02318]
    ),
    "silica": 0.4674 * np.array(_ELEMENTS["Si"]) + 0.5326 * np.array(_ELEMENTS["O"]),
}
#: The basis materials, in the order of every areal-density stack (g/cm² per basis).
BASES: tuple[str, ...] = ("water", "cellulose", "iron", "aluminium", "silica")


def mu(basis: str, energy_mev: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """μ/ρ (cm²/g) of a basis at ``energy_mev``, interpolated log–log in the table."""
    e = np.clip(np.asarray(energy_mev, dtype=np.float64), _E[0], _E[-1])
    return np.asarray(np.exp(np.interp(np.log(e), np.log(_E), np.log(_TABLE[basis]))))


@dataclass(frozen=True)
class Material:
    """A material as mass fractions of the bases (they sum to 1)."""

    name: str
    fractions: tuple[float, float, float, float, float]

    @staticmethod
    def of(name: str, **parts: float) -> Material:
        total = sum(parts.values())
        return Material(name, tuple(parts.get(b, 0.0) / total for b in BASES))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Spectrum:
    """A detected spectrum: bin energies (MeV) and weights (detected energy, summing to 1)."""

    energies: NDArray[np.float64]
    weights: NDArray[np.float64]
    mus: NDArray[np.float64]  # (bins, bases)


def spectrum(endpoint_mev: float, off_axis_deg: float = 0.0, bins: int = 16) -> Spectrum:
    """A thick-target bremsstrahlung spectrum of our own choosing, seen by the detector.

    Kramers' shape (E₀/E − 1) for the thick target; the target's backing and a flattening filter
    as 2.5 cm of iron; off the beam axis the spectrum softens (the high-energy lobe is forward:
    weight × (1 − 0.35·(θ/12°)²·E/E₀)); the detector is energy-integrating, 30 mm of CdWO₄
    (7.9 g/cm³) whose absorption we approximate by 1.3 × iron's μ/ρ, so each photon counts its
    absorbed energy."""
    edges = np.linspace(0.35, endpoint_mev, bins + 1)
    e = 0.5 * (edges[1:] + edges[:-1])
    w = np.maximum(endpoint_mev / e - 1.0, 0.0) * np.diff(edges)
    w *= np.exp(-mu("iron", e) * 2.5 * 7.87)
    w *= np.clip(1.0 - 0.35 * (off_axis_deg / 12.0) ** 2 * e / endpoint_mev, 0.05, 1.0)
    w *= e * (1.0 - np.exp(-1.3 * mu("iron", e) * 3.0 * 7.9))
    w /= w.sum()
    mus = np.stack([mu(b, e) for b in BASES], axis=1)
    return Spectrum(e, w, mus)


def transmission(areal: NDArray[np.float32], spec: Spectrum) -> NDArray[np.float32]:
    """Detected fraction I/I₀ through a stack of basis areal densities ``areal`` (bases, ...)."""
    out = np.zeros(areal.shape[1:], dtype=np.float32)
    for k in range(len(spec.energies)):
        expo = np.tensordot(spec.mus[k].astype(np.float32), areal, axes=1)
        out += np.float32(spec.weights[k]) * np.exp(-expo)
    return out
