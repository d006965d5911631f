"""Images of a scan for people: attenuation with a window, coloured by material.

Two products, both from the same layers (high-energy attenuation α and the dual-energy material
class of each pixel):

* the **display image** (:func:`display_png`): grey or material colours, windowed, ready to show
  — what ``GET /api/scans/{id}/image.png`` returns;
* the **data image** (:func:`data_png`) for the review station, which windows and colours in the
  browser as the analyst moves the sliders: an RGB PNG whose red and green bytes hold
  α × :data:`ALPHA_SCALE` as 16 bits and whose blue byte holds the class (:data:`CLASS_CODES`).

Colours follow the convention of cargo scanners: organic orange, mixed green, metal blue; the
denser, the darker. Computing the layers (the dual-energy decomposition) takes about as long as
the analyses, so they are kept in the scan store beside the file after the first view.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from smartcustoms.scans.analyses.imaging import image
from smartcustoms.scans.model import Scan
from smartcustoms.scans.png import encode_png

__all__ = [
    "ALPHA_SCALE",
    "CLASS_CODES",
    "COLOURS",
    "ViewLayers",
    "data_png",
    "display_png",
    "load_layers",
    "view_layers",
]

ALPHA_SCALE = 4096.0  # α = (256·R + G) / ALPHA_SCALE, so α up to 16 in steps of 0.00024
CLASS_CODES = {0: "unknown", 1: "organic", 2: "mixed", 3: "metal"}
COLOURS = {  # RGB 0–1 of each class at full density, as cargo scanners colour them
    1: (1.0, 0.55, 0.0),
    2: (0.1, 0.62, 0.1),
    3: (0.12, 0.35, 0.95),
}


@dataclass(frozen=True, eq=False)
class ViewLayers:
    alpha_code: NDArray[np.uint16]  # α × ALPHA_SCALE
    classes: NDArray[np.uint8]  # CLASS_CODES

    @property
    def alpha(self) -> NDArray[np.float32]:
        return (self.alpha_code.astype(np.float32) / np.float32(ALPHA_SCALE)).astype(np.float32)

    def default_window(self) -> tuple[float, float]:
        """From air to the 99.5th percentile of attenuation: what most scans need first."""
        top = float(np.percentile(self.alpha, 99.5))
        return (0.0, max(top, 0.5))


def view_layers(scan: Scan) -> ViewLayers:
    """Corrected high-energy attenuation and material classes, as the analyses see them."""
    imaged = image(scan, rectified=False)  # the scan's own pixels: the report's boxes are
    alpha = np.clip(imaged.attenuation.high, 0.0, 65535 / ALPHA_SCALE)
    code = np.rint(alpha * ALPHA_SCALE).astype(np.uint16)
    classes = (imaged.decomposition.material_class.astype(np.int16) + 1).clip(0, 3)
    return ViewLayers(code, classes.astype(np.uint8))


def load_layers(path: Path, scan_reader: Callable[[], Scan]) -> ViewLayers:
    """The layers kept at ``path``, made (and kept) first when absent.

    ``scan_reader`` is a callable returning the :class:`Scan`, called only when needed."""
    if path.is_file():
        with np.load(path) as data:
            return ViewLayers(data["alpha_code"], data["classes"])
    layers = view_layers(scan_reader())
    buffer = io.BytesIO()
    np.savez_compressed(buffer, alpha_code=layers.alpha_code, classes=layers.classes)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)  # two viewers at once write the same bytes; the last rename wins
    return layers


def data_png(layers: ViewLayers) -> bytes:
    """The review station's image: α in red and green (16 bits), material class in blue."""
    code = layers.alpha_code
    rgb = np.empty((*code.shape, 3), dtype=np.uint8)
    rgb[..., 0] = code >> 8
    rgb[..., 1] = code & 0xFF
    rgb[..., 2] = layers.classes
    return encode_png(rgb, level=1)


def display_png(
    layers: ViewLayers,
    *,
    window: tuple[float, float] | None = None,
    colour: str = "material",
    invert: bool = False,
) -> bytes:
    """The scan as shown to a person: α windowed to [low, high], grey or material colours."""
    low, high = window or layers.default_window()
    if not high > low:
        raise ValueError("the window's high end must be above its low end")
    v = np.clip((layers.alpha - low) / (high - low), 0.0, 1.0)
    if invert:
        v = 1.0 - v
    if colour == "grey":
        pixels = (255.0 * (1.0 - v)).astype(np.uint8)
        return encode_png(pixels)
    if colour != "material":
        raise ValueError(f"colour must be grey or material, not {colour!r}")
    out = np.repeat((1.0 - v)[..., None], 3, axis=2)
    for code, hue in COLOURS.items():
        mask = layers.classes == code
        shade = v[mask][:, None] * (1.0 - 0.6 * v[mask][:, None])
        out[mask] = (1.0 - v[mask])[:, None] + shade * np.asarray(hue)[None, :]
    return encode_png((255.0 * np.clip(out, 0.0, 1.0)).astype(np.uint8))
