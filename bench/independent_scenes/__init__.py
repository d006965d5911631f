"""An independent family of container scans, for benchmarking only (never for training).

A dual-energy transmission X-ray scene generator written apart from the product's simulator
(``smartcustoms.sandbox.scan_simulator``) and from the analyses' internals: its own container
build (:mod:`.scene`), cargo and concealments, its own attenuation table and spectra
(:mod:`.attenuation`), its own detector (:mod:`.detector`), tilt and fan-beam projection
(:mod:`.geometry`). It writes what an administration's scanner would: a 16-bit TIFF, one page
per energy channel (in either order), with a JSON sidecar in the product's format
(``smartcustoms.scan-sidecar/1``), read back by the product's own reader.

    from independent_scenes import SceneSpec, make_scene, write_scene
    scene = make_scene(SceneSpec(cargo=Cargo.GARMENTS, concealment=Concealment.CIGARETTES, seed=3))
    path = write_scene(scene, folder)          # folder/IND-….tif and its .json
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from numpy.typing import NDArray
from stdnum import iso6346

from .attenuation import BASES, Material, spectrum, transmission
from .detector import Detector, detect
from .geometry import Box, Placement, project, rasterise
from .scene import Cargo, Concealment, Load, build_container, build_load, chassis

__all__ = [
    "Cargo",
    "Concealment",
    "Scene",
    "SceneSpec",
    "exposures",
    "make_scene",
    "sidecar_channels",
    "write_counts",
    "write_scene",
]

#: Seeds of this family start here, apart from the product simulator's (training 200000+,
#: validation 300000+, its side studies 400000+, its benchmarks 50000–80000).
SEED_BASE = 9_100_000
WATER = Material.of("water", water=1.0)


@dataclass(frozen=True)
class SceneSpec:
    cargo: Cargo = Cargo.GARMENTS
    concealment: Concealment = Concealment.NONE
    seed: int = 0
    container: str | None = None  # "20", "40", "40hc"; None: drawn
    tilt_deg: float | None = None  # None: drawn in 0–1°, either way
    fan_beam: bool | None = None  # None: drawn (half the scans)
    chassis: bool = False  # a trailer under the container (a truck portal)
    pitch_mm: tuple[float, float] | None = None  # None: drawn, 4.8–6.2 mm
    #: a water slab this thick along the beam (1.0 m long, 0.6 m high, 0.5 m above the floor's
    #: underside, in the middle of the container): a known object for testing the generator
    slab_cm: float | None = None


@dataclass
class Scene:
    spec: SceneSpec
    counts: list[NDArray[np.uint16]]  # (high, low)
    air: list[NDArray[np.float32]]
    dark: list[NDArray[np.float32]]
    sidecar: dict[str, Any]
    load: Load
    placement: Placement
    truth_bbox_px: tuple[int, int, int, int] | None  # (col0, row0, col1, row1), end-exclusive
    areal: NDArray[np.float32] | None = None  # (bases, rows, cols) before the detector
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def goods_kg(self) -> float:
        return self.load.goods_kg


def _container_number(rng: np.random.Generator) -> str:
    owner = "".join(rng.choice(list("ABCDEFGHIJKLMNOPRSTVWXYZ"), size=3)) + "U"
    serial = f"{int(rng.integers(0, 1_000_000)):06d}"
    return owner + serial + iso6346.calc_check_digit(owner + serial)


def exposures(
    areal: NDArray[np.float32], place: Placement
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Detected fractions (high, low) through ``areal``: 9 and 6 MeV endpoints; with a fan beam
    the spectrum softens off the beam axis, in bands of 2° of elevation."""
    rows, cols = place.rows, place.cols
    source_h, source_d = place.source_height_m, place.source_distance_m
    trans = []
    for endpoint in (9.0, 6.0):
        if source_h is None or source_d is None:
            trans.append(transmission(areal, spectrum(endpoint)))
            continue
        heights = (rows - np.arange(rows) - 0.5) * place.pitch_y_m
        angle = np.degrees(np.abs(np.arctan2(heights - source_h, source_d)))
        out = np.zeros((rows, cols), dtype=np.float32)
        bands = np.minimum((angle // 2.0).astype(int), 10)
        for band in np.unique(bands):
            sel = bands == band
            out[sel] = transmission(areal[:, sel, :], spectrum(endpoint, 2.0 * band + 1.0))
        trans.append(out)
    return trans[0], trans[1]


def sidecar_channels(
    air: list[NDArray[np.float32]], dark: list[NDArray[np.float32]], low_first: bool
) -> list[dict[str, Any]]:
    """The sidecar's channel entries: page, nominal energy, the air and dark levels recorded."""
    pages = {"high": 1 if low_first else 0, "low": 0 if low_first else 1}
    channels = []
    for i, (name, mev) in enumerate((("high", 9.0), ("low", 6.0))):
        channels.append(
            {
                "name": name,
                "nominal_mev": mev,
                "page": pages[name],
                "air_level": [round(float(a), 2) for a in air[i]],
                "dark_level": [round(float(d), 2) for d in dark[i]],
            }
        )
    if low_first:
        channels.reverse()
    return channels


def make_scene(spec: SceneSpec, *, keep_areal: bool = False) -> Scene:
    rng = np.random.default_rng([SEED_BASE, spec.seed, 17])
    kind = spec.container or str(rng.choice(["20", "40", "40hc"], p=[0.5, 0.35, 0.15]))
    build, boxes = build_container(kind, rng)
    load = build_load(build, spec.cargo, spec.concealment, rng)
    if spec.slab_cm:
        mid, depth = build.length / 2, spec.slab_cm / 100
        load.boxes.append(Box(mid - 0.5, mid + 0.5, 0.5, 1.1, -depth / 2, depth / 2, 1.0, WATER))
    under = chassis(build, rng) if spec.chassis else []
    tilt = spec.tilt_deg
    if tilt is None:
        tilt = float(rng.uniform(0.0, 1.0)) * float(rng.choice([-1, 1]))
    fan = bool(rng.random() < 0.5) if spec.fan_beam is None else spec.fan_beam
    px, py = spec.pitch_mm or (float(rng.uniform(4.8, 6.2)), float(rng.uniform(4.8, 6.2)))
    px_m, py_m = px / 1000, py / 1000
    margin_x = float(rng.uniform(0.3, 0.8))
    below = (1.25 if spec.chassis else 0.0) + float(rng.uniform(0.12, 0.3))
    rise = build.length * abs(math.sin(math.radians(tilt)))
    above = float(rng.uniform(0.15, 0.35))
    height = below + build.height + rise + above
    rows = math.ceil(height / py_m)
    cols = math.ceil((build.length * math.cos(math.radians(tilt)) + 2 * margin_x) / px_m)
    y0 = below + (rise if tilt < 0 else 0.0)
    source_h = float(rng.uniform(0.6, 1.8)) + (1.2 if spec.chassis else 0.0) if fan else None
    source_d = float(rng.uniform(7.0, 10.0)) if fan else None
    place = Placement(rows, cols, px_m, py_m, margin_x, y0, tilt, source_h, source_d)
    everything = boxes + under + load.boxes + load.concealed
    grid = rasterise(
        everything,
        place,
        v_min=-1.2 if spec.chassis else 0.0,
        v_max=build.height,
        u_max=build.length,
        fan=fan,
    )
    areal = project(grid, place)
    trans = exposures(areal, place)
    det = Detector.draw(rng)
    counts, air, dark = detect((trans[0], trans[1]), det, rng)
    bbox = None
    pieces = [b for b in load.concealed if b.density > 0]
    if pieces:
        pts = [
            place.to_image(u, v, w)
            for b in pieces
            for u in (b.u0, b.u1)
            for v in (b.v0, b.v1)
            for w in (b.w0, b.w1)
        ]
        cs, rs = [p[0] for p in pts], [p[1] for p in pts]
        bbox = (
            math.floor(min(cs)),
            math.floor(min(rs)),
            math.ceil(max(cs)),
            math.ceil(max(rs)),
        )
    low_first = bool(rng.random() < 0.5)
    channels = sidecar_channels(air, dark, low_first)
    sidecar: dict[str, Any] = {
        "format": "smartcustoms.scan-sidecar/1",
        "scanner_id": f"IND-{int(rng.integers(1, 6)):02d}",
        "pixel_pitch_mm": {"x": round(px, 3), "y": round(py, 3)},
        "channels": channels,
        "container_number": _container_number(rng),
        "container_type": build.iso_code,
        "acquired_at": (
            datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=int(rng.integers(0, 400_000)))
        ).isoformat(),
    }
    if fan:
        assert source_h is not None and source_d is not None
        sidecar["beam"] = {
            "source_row": round(rows - source_h / py_m - 0.5, 3),
            "source_distance_mm": round(source_d * 1000, 1),
        }
    info = {
        "container": kind,
        "tilt_deg": tilt,
        "fan_beam": fan,
        "chassis": spec.chassis,
        "pitch_mm": (px, py),
        "low_first": low_first,
        "detector": det,
        "door_left": build.door_left,
        "bases": BASES,
    }
    return Scene(
        spec, counts, air, dark, sidecar, load, place, bbox, areal if keep_areal else None, info
    )


def write_scene(
    scene: Scene,
    folder: Path,
    name: str | None = None,
    *,
    calibration: dict[str, Any] | None = None,
) -> Path:
    """Write ``scene`` as ``folder/NAME.tif`` (pages in the sidecar's order) and ``NAME.json``.

    ``calibration``: the site's calibration (the JSON a calibration of this scanner gave), put
    in the sidecar's ``calibration`` field as a site whose scanner is calibrated writes it."""
    name = name or f"IND-{scene.spec.cargo.value}-{scene.spec.concealment.value}-{scene.spec.seed}"
    sidecar = dict(scene.sidecar)
    if calibration is not None:
        sidecar["calibration"] = calibration
    return write_counts(scene.counts, sidecar, folder / f"{name}.tif")


def write_counts(counts: list[NDArray[np.uint16]], sidecar: dict[str, Any], path: Path) -> Path:
    """A 16-bit TIFF, one page per channel in the sidecar's page order, and its JSON sidecar."""
    order = sorted(sidecar["channels"], key=lambda c: c["page"])
    with tifffile.TiffWriter(path) as tw:
        for ch in order:
            tw.write(counts[0 if ch["name"] == "high" else 1], photometric="minisblack")
    path.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path
