"""Empty-container verification: is anything in a container declared empty?

The structure is removed as a separable background (:mod:`.background`); what is left is
objects plus noise. Objects are found by hysteresis on the significance of the smoothed
residual (seeds above ``seed_sigma``, grown down to ``grow_sigma``) and weighed by their net
excess mass over a margin around them wide enough to include any deficit next to them – a dent
moves steel without adding any, so it weighs nothing. An object's material comes from the ratio
of its own excess attenuations in the two channels.

A thin, wide metal plate is reported but not alarmed on: it is what a welded repair patch looks
like. Everything heavier than ``threshold_kg`` (0.7 kg by default) otherwise makes the container
"not empty".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from smartcustoms.scans.analyses.background import separable_background
from smartcustoms.scans.analyses.imaging import Imaged
from smartcustoms.scans.physics.materials import MaterialClass, class_of_z

__all__ = [
    "DEFAULT_THRESHOLD_KG",
    "EMPTY_ANALYSIS_VERSION",
    "DetectedObject",
    "EmptyVerdict",
    "verify_empty",
]

EMPTY_ANALYSIS_VERSION = "empty/1.0"
# Objects weighing more than this make a container "not empty". Chosen on a calibration run of
# bench/scans_empty.py (seeds 10000+): the 1 kg targets weigh ≥ 0.78 kg, and honest empties' light
# debris (paper, film, splinters) stays below it; the reported figures come from other seeds.
DEFAULT_THRESHOLD_KG = 0.7
_THIN_PLATE_PEAK = 3.0  # g/cm²: a repair patch is one sheet, ≤ 3 mm of steel
_THIN_PLATE_AREA_M2 = 0.04
_POST_M = 0.085  # corner posts reach this far into the load space's length


@dataclass(frozen=True)
class DetectedObject:
    """An object found in the load space. ``bbox`` is (col0, row0, col1, row1), end-exclusive."""

    bbox: tuple[int, int, int, int]
    mass_kg: float
    peak_areal_density: float  # g/cm² above the background
    area_m2: float
    z_eff: float | None
    material_class: MaterialClass | None
    significance: float  # peak residual in noise standard deviations
    kind: str = "object"  # or "thin-plate"


@dataclass(frozen=True)
class EmptyVerdict:
    """The verdict of the empty-container check."""

    empty: bool
    threshold_kg: float
    objects: tuple[DetectedObject, ...]
    inspected_fraction: float  # of the container's inner side-view area
    max_object_kg: float
    noise_kg: float  # one standard deviation of an object's weighed mass, typical object size
    version: str = EMPTY_ANALYSIS_VERSION
    notes: tuple[str, ...] = field(default_factory=tuple)


def _row_sigma(residual: NDArray[np.float32]) -> NDArray[np.float32]:
    """Per-row noise from the median absolute deviation along the row."""
    med = np.median(residual, axis=1, keepdims=True)
    mad = np.median(np.abs(residual - med), axis=1)
    sigma = 1.4826 * mad
    floor = max(float(np.median(sigma)) * 0.5, 1e-4)
    return np.asarray(np.maximum(sigma, floor), dtype=np.float32)


def _channel_residual(alpha: NDArray[np.float32]) -> NDArray[np.float32]:
    f, g = separable_background(alpha)
    return np.asarray(alpha - f[None, :] - g[:, None], dtype=np.float32)


def _object_z(
    imaged: Imaged,
    region: NDArray[np.bool_],
    residual_high: NDArray[np.float32] | None,
    residual_low: NDArray[np.float32] | None,
    rows: slice,
) -> float | None:
    """Z_eff of the object's own attenuation: the structure-free residuals of both channels
    summed over the object, as if it were alone in the beam."""
    if residual_high is None or residual_low is None:
        return None
    d_high = float(residual_high[region].sum())
    d_low = float(residual_low[region].sum())
    n = int(region.sum())
    if n == 0 or d_high <= 0.0 or d_low <= 0.0:
        return None
    angle = float(np.mean(imaged.scan.row_angles_deg()[rows]))
    return float(imaged.decomposer.z_of(d_high / n, d_high / d_low, angle)[0])


def verify_empty(
    imaged: Imaged,
    *,
    threshold_kg: float = DEFAULT_THRESHOLD_KG,
    seed_sigma: float = 6.0,
    grow_sigma: float = 2.5,
) -> EmptyVerdict:
    """Look for objects in the load space of a container that should be empty."""
    geom = imaged.geometry
    c0, r0, c1, r1 = geom.interior
    trim_top, trim_bottom = geom.empty_trim
    if r1 - r0 - trim_top - trim_bottom < 4 or c1 - c0 < 4:
        # No load space to look in: the container cannot be declared empty on this image.
        return EmptyVerdict(
            empty=False,
            threshold_kg=threshold_kg,
            objects=(),
            inspected_fraction=0.0,
            max_object_kg=0.0,
            noise_kg=0.0,
            notes=("no load space found in the image to inspect",),
        )
    lam = imaged.decomposition.areal_density[r0:r1, c0:c1]
    f, g = separable_background(lam)
    residual = lam - f[None, :] - g[:, None]
    low = imaged.attenuation.low
    res_high = _channel_residual(imaged.attenuation.high[r0:r1, c0:c1])
    res_low = None if low is None else _channel_residual(low[r0:r1, c0:c1])
    for cc0, cr0, cc1, cr1 in geom.corners:
        residual[max(cr0 - r0, 0) : max(cr1 - r0, 0), max(cc0 - c0, 0) : max(cc1 - c0, 0)] = 0.0
    if imaged.rectified and imaged.frame is not None:
        # Straightened end walls: the corner posts' steep edges, moved sideways by a fraction of
        # a pixel that differs row by row, leave a residual no column model removes. The posts
        # hide what is behind them anyway: they are not inspected.
        lean = abs(np.sin(np.radians(imaged.frame.tilt_deg))) * (r1 - r0)
        lean *= imaged.scan.pitch_y_mm / imaged.scan.pitch_x_mm
        post = int(np.ceil(_POST_M * 1000 / imaged.scan.pitch_x_mm + lean / 2)) + 3
        residual[:, :post] = 0.0
        residual[:, max(0, residual.shape[1] - post) :] = 0.0
    smooth = ndimage.gaussian_filter(residual, 1.2)
    sigma = _row_sigma(smooth)
    z = smooth / sigma[:, None]
    # Rows where straightening blurred the floor's or roof's edge: no object starts or grows
    # there, but an object next to them is still weighed over them (it may lie on the floor).
    z[:trim_top] = 0.0
    z[z.shape[0] - trim_bottom :] = 0.0
    seeds = z > seed_sigma
    grown = z > grow_sigma
    labels, _ = ndimage.label(grown)
    keep = np.unique(labels[seeds])
    keep = keep[keep > 0]
    area_px = imaged.pixel_area_cm2
    px_m2 = area_px / 1e4
    objects: list[DetectedObject] = []
    slices = ndimage.find_objects(labels)
    for lab in keep:
        sl = slices[lab - 1]
        if sl is None:
            continue
        h = sl[0].stop - sl[0].start
        w = sl[1].stop - sl[1].start
        # Weigh over the object plus a margin of half its size (at least 4 px): wide enough to
        # include a dent's surrounding deficit, narrow enough to keep the noise small.
        m = max(4, (max(h, w) + 1) // 2)
        ra, rb = max(0, sl[0].start - m), min(lam.shape[0], sl[0].stop + m)
        ca, cb = max(0, sl[1].start - m), min(lam.shape[1], sl[1].stop + m)
        region = labels[sl] == lab
        rows = slice(sl[0].start + r0, sl[0].stop + r0)
        z_eff = _object_z(
            imaged, region, res_high[sl], None if res_low is None else res_low[sl], rows
        )
        mass = float(residual[ra:rb, ca:cb].sum(dtype=np.float64) * area_px / 1000.0)
        cls = None if z_eff is None else list(MaterialClass)[int(class_of_z(z_eff))]
        peak = float(smooth[sl][labels[sl] == lab].max())
        area = float(region.sum() * px_m2)
        kind = (
            "thin-plate"
            if cls is MaterialClass.METAL and peak < _THIN_PLATE_PEAK and area > _THIN_PLATE_AREA_M2
            else "object"
        )
        objects.append(
            DetectedObject(
                bbox=(
                    int(sl[1].start + c0),
                    int(sl[0].start + r0),
                    int(sl[1].stop + c0),
                    int(sl[0].stop + r0),
                ),
                mass_kg=mass,
                peak_areal_density=peak,
                area_m2=area,
                z_eff=z_eff,
                material_class=cls,
                significance=float(z[sl][labels[sl] == lab].max()),
                kind=kind,
            )
        )
    objects.sort(key=lambda o: -o.mass_kg)
    alarming = [o for o in objects if o.kind == "object"]
    max_kg = max((o.mass_kg for o in alarming), default=0.0)
    spec = geom.spec
    inner = (spec.inner_length * spec.inner_height) if spec else geom.length_m * geom.height_m
    inspected = min(1.0, geom.interior_area_px * px_m2 / inner) if inner > 0 else 0.0
    # Noise of a typical weighing window (20 × 20 cm object plus margin).
    side = int(0.4 / (imaged.scan.pitch_x_mm / 1000))
    noise_kg = float(np.median(sigma)) * side * side * area_px / 1000.0 / 1.2
    notes = tuple(
        f"thin metal plate of {o.area_m2:.2f} m² ignored (repair patch?)"
        for o in objects
        if o.kind == "thin-plate"
    )
    return EmptyVerdict(
        empty=max_kg < threshold_kg,
        threshold_kg=threshold_kg,
        objects=tuple(objects),
        inspected_fraction=inspected,
        max_object_kg=max_kg,
        noise_kg=noise_kg,
        notes=notes,
    )
