"""The semiempirical calibration, checked against the Geant4 points shipped with semiZ."""

from __future__ import annotations

import numpy as np
import pytest

from smartcustoms.scans.physics.calibration import (
    Calibration,
    ReferenceMeasurement,
    fit_calibration,
    geant4_calibration,
    geant4_references,
    model_alpha,
)
from smartcustoms.scans.physics.decompose import Basis, Decomposer
from smartcustoms.scans.physics.materials import element
from smartcustoms.scans.physics.spectra import Channel


def _measured(refs: tuple[ReferenceMeasurement, ...], channel: Channel) -> np.ndarray:
    return np.array([r.alpha_high if channel is Channel.HIGH else r.alpha_low for r in refs])


def test_geant4_points_are_carbon_iron_lead_slabs_at_100_angles() -> None:
    refs = geant4_references()
    assert len(refs) == 300
    assert {next(iter(r.material.mass_fractions)) for r in refs} == {6, 26, 82}
    # 100 g/cm² slabs, crossed at up to ~25° from the axis.
    assert min(r.areal_density for r in refs) == pytest.approx(100.0, abs=0.01)
    assert max(r.areal_density for r in refs) == pytest.approx(111.7, abs=0.1)


def test_calibration_fits_the_geant4_points_better_than_raw_xcom() -> None:
    refs = geant4_references()
    fitted = geant4_calibration()
    for channel in Channel:
        measured = _measured(refs, channel)
        raw = np.abs(model_alpha(refs, Calibration(), channel) / measured - 1).max()
        cal = np.abs(model_alpha(refs, fitted, channel) / measured - 1).max()
        assert cal < raw
        assert cal < 0.012  # α within 1.2 % at every point
    # Angle terms capture how the spectrum's mismatch grows with elevation.
    angled = geant4_calibration(angle_terms=True)
    measured = _measured(refs, Channel.HIGH)
    assert (
        np.abs(model_alpha(refs, angled, Channel.HIGH) / measured - 1).max()
        < np.abs(model_alpha(refs, fitted, Channel.HIGH) / measured - 1).max()
    )


def _areal_density(decomposer: Decomposer, refs: list[ReferenceMeasurement]) -> np.ndarray:
    out = []
    for r in refs:
        parts = decomposer.decompose(
            np.array([[r.alpha_high]]), np.array([[r.alpha_low]]), r.angle_deg, smooth_sigma=0
        )
        out.append(float(parts.areal_density[0, 0]))
    return np.array(out)


def test_mass_on_geant4_points_after_calibration_cross_validated() -> None:
    """Fit on the even angles, weigh the odd ones: every slab within ±10 % (issue target)."""
    refs = list(geant4_references())
    train = [r for i, r in enumerate(refs) if (i // 3) % 2 == 0]
    test = [r for i, r in enumerate(refs) if (i // 3) % 2 == 1]
    cal = fit_calibration(train, source="even angles")
    lam = _areal_density(Decomposer(cal, basis=Basis.ELEMENTS), test)
    truth = np.array([r.areal_density for r in test])
    errors = lam / truth - 1
    assert np.abs(errors).max() < 0.10
    assert np.abs(errors).max() < 0.03  # what it actually achieves; a regression shows here


def test_calibration_round_trips_through_json_and_rejects_bad_fields() -> None:
    cal = geant4_calibration(angle_terms=True)
    again = Calibration.from_dict(cal.to_dict())
    assert again == cal
    with pytest.raises(ValueError, match="high"):
        Calibration.from_dict({"high": [1, 2]})
    with pytest.raises(ValueError, match="low"):
        Calibration.from_dict({"low": [1, "b", 3]})


def test_fit_needs_three_materials() -> None:
    iron = element(26, 7.87)
    refs = [ReferenceMeasurement(iron, lam, 0.036 * lam, 0.04 * lam) for lam in (10, 50, 100)]
    with pytest.raises(ValueError, match="3 materials"):
        fit_calibration(refs)
