"""NIST XCOM photon cross-sections, read from the tables shipped in ``data/semiZ/xcom``.

Each table gives, per element, the mass attenuation coefficients (cm²/g) by interaction over
1 keV – 100 GeV. Dual-energy cargo physics needs three of them separately – photoelectric
absorption, incoherent (Compton) scattering and pair production in the nuclear field – because the
per-scanner calibration scales each one (see :mod:`.calibration`), plus the total with coherent
scattering. Values between tabulated energies are interpolated log-log, as XCOM itself advises.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

__all__ = ["ELEMENTS", "CrossSections", "available_elements", "cross_sections"]

FloatArray = NDArray[np.float64]

# Atomic masses (g/mol) of the elements whose tables ship with the package; used to turn
# compositions by atom count into mass fractions.
ELEMENTS: dict[int, tuple[str, float]] = {
    1: ("H", 1.008),
    2: ("He", 4.0026),
    3: ("Li", 6.94),
    4: ("Be", 9.0122),
    5: ("B", 10.81),
    6: ("C", 12.011),
    7: ("N", 14.007),
    8: ("O", 15.999),
    9: ("F", 18.998),
    10: ("Ne", 20.180),
    11: ("Na", 22.990),
    12: ("Mg", 24.305),
    13: ("Al", 26.982),
    14: ("Si", 28.085),
    15: ("P", 30.974),
    16: ("S", 32.06),
    17: ("Cl", 35.45),
    18: ("Ar", 39.948),
    19: ("K", 39.098),
    20: ("Ca", 40.078),
    21: ("Sc", 44.956),
    22: ("Ti", 47.867),
    23: ("V", 50.942),
    24: ("Cr", 51.996),
    25: ("Mn", 54.938),
    26: ("Fe", 55.845),
    27: ("Co", 58.933),
    28: ("Ni", 58.693),
    29: ("Cu", 63.546),
    30: ("Zn", 65.38),
    35: ("Br", 79.904),
    40: ("Zr", 91.224),
    47: ("Ag", 107.87),
    50: ("Sn", 118.71),
    53: ("I", 126.90),
    56: ("Ba", 137.33),
    64: ("Gd", 157.25),
    74: ("W", 183.84),
    79: ("Au", 196.97),
    82: ("Pb", 207.2),
    92: ("U", 238.03),
}

_HEADER_LINES = 3  # two title lines and a blank line precede the numbers


@dataclass(frozen=True)
class CrossSections:
    """Mass attenuation coefficients (cm²/g) of one element on an energy grid (MeV)."""

    z: int
    energy_mev: FloatArray
    photoelectric: FloatArray
    compton: FloatArray
    pair: FloatArray
    total: FloatArray

    def at(self, energy_mev: FloatArray) -> CrossSections:
        """The same coefficients interpolated (log-log) onto ``energy_mev``."""
        log_e = np.log(self.energy_mev)
        target = np.log(np.asarray(energy_mev, dtype=np.float64))
        if target.min() < log_e[0] or target.max() > log_e[-1]:
            raise ValueError("energy outside the XCOM table (1 keV – 100 GeV)")

        def interp(values: FloatArray) -> FloatArray:
            # Pair production is exactly zero below its 1.022 MeV threshold; log(0) would poison
            # the interpolation, so zero stays zero and only positive values go through logs.
            positive = values > 0
            out = np.zeros_like(target)
            if positive.any():
                first = int(np.argmax(positive))
                above = target >= log_e[first]
                out[above] = np.exp(np.interp(target[above], log_e[first:], np.log(values[first:])))
            return out

        return CrossSections(
            z=self.z,
            energy_mev=np.exp(target),
            photoelectric=interp(self.photoelectric),
            compton=interp(self.compton),
            pair=interp(self.pair),
            total=interp(self.total),
        )


def available_elements() -> tuple[int, ...]:
    """Atomic numbers whose XCOM tables ship with the package, ascending."""
    return tuple(sorted(ELEMENTS))


@cache
def cross_sections(z: int) -> CrossSections:
    """The XCOM table of element ``z`` as shipped (energies in MeV, coefficients in cm²/g)."""
    if z not in ELEMENTS:
        raise ValueError(f"no XCOM table shipped for Z={z}; available: {available_elements()}")
    text = (
        resources.files("smartcustoms.scans")
        .joinpath(f"data/semiZ/xcom/{z:02d}.txt")
        .read_text(encoding="ascii")
    )
    rows = [line.split() for line in text.splitlines()[_HEADER_LINES:] if line.strip()]
    table = np.array(rows, dtype=np.float64)
    energy = table[:, 0].copy()
    # Absorption edges repeat an energy (value just below, then just above the edge). Interpolation
    # needs strictly increasing energies, so the "below" point moves down by one part in 10⁶.
    repeated = np.flatnonzero(np.diff(energy) == 0)
    energy[repeated] *= 1 - 1e-6
    return CrossSections(
        z=z,
        energy_mev=energy,
        compton=table[:, 2],  # column "Incoher. Scatter."
        photoelectric=table[:, 3],  # column "Photoel. Absorb."
        pair=table[:, 4],  # column "Nuclear Pr. Prd." (pair production in the nuclear field)
        total=table[:, 6],  # column "Tot. w/ Coherent"
    )
