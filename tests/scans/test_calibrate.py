"""Calibrating a scanner on site from a scan of reference step wedges."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from smartcustoms.sandbox.scan_simulator.reference import reference_scan
from smartcustoms.scans import ReferenceObject, ScanInputError, calibrate_from_reference_scan
from smartcustoms.scans.calibrate import measure_references
from smartcustoms.scans.physics.calibration import (
    Calibration,
    ReferenceMeasurement,
    fit_calibration,
    geant4_calibration,
    model_alpha,
)
from smartcustoms.scans.physics.decompose import Decomposer
from smartcustoms.scans.physics.materials import material
from smartcustoms.scans.physics.spectra import Channel


def test_site_calibration_reproduces_the_wedges() -> None:
    scan, objects = reference_scan(seed=1)
    refs = measure_references(scan, objects)
    assert len(refs) == 48 and {r.material.name for r in refs} == {
        "polyethylene",
        "aluminium",
        "steel",
        "lead",
    }
    cal = calibrate_from_reference_scan(scan, objects, calibration_id="site-test")
    assert cal.calibration_id == "site-test"
    for channel in Channel:
        measured = np.array(
            [r.alpha_high if channel is Channel.HIGH else r.alpha_low for r in refs]
        )
        fitted = np.abs(model_alpha(refs, cal, channel) / measured - 1)
        raw = np.abs(model_alpha(refs, Calibration(), channel) / measured - 1)
        assert np.median(fitted) < 0.01 and fitted.max() < 0.05
        assert np.median(fitted) < np.median(raw)
    # The site's scanner is the Geant4 one plus detector effects: close to the shipped fit.
    assert cal.high[1] == pytest.approx(geant4_calibration().high[1], abs=0.03)


def test_reference_boxes_must_lie_in_the_scan() -> None:
    scan, _ = reference_scan(seed=1)
    with pytest.raises(ScanInputError, match=r"reference object 0 box .* is outside the scan"):
        measure_references(scan, [ReferenceObject(material("steel"), 10.0, (0, 0, 10_000, 10))])


# A site's scanner whose beam is harder than the shipped spectra: 12 g/cm² more iron filtration.
_HARDER = Calibration(
    high=(1.0, 1.04, 0.92), low=(1.0, 1.02, 0.95), high_filter=12.0, low_filter=9.0
)
_WEDGE = {
    "polyethylene": (5.0, 30.0, 90.0, 180.0),
    "aluminium": (5.0, 40.0, 120.0),
    "steel": (
        2.0,
        20.0,
        80.0,
        150.0,
    ),
}


def _wedge_as_measured(
    cal: Calibration, wedge: dict[str, tuple[float, ...]] = _WEDGE
) -> list[ReferenceMeasurement]:
    """The wedge's α as a scanner with ``cal``'s physics reads them (no noise)."""
    refs = [
        ReferenceMeasurement(material(name), lam, 0.0, 0.0)
        for name, lams in wedge.items()
        for lam in lams
    ]
    high, low = model_alpha(refs, cal, Channel.HIGH), model_alpha(refs, cal, Channel.LOW)
    return [
        ReferenceMeasurement(r.material, r.areal_density, float(h), float(lo))
        for r, h, lo in zip(refs, high, low, strict=True)
    ]


def test_the_spectrum_fit_recovers_a_harder_beam() -> None:
    refs = _wedge_as_measured(_HARDER)
    plain = fit_calibration(refs)
    fitted = fit_calibration(refs, spectrum_terms=True)
    assert fitted.high_filter == pytest.approx(12.0, abs=2.0)
    assert fitted.low_filter == pytest.approx(9.0, abs=2.0)
    for channel in Channel:
        measured = np.array(
            [r.alpha_high if channel is Channel.HIGH else r.alpha_low for r in refs]
        )
        with_spectrum = np.abs(model_alpha(refs, fitted, channel) / measured - 1)
        factors_only = np.abs(model_alpha(refs, plain, channel) / measured - 1)
        assert with_spectrum.max() < 0.002
        # the three factors alone cannot bend α(thickness) to another beam's hardening
        assert factors_only.max() > 3 * with_spectrum.max()


def test_a_filtered_calibration_is_what_the_decomposer_inverts() -> None:
    """Cellulose (garments) and a 4 mm steel sheet seen by the harder beam: the decomposer built
    with the filtration reads them right, the same factors without it read them wrong."""
    right = Decomposer(_HARDER)
    wrong = Decomposer(replace(_HARDER, high_filter=0.0, low_filter=0.0))
    for name, lam, z in (("paper", 40.0, 6.5), ("steel", 3.0, 26.0)):
        refs = [ReferenceMeasurement(material(name), lam, 0.0, 0.0)]
        high = np.full((3, 3), model_alpha(refs, _HARDER, Channel.HIGH)[0])
        low = np.full((3, 3), model_alpha(refs, _HARDER, Channel.LOW)[0])
        good = right.decompose(high, low, 0.0, smooth_sigma=0)
        bad = wrong.decompose(high, low, 0.0, smooth_sigma=0)
        assert float(good.areal_density[1, 1]) == pytest.approx(lam, rel=0.02), name
        assert float(good.z_eff[1, 1]) == pytest.approx(z, abs=1.0), name
        assert abs(float(bad.areal_density[1, 1]) / lam - 1) > 0.04, name
        assert abs(float(bad.z_eff[1, 1]) - z) > 1.5, name


def test_the_spectrum_needs_a_step_wedge() -> None:
    one_each = {"polyethylene": (30.0,), "aluminium": (40.0,), "steel": (20.0,), "lead": (5.0,)}
    refs = _wedge_as_measured(_HARDER, one_each)
    fit_calibration(refs)  # enough for the three factors
    with pytest.raises(ValueError, match="≥2 thicknesses"):
        fit_calibration(refs, spectrum_terms=True)


def test_filtration_travels_in_the_sidecar_shape() -> None:
    data = _HARDER.to_dict()
    assert data["high_filter"] == 12.0 and data["low_filter"] == 9.0
    assert Calibration.from_dict(data) == replace(_HARDER, source="xcom")
    # the shipped calibrations keep their shape and their spectra: no filtration
    assert "high_filter" not in geant4_calibration().to_dict()
    weights = np.array([0.2, 0.3, 0.5])
    assert geant4_calibration().filtered(Channel.HIGH, np.ones(3), weights) is weights
    with pytest.raises(ValueError, match=r"calibration\.low_filter must be a number"):
        Calibration.from_dict({**data, "low_filter": 500})
    with pytest.raises(ValueError, match=r"calibration\.high_filter must be a number"):
        Calibration.from_dict({**data, "high_filter": "12"})
