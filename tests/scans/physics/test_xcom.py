"""XCOM tables as shipped, checked against values published by NIST XCOM."""

from __future__ import annotations

import numpy as np
import pytest

from smartcustoms.scans.physics.attenuation import mass_attenuation
from smartcustoms.scans.physics.materials import compound
from smartcustoms.scans.physics.xcom import available_elements, cross_sections

# NIST XCOM "total attenuation with coherent scattering", cm²/g (physics.nist.gov/xcom).
NIST_TOTAL = [
    (6, 1.0, 6.361e-2),
    (26, 1.0, 5.995e-2),
    (26, 5.0, 3.149e-2),
    (82, 1.0, 7.102e-2),
    (82, 6.0, 4.391e-2),
]


@pytest.mark.parametrize(("z", "energy", "expected"), NIST_TOTAL)
def test_total_matches_nist_at_tabulated_energies(z: int, energy: float, expected: float) -> None:
    got = cross_sections(z).at(np.array([energy])).total[0]
    assert got == pytest.approx(expected, rel=1e-3)


def test_loglog_interpolation_between_table_points() -> None:
    # Iron between 1.0 and 1.25 MeV: log-log interpolation keeps the value between its neighbours
    # and matches XCOM's own 1.1 MeV figure (5.717e-2) to better than 0.5 %.
    xs = cross_sections(26).at(np.array([1.0, 1.1, 1.25]))
    assert xs.total[0] > xs.total[1] > xs.total[2]
    assert xs.total[1] == pytest.approx(5.717e-2, rel=5e-3)


def test_pair_production_is_zero_below_threshold_and_grows_with_energy() -> None:
    xs = cross_sections(82).at(np.array([0.5, 1.0, 1.5, 3.0, 9.0]))
    assert xs.pair[0] == 0.0 and xs.pair[1] == 0.0
    assert 0 < xs.pair[2] < xs.pair[3] < xs.pair[4]


def test_absorption_edges_do_not_break_interpolation() -> None:
    # Lead's K edge at 88 keV: just above it attenuation jumps about fivefold.
    xs = cross_sections(82).at(np.array([0.0879, 0.0881]))
    assert xs.total[1] / xs.total[0] > 4


def test_bragg_additivity_reproduces_nist_water() -> None:
    water = compound("water", {1: 2, 8: 1}, 1.0)
    mu = mass_attenuation(water, np.array([1.0, 5.0]))
    assert mu == pytest.approx([7.072e-2, 3.031e-2], rel=3e-3)


def test_unknown_element_and_energy_out_of_range_are_errors() -> None:
    assert 92 in available_elements() and 31 not in available_elements()
    with pytest.raises(ValueError, match="Z=31"):
        cross_sections(31)
    with pytest.raises(ValueError, match="energy"):
        cross_sections(26).at(np.array([1e-4]))
