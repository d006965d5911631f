"""Images for people: the PNG encoder read back by Pillow, the viewer's data image decoded as
the review station decodes it, and the display image's window and colours."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind
from smartcustoms.scans.png import encode_png
from smartcustoms.scans.rendering import ALPHA_SCALE, data_png, display_png, view_layers
from tests.scans.helpers import simulated


def decode(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image)


@pytest.mark.parametrize("shape", [(7, 5), (40, 33, 3)])
def test_png_round_trip(shape: tuple[int, ...]) -> None:
    pixels = np.random.default_rng(3).integers(0, 256, size=shape, dtype=np.uint8)
    assert np.array_equal(decode(encode_png(pixels)), pixels)


def test_png_refuses_other_pixels() -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((3, 3), dtype=np.uint16))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="3 channels"):
        encode_png(np.zeros((3, 3, 4), dtype=np.uint8))


def test_layers_and_their_images() -> None:
    sim = simulated(CargoKind.PALLETS, ConcealmentKind.METAL_IN_ORGANICS, seed=1)
    layers = view_layers(sim.scan)
    rows, cols = sim.scan.shape
    assert layers.alpha_code.shape == layers.classes.shape == (rows, cols)
    # The data image carries α to 1/4096 and the class, as the viewer reads it back.
    rgb = decode(data_png(layers)).astype(np.int32)
    alpha = (rgb[..., 0] * 256 + rgb[..., 1]) / ALPHA_SCALE
    assert np.allclose(alpha, layers.alpha, atol=1e-6)
    assert np.array_equal(rgb[..., 2], layers.classes)
    # The hidden steel is coloured metal (blue), the air above the container white.
    (hidden,) = sim.truth.concealed
    c0, r0, c1, r1 = hidden.bbox_px
    assert (layers.classes[r0:r1, c0:c1] == 3).mean() > 0.3
    shown = decode(display_png(layers)).astype(int)
    assert (shown[0:3, :] >= 250).all()  # air: white, but for detector noise
    block = shown[r0:r1, c0:c1][layers.classes[r0:r1, c0:c1] == 3]
    assert (block[:, 2] > block[:, 0]).mean() > 0.9  # bluer than red
    # A narrower window darkens; grey has one channel.
    low, high = layers.default_window()
    narrow = decode(display_png(layers, window=(low, high / 2), colour="grey"))
    wide = decode(display_png(layers, window=(low, high), colour="grey"))
    assert narrow.ndim == 2 and narrow.mean() < wide.mean()
    with pytest.raises(ValueError, match="high end"):
        display_png(layers, window=(2.0, 1.0))
