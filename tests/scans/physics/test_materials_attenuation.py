"""Materials, Beer–Lambert attenuation and the polychromatic forward model."""

from __future__ import annotations

import numpy as np
import pytest

from smartcustoms.scans.physics.attenuation import (
    alpha_from_counts,
    mass_attenuation,
    polychromatic_alpha,
)
from smartcustoms.scans.physics.materials import (
    MATERIALS,
    Material,
    MaterialClass,
    class_of_z,
    material,
)
from smartcustoms.scans.physics.spectra import Channel, default_spectra


def test_every_material_is_normalised_and_classed_as_expected() -> None:
    for m in MATERIALS.values():
        assert sum(m.mass_fractions.values()) == pytest.approx(1.0)
    assert material("water").z_effective == pytest.approx(6.6, abs=0.05)
    assert material("cotton textile").material_class is MaterialClass.ORGANIC
    assert material("cigarettes").material_class is MaterialClass.ORGANIC
    assert material("glass").material_class is MaterialClass.MIXED
    assert material("steel").material_class is MaterialClass.METAL
    assert list(class_of_z(np.array([6.0, 9.99, 10.0, 17.9, 18.0, 82.0]))) == [0, 0, 1, 1, 2, 2]


def test_bad_materials_are_refused() -> None:
    with pytest.raises(ValueError, match="sum"):
        Material("half", {6: 0.5}, 1.0)
    with pytest.raises(ValueError, match="XCOM"):
        Material("gallium", {31: 1.0}, 5.9)
    with pytest.raises(KeyError, match="unknown material"):
        material("unobtainium")


def test_alpha_from_counts_is_minus_log_of_transmission() -> None:
    counts = np.array([[1000, 550, 100, 90]], dtype=np.uint16)
    alpha = alpha_from_counts(counts, air=1000.0, dark=100.0)
    assert alpha[0, 0] == pytest.approx(0.0)
    assert alpha[0, 1] == pytest.approx(np.log(2), rel=1e-6)
    # At or below the dark level the signal is clamped: finite, and the largest α expressible.
    assert np.isfinite(alpha[0, 2:]).all() and alpha[0, 2] == alpha[0, 3] > 7
    with pytest.raises(ValueError, match="air level"):
        alpha_from_counts(counts, air=100.0, dark=100.0)


def test_monochromatic_beam_gives_plain_beer_lambert() -> None:
    energy = np.array([2.0])
    mu = mass_attenuation(26, energy)
    lam = np.array([[0.0, 10.0, 100.0]])
    alpha = polychromatic_alpha(np.array([1.0]), mu[None, :], lam)
    assert alpha == pytest.approx(mu[0] * lam[0])


def test_bremsstrahlung_beam_hardens() -> None:
    spectra = default_spectra()
    w = spectra.weights(Channel.HIGH)[0]
    mu = mass_attenuation(26, spectra.energy_mev)
    lam = np.array([[1.0, 50.0, 200.0]])
    per_gram = polychromatic_alpha(w, mu[None, :], lam) / lam[0]
    assert per_gram[0] > per_gram[1] > per_gram[2]  # α grows less than linearly with λ
    low = polychromatic_alpha(spectra.weights(Channel.LOW)[0], mu[None, :], lam)
    assert (low > per_gram * lam[0]).all()  # the 6 MeV beam attenuates more than the 9 MeV one


def test_spectra_soften_away_from_the_beam_axis() -> None:
    spectra = default_spectra()
    assert np.all(np.diff(spectra.angle_deg) > 0)
    assert spectra.angle_deg[0] < 0.5 and 26 < spectra.angle_deg[-1] < 27
    w = spectra.weights(Channel.HIGH)
    mean_e = w @ spectra.energy_mev
    assert w.sum(axis=1) == pytest.approx(1.0)
    assert mean_e[0] > mean_e[-1] + 0.5
    assert list(spectra.angle_bin(np.array([0.0, -3.0, 90.0]))) == [0, 10, 99]
