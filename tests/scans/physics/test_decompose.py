"""Dual-energy decomposition: known materials through the model come back as themselves."""

from __future__ import annotations

import numpy as np
import pytest

from smartcustoms.scans.physics.attenuation import mass_attenuation, polychromatic_alpha
from smartcustoms.scans.physics.calibration import geant4_calibration
from smartcustoms.scans.physics.decompose import decomposer
from smartcustoms.scans.physics.materials import MaterialClass, material
from smartcustoms.scans.physics.spectra import Channel, default_spectra


def _alphas(name: str, lam: float, angle_bin: int = 0) -> tuple[float, float]:
    spectra = default_spectra()
    cal = geant4_calibration()
    out = []
    for channel in Channel:
        a, b, c = cal.factors(channel, np.array([spectra.angle_deg[angle_bin]]))[:, 0]
        mu = mass_attenuation(material(name), spectra.energy_mev, (a, b, c))
        w = spectra.weights(channel)[angle_bin]
        out.append(float(polychromatic_alpha(w, mu[None, :], np.array([[lam]]))[0]))
    return out[0], out[1]


@pytest.mark.parametrize(
    ("name", "lam", "cls", "tolerance"),
    [
        ("cotton textile", 60.0, MaterialClass.ORGANIC, 0.02),
        # Water has more hydrogen than the cellulose it reads as: a known ≈+5 % bias.
        ("water", 100.0, MaterialClass.ORGANIC, 0.06),
        ("polyethylene", 40.0, MaterialClass.ORGANIC, 0.02),
        ("aluminium", 50.0, MaterialClass.MIXED, 0.03),
        ("steel", 30.0, MaterialClass.METAL, 0.03),
        ("steel", 150.0, MaterialClass.METAL, 0.03),
        ("lead", 80.0, MaterialClass.METAL, 0.03),
    ],
)
def test_areal_density_and_class_of_pure_materials(
    name: str, lam: float, cls: MaterialClass, tolerance: float
) -> None:
    d = decomposer(geant4_calibration())
    for angle_bin in (0, 60):
        high, low = _alphas(name, lam, angle_bin)
        angle = default_spectra().angle_deg[angle_bin]
        parts = d.decompose(np.array([[high]]), np.array([[low]]), angle, smooth_sigma=0)
        assert parts.areal_density[0, 0] == pytest.approx(lam, rel=tolerance)
        assert parts.material_class[0, 0] == list(MaterialClass).index(cls)


def test_weak_signal_has_no_class_and_single_energy_has_no_z() -> None:
    d = decomposer(geant4_calibration())
    parts = d.decompose(np.array([[0.001, 2.0]]), np.array([[0.0012, 2.4]]), 0.0, smooth_sigma=0)
    assert np.isnan(parts.z_eff[0, 0]) and parts.material_class[0, 0] == -1
    single = d.decompose(np.array([[2.0]]), None)
    assert np.isnan(single.z_eff[0, 0]) and single.areal_density[0, 0] > 40


def test_whole_image_decomposes_quickly_and_consistently() -> None:
    d = decomposer(geant4_calibration())
    rng = np.random.default_rng(0)
    high = rng.uniform(0, 6, (260, 600)).astype(np.float32)
    low = (high * rng.uniform(1.05, 1.25, high.shape)).astype(np.float32)
    parts = d.decompose(high, low, np.linspace(-5, 25, 260))
    assert parts.areal_density.shape == high.shape
    # More attenuation, more areal density, row by row.
    order = np.argsort(high[100])
    assert np.corrcoef(high[100][order], parts.areal_density[100][order])[0, 1] > 0.95


def test_phantom_shows_all_three_material_classes() -> None:
    """semiZ's Geant4 phantom (no ground truth shipped): organic, mixed and metal all appear."""
    from importlib import resources

    path = resources.files("smartcustoms.scans").joinpath("data/semiZ/phantom.npz")
    with path.open("rb") as fh, np.load(fh) as data:
        high, low = data["im_H"], data["im_L"]
    angles = default_spectra().angle_deg  # the phantom's 100 rows are the 100 angle bins
    parts = decomposer(geant4_calibration()).decompose(high, low, angles)
    classes = parts.material_class[parts.areal_density > 10]
    counts = np.bincount(classes[classes >= 0], minlength=3)
    assert (counts > 100).all()
