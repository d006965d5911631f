"""The independent scene generator (bench/independent_scenes) is physics, not noise: read by the
product's own reader, open beam reads as air, more water attenuates more, and a known slab's
mass comes back from the counts through the generator's own attenuation model."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from independent_scenes import Cargo, Concealment, SceneSpec, make_scene, write_scene
from independent_scenes.attenuation import BASES, spectrum, transmission

from smartcustoms.scans import read_scan
from smartcustoms.scans.physics.spectra import Channel

THICKNESS_CM = (10.0, 20.0, 40.0)
PITCH = (8.0, 8.0)


@pytest.fixture(scope="module")
def slabs(tmp_path_factory: pytest.TempPathFactory) -> dict[float, tuple]:
    folder = tmp_path_factory.mktemp("independent")
    out = {}
    for i, cm in enumerate(THICKNESS_CM):
        spec = SceneSpec(
            cargo=Cargo.EMPTY,
            concealment=Concealment.NONE,
            seed=7000 + i,
            container="20",
            tilt_deg=0.0,
            fan_beam=False,
            pitch_mm=PITCH,
            slab_cm=cm,
        )
        scene = make_scene(spec)
        scan = read_scan(write_scene(scene, folder))
        out[cm] = (scene, scan)
    return out


def _alpha(scan, name: Channel) -> np.ndarray:
    return scan.channel(name).attenuation().astype(np.float64)


def _slab_box(scene) -> tuple[int, int, int, int]:
    """(col0, row0, col1, row1) of the slab in the image, from the scene's own placement."""
    mid = 6.058 / 2  # the slab sits in the middle of a 20 ft container
    c0, r1 = scene.placement.to_image(mid - 0.5, 0.5)
    c1, r0 = scene.placement.to_image(mid + 0.5, 1.1)
    return round(c0), round(r0), round(c1), round(r1)


def test_the_product_reads_the_files_as_written(slabs) -> None:
    scene, scan = slabs[THICKNESS_CM[0]]
    assert scan.is_dual_energy
    assert scan.shape == scene.counts[0].shape
    assert (scan.pitch_x_mm, scan.pitch_y_mm) == PITCH
    # whichever page the sidecar put each channel on, the reader gives back the same counts
    assert np.array_equal(scan.channel(Channel.HIGH).counts, scene.counts[0])
    assert np.array_equal(scan.channel(Channel.LOW).counts, scene.counts[1])
    assert scan.metadata.container_type == "22G1"


def test_open_beam_reads_as_air(slabs) -> None:
    for scene, scan in slabs.values():
        top = scene.placement.to_image(0.0, 2.591)[1]  # the roof of a 20 ft container
        rows = slice(2, int(top) - 4)  # above the roof
        for name in (Channel.HIGH, Channel.LOW):
            a = _alpha(scan, name)[rows]
            good = np.isfinite(a) & (a < 5)  # dead rows read their dark level
            assert abs(float(np.median(a[good]))) < 0.01
            assert float(np.std(a[good])) < 0.05


def test_more_water_attenuates_more(slabs) -> None:
    medians = {Channel.HIGH: [], Channel.LOW: []}
    for cm in THICKNESS_CM:
        scene, scan = slabs[cm]
        c0, r0, c1, r1 = _slab_box(scene)
        for name in medians:
            medians[name].append(
                float(np.median(_alpha(scan, name)[r0 + 5 : r1 - 5, c0 + 5 : c1 - 5]))
            )
    for name, values in medians.items():
        assert values[0] < values[1] < values[2], (name, values)
    # water attenuates more at the lower energy, and beam hardening bends the curve down
    assert all(lo > hi for lo, hi in zip(medians[Channel.LOW], medians[Channel.HIGH], strict=True))
    high = medians[Channel.HIGH]
    assert high[2] - high[1] < 2 * (high[1] - high[0]) * 1.02


def test_a_known_slab_weighs_what_it_is(slabs) -> None:
    """Invert the high channel pixel by pixel with the generator's own model (the background's
    steel from a reference strip beside the slab, per row) and integrate: the slab's mass."""
    high = spectrum(9.0)
    grid = np.linspace(0.0, 120.0, 1201)
    for cm in THICKNESS_CM:
        scene, scan = slabs[cm]
        c0, r0, c1, r1 = _slab_box(scene)
        alpha = _alpha(scan, Channel.HIGH)
        pad = 12
        ref = np.median(alpha[r0 - pad : r1 + pad, c0 - 60 : c0 - 20], axis=1)
        sums = []
        for k, row in enumerate(range(r0 - pad, r1 + pad)):
            if ref[k] > 2.0:  # a dead row reads its dark level: filled from its neighbours
                sums.append(np.nan)
                continue
            # the steel in this row's path, then α as a function of the water added to it
            steel = np.linspace(0.0, 60.0, 601)
            stack = np.zeros((len(BASES), len(steel)), dtype=np.float32)
            stack[BASES.index("iron")] = steel
            a_steel = -np.log(transmission(stack, high))
            fe = float(np.interp(ref[k], a_steel, steel))
            stack = np.zeros((len(BASES), len(grid)), dtype=np.float32)
            stack[BASES.index("iron")] = fe
            stack[BASES.index("water")] = grid
            a_water = -np.log(transmission(stack, high))
            sums.append(float(np.interp(alpha[row, c0 - pad : c1 + pad], a_water, grid).sum()))
        per_row = np.array(sums)
        dead = np.isnan(per_row)
        per_row[dead] = np.interp(np.flatnonzero(dead), np.flatnonzero(~dead), per_row[~dead])
        total = float(per_row.sum())
        mass_kg = total * (PITCH[0] * PITCH[1] / 100.0) / 1000.0
        truth = 1.0 * 0.6 * cm / 100 * 1000
        assert mass_kg == pytest.approx(truth, rel=0.04), (cm, mass_kg, truth)
