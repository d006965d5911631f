"""Per-scanner calibration of the semiempirical attenuation model.

Lalor & Danagoulian (NIM A 1064, 2024) showed that XCOM cross-sections with three scale factors
per beam – ``a`` (photoelectric), ``b`` (Compton), ``c`` (pair production) – reproduce a real
scanner's dual-energy response, including what XCOM alone leaves out (scatter reaching the
detector, detector non-linearity, spectrum errors). The factors are fitted by least squares to
reference objects of known material and areal density: step wedges of polyethylene, aluminium,
steel and lead scanned on site, or – as shipped here – the Geant4 points of semiZ (carbon, iron
and lead slabs of 100 g/cm² seen at 100 elevation angles).

A linac's spectrum also changes with elevation beyond what the angle-binned spectra capture, so a
calibration may carry a linear change of each factor with |angle| (``*_angle``, per 25°).

A site's scanner is not the one whose spectra ship with the product: its target, flattening
filter and detector differ, so a step wedge's α grows with thickness along another curve (beam
hardening) – something no scale of the cross-sections reproduces (a step wedge of another linac
read ±3 % off by thickness with the three factors alone). A site calibration may therefore also
fit each channel's *filtration* (``*_filter``): g/cm² of iron added to (or, negative, taken from)
the shipped spectra before the object, which hardens (softens) them as the site's beam is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from smartcustoms.scans.physics.attenuation import Coefficients
from smartcustoms.scans.physics.materials import Material, element
from smartcustoms.scans.physics.spectra import Channel, ScannerSpectra, default_spectra
from smartcustoms.scans.physics.xcom import cross_sections

__all__ = [
    "ANGLE_SCALE_DEG",
    "Calibration",
    "ReferenceMeasurement",
    "fit_calibration",
    "geant4_calibration",
    "geant4_references",
    "model_alpha",
]

FloatArray = NDArray[np.float64]
ANGLE_SCALE_DEG = 25.0  # the angle terms are per this many degrees of elevation
_NONE: Coefficients = (0.0, 0.0, 0.0)
_MAX_FILTER = 60.0  # g/cm² of iron: a filtration beyond this is not a linac's, it is a mistake


@dataclass(frozen=True)
class Calibration:
    """Scale factors (a, b, c) per channel, optionally changing linearly with |elevation|."""

    high: Coefficients = (1.0, 1.0, 1.0)
    low: Coefficients = (1.0, 1.0, 1.0)
    high_angle: Coefficients = _NONE
    low_angle: Coefficients = _NONE
    high_filter: float = 0.0  # g/cm² of iron added to the shipped high spectrum (negative: less)
    low_filter: float = 0.0
    source: str = "xcom"  # where the factors came from, e.g. "geant4:semiZ" or a reference scan
    calibration_id: str | None = None

    def factors(self, channel: Channel, angle_deg: NDArray[np.floating]) -> FloatArray:
        """(3, angles) array of a, b, c at each elevation."""
        base, slope = (
            (self.high, self.high_angle) if channel is Channel.HIGH else (self.low, self.low_angle)
        )
        t = np.abs(np.asarray(angle_deg, dtype=np.float64)) / ANGLE_SCALE_DEG
        return np.asarray(base, dtype=np.float64)[:, None] + np.outer(slope, t)

    def filtered(self, channel: Channel, energy: FloatArray, weights: FloatArray) -> FloatArray:
        """Spectrum ``weights`` (..., energies) through the channel's extra filtration,
        renormalised; the shipped spectra unchanged when the calibration has none."""
        f = self.high_filter if channel is Channel.HIGH else self.low_filter
        if f == 0.0:
            return weights
        w = weights * np.exp(-_iron_mu(energy) * f)
        return np.asarray(w / w.sum(axis=-1, keepdims=True), dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used in scan sidecars and the API."""
        out: dict[str, Any] = {
            "source": self.source,
            "high": list(self.high),
            "low": list(self.low),
        }
        if self.high_angle != _NONE or self.low_angle != _NONE:
            out["high_angle"] = list(self.high_angle)
            out["low_angle"] = list(self.low_angle)
        if self.high_filter or self.low_filter:
            out["high_filter"] = self.high_filter
            out["low_filter"] = self.low_filter
        if self.calibration_id is not None:
            out["id"] = self.calibration_id
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` naming the bad field."""

        def triple(key: str, default: Coefficients) -> Coefficients:
            value = data.get(key)
            if value is None:
                return default
            if (
                not isinstance(value, list | tuple)
                or len(value) != 3
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            ):
                raise ValueError(f"calibration.{key} must be three numbers (a, b, c)")
            return (float(value[0]), float(value[1]), float(value[2]))

        def grams(key: str) -> float:
            value = data.get(key, 0.0)
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not -_MAX_FILTER <= value <= _MAX_FILTER
            ):
                raise ValueError(
                    f"calibration.{key} must be a number of g/cm² within ±{_MAX_FILTER:g}"
                )
            return float(value)

        cal_id = data.get("id")
        return cls(
            high=triple("high", (1.0, 1.0, 1.0)),
            low=triple("low", (1.0, 1.0, 1.0)),
            high_angle=triple("high_angle", _NONE),
            low_angle=triple("low_angle", _NONE),
            high_filter=grams("high_filter"),
            low_filter=grams("low_filter"),
            source=str(data.get("source", "unknown")),
            calibration_id=None if cal_id is None else str(cal_id),
        )


@dataclass(frozen=True)
class ReferenceMeasurement:
    """A reference object as the scanner saw it: known material and areal density, measured α."""

    material: Material
    areal_density: float  # g/cm² along the ray
    alpha_high: float
    alpha_low: float
    angle_deg: float = 0.0


def _iron_mu(energy: FloatArray) -> FloatArray:
    """μ/ρ of iron (cm²/g): the filtration's material."""
    return np.asarray(cross_sections(26).at(energy).total, dtype=np.float64)


def _components(material: Material, energy: FloatArray) -> FloatArray:
    """(4, energies): total, photoelectric, Compton and pair-production μ of a material."""
    out = np.zeros((4, energy.size))
    for z, w in material.mass_fractions.items():
        xs = cross_sections(z).at(energy)
        out += w * np.stack([xs.total, xs.photoelectric, xs.compton, xs.pair])
    return out


def model_alpha(
    refs: Sequence[ReferenceMeasurement],
    calibration: Calibration,
    channel: Channel,
    spectra: ScannerSpectra | None = None,
) -> FloatArray:
    """α the calibrated model predicts for each reference object (full energy grid)."""
    spectra = spectra or default_spectra()
    energy = spectra.energy_mev
    weights = calibration.filtered(channel, energy, spectra.weights(channel))
    angles = np.array([r.angle_deg for r in refs])
    bins = spectra.angle_bin(angles)
    factors = calibration.factors(channel, angles)
    comps = {r.material: _components(r.material, energy) for r in refs}
    out = np.empty(len(refs))
    for i, ref in enumerate(refs):
        tot, pe, cs, pp = comps[ref.material]
        a, b, c = factors[:, i]
        mu = tot + (a - 1) * pe + (b - 1) * cs + (c - 1) * pp
        out[i] = -np.log(weights[bins[i]] @ np.exp(-np.maximum(mu, 0.0) * ref.areal_density))
    return out


def fit_calibration(
    refs: Sequence[ReferenceMeasurement],
    spectra: ScannerSpectra | None = None,
    *,
    angle_terms: bool = False,
    spectrum_terms: bool = False,
    source: str = "reference objects",
    calibration_id: str | None = None,
) -> Calibration:
    """Least-squares (a, b, c) per channel reproducing the measured α of ``refs``.

    ``spectrum_terms`` also fits each channel's filtration (a scanner whose spectra are not the
    shipped ones); the factors are then kept physical (0–5), the filtration within ±60 g/cm².
    Needs at least three references of different materials (one more per extra term: six with
    ``angle_terms``, four with ``spectrum_terms``), and with ``spectrum_terms`` at least two
    thicknesses of one material, since the filtration is read from how α bends with thickness.
    """
    need = (6 if angle_terms else 3) + (1 if spectrum_terms else 0)
    if len(refs) < need or len({r.material.name for r in refs}) < 3:
        raise ValueError(f"calibration needs ≥{need} references of ≥3 materials")
    if (
        spectrum_terms
        and max(
            len({r.areal_density for r in refs if r.material.name == m})
            for m in {r.material.name for r in refs}
        )
        < 2
    ):
        raise ValueError("fitting the spectrum needs a step wedge: ≥2 thicknesses of a material")
    spectra = spectra or default_spectra()
    energy = spectra.energy_mev
    angles = np.array([r.angle_deg for r in refs])
    t = np.abs(angles) / ANGLE_SCALE_DEG
    bins = spectra.angle_bin(angles)
    lam = np.array([r.areal_density for r in refs])
    comps = np.stack([_components(r.material, energy) for r in refs])  # (refs, 4, energies)
    iron = _iron_mu(energy)
    n_factors = 6 if angle_terms else 3
    fitted: dict[Channel, tuple[Coefficients, Coefficients, float]] = {}
    for channel in Channel:
        weights = spectra.weights(channel)[bins]  # (refs, energies)
        measured = np.array(
            [r.alpha_high if channel is Channel.HIGH else r.alpha_low for r in refs]
        )

        def residual(
            x: FloatArray, weights: FloatArray = weights, measured: FloatArray = measured
        ) -> FloatArray:
            slope = x[3:6] if angle_terms else np.zeros(3)
            f = x[:3, None] + np.outer(slope, t)  # (3, refs)
            if spectrum_terms:
                weights = weights * np.exp(-iron * x[n_factors])[None, :]
                weights = weights / weights.sum(axis=1, keepdims=True)
            mu = (
                comps[:, 0]
                + (f[0] - 1)[:, None] * comps[:, 1]
                + (f[1] - 1)[:, None] * comps[:, 2]
                + (f[2] - 1)[:, None] * comps[:, 3]
            )
            # A trial step may scale μ below zero where no photon is (keV); μ ≥ 0 keeps α finite.
            model = -np.log(np.sum(weights * np.exp(-np.maximum(mu, 0.0) * lam[:, None]), axis=1))
            # Relative residuals: every reference counts for its relative accuracy, so the few
            # dense steps (noisiest, most affected by scatter) do not dominate the fit.
            return np.asarray(model / measured - 1.0, dtype=np.float64)

        x0 = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0][:n_factors] + [0.0] * spectrum_terms)
        if spectrum_terms:
            # Unbounded, a cross-section scale can go negative and μ with it (α overflows).
            lo = [0.0] * 3 + [-np.inf] * (n_factors - 3) + [-_MAX_FILTER]
            hi = [5.0] * 3 + [np.inf] * (n_factors - 3) + [_MAX_FILTER]
            result = least_squares(residual, x0, bounds=(lo, hi))
        else:
            result = least_squares(residual, x0)
        if not result.success:  # pragma: no cover - least_squares reports failure only on bugs
            raise ValueError(f"calibration fit did not converge: {result.message}")
        x = result.x
        base = (float(x[0]), float(x[1]), float(x[2]))
        slope = (float(x[3]), float(x[4]), float(x[5])) if angle_terms else _NONE
        fitted[channel] = (base, slope, float(x[n_factors]) if spectrum_terms else 0.0)
    return Calibration(
        high=fitted[Channel.HIGH][0],
        low=fitted[Channel.LOW][0],
        high_angle=fitted[Channel.HIGH][1],
        low_angle=fitted[Channel.LOW][1],
        high_filter=fitted[Channel.HIGH][2],
        low_filter=fitted[Channel.LOW][2],
        source=source,
        calibration_id=calibration_id,
    )


@cache
def geant4_references() -> tuple[ReferenceMeasurement, ...]:
    """The semiZ Geant4 calibration points: C, Fe and Pb slabs at 100 elevation angles.

    Each slab is 100 g/cm² thick; the ray at angle θ crosses ``100/cos θ`` g/cm², which is the
    areal density recorded with each point.
    """
    spectra = default_spectra()
    path = resources.files("smartcustoms.scans").joinpath("data/semiZ/geant4_calibration.npz")
    with path.open("rb") as fh, np.load(fh) as data:
        alpha_high = np.asarray(data["alpha_H_calib"], dtype=np.float64)
        alpha_low = np.asarray(data["alpha_L_calib"], dtype=np.float64)
        lam = np.asarray(data["lmbda_calib"], dtype=np.float64)
        z = np.asarray(data["Z_calib"])
    densities = {6: 2.0, 26: 7.87, 82: 11.35}
    mats = {int(zz): element(int(zz), densities.get(int(zz), 1.0)) for zz in np.unique(z)}
    return tuple(
        ReferenceMeasurement(
            material=mats[int(z[k, j])],
            areal_density=float(lam[k, j]),
            alpha_high=float(alpha_high[k, j]),
            alpha_low=float(alpha_low[k, j]),
            angle_deg=float(spectra.angle_deg[k]),
        )
        for k in range(lam.shape[0])
        for j in range(lam.shape[1])
    )


@cache
def geant4_calibration(angle_terms: bool = False) -> Calibration:
    """The calibration fitted to all Geant4 points: the default for the shipped scanner."""
    return fit_calibration(
        geant4_references(),
        angle_terms=angle_terms,
        source="geant4:semiZ" + (" (angle terms)" if angle_terms else ""),
        calibration_id="semiZ-geant4" + ("-angle" if angle_terms else ""),
    )
