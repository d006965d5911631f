"""16-bit TIFF + sidecar: written by the product and by tifffile directly, good and broken."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from smartcustoms.scans import ScanReadError, read_scan, sidecar_dict, write_tiff
from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.spectra import Channel


def _same(a: Scan, b: Scan) -> None:
    assert a.shape == b.shape
    for ca, cb in zip(a.channels, b.channels, strict=True):
        assert ca.name is cb.name and ca.nominal_mev == cb.nominal_mev
        assert np.array_equal(ca.counts, cb.counts)
        assert np.allclose(ca.air, cb.air, atol=1e-3) and np.allclose(ca.dark, cb.dark)
    assert (a.pitch_x_mm, a.pitch_y_mm) == (b.pitch_x_mm, b.pitch_y_mm)
    assert a.metadata.container_number == b.metadata.container_number
    assert a.metadata.declaration_ref == b.metadata.declaration_ref
    assert a.metadata.acquired_at == b.metadata.acquired_at
    assert a.metadata.calibration == b.metadata.calibration
    assert a.metadata.extra == b.metadata.extra
    assert a.beam == b.beam


def test_round_trip_with_sidecar(tmp_path: Path, small_scan: Scan) -> None:
    path = write_tiff(small_scan, tmp_path / "scan.tif")
    assert (tmp_path / "scan.json").is_file()
    assert not list(tmp_path.glob("*.part"))
    _same(read_scan(path), small_scan)


def test_sidecar_embedded_in_the_tiff_is_enough(tmp_path: Path, small_scan: Scan) -> None:
    path = write_tiff(small_scan, tmp_path / "scan.tif", sidecar=False)
    assert not (tmp_path / "scan.json").exists()
    _same(read_scan(path), small_scan)


def test_sidecar_next_to_the_file_wins_and_name_with_tif_json_works(
    tmp_path: Path, small_scan: Scan
) -> None:
    path = write_tiff(small_scan, tmp_path / "scan.tif", sidecar=False)
    side = sidecar_dict(small_scan)
    side["declaration_ref"] = "FROM-SIDECAR"
    (tmp_path / "scan.tif.json").write_text(json.dumps(side))
    assert read_scan(path).metadata.declaration_ref == "FROM-SIDECAR"


def _write_raw(path: Path, pages: list[np.ndarray], side: dict[str, object] | None) -> Path:
    with tifffile.TiffWriter(path) as tif:
        for page in pages:
            tif.write(page, photometric="minisblack" if page.ndim == 2 else "rgb")
    if side is not None:
        path.with_suffix(".json").write_text(json.dumps(side))
    return path


def test_single_energy_tiff_written_by_tifffile(tmp_path: Path, small_scan: Scan) -> None:
    side = sidecar_dict(small_scan)
    side["channels"] = [side["channels"][0]]  # type: ignore[index]
    page = small_scan.channels[0].counts
    scan = read_scan(_write_raw(tmp_path / "one.tif", [page], side))
    assert not scan.is_dual_energy and scan.channels[0].name is Channel.HIGH


@pytest.mark.parametrize(
    ("pages", "edit", "message", "field"),
    [
        (
            [np.zeros((40, 60), np.uint8)],
            None,
            "uint8 pixels; scans must be 16-bit",
            "BitsPerSample",
        ),
        ([np.zeros((40, 60, 3), np.uint16)], None, "3 samples per pixel", "SamplesPerPixel"),
        (
            [np.zeros((40, 60), np.uint16), np.zeros((40, 61), np.uint16)],
            None,
            "is 40×61 but page 0 is 40×60",
            "page 1",
        ),
        (
            [np.zeros((40, 60), np.uint16)],
            None,
            "sidecar lists 2 channels but the TIFF has 1 page",
            "channels",
        ),
        (
            None,
            lambda s: s["channels"][1].update(page=5),
            "channel 'low' is on page 5 but the file has 2",
            "channels[1].page",
        ),
        (None, lambda s: s.pop("scanner_id"), "missing scanner ID", "scanner_id"),
        (
            None,
            lambda s: s.update(container_number="CSQU3054384"),
            "not a valid ISO 6346",
            "container_number",
        ),
        (
            None,
            lambda s: s["channels"][0].update(air_level=[1.0, 2.0]),
            "has 2 values but the image has 40 rows",
            "channels[0].air_level",
        ),
        (
            None,
            lambda s: s["channels"][1].update(name="medium"),
            "'high' or 'low'",
            "channels[1].name",
        ),
        (
            None,
            lambda s: s["channels"][0].pop("air_level"),
            "missing open-beam (air) level",
            "channels[0].air_level",
        ),
        (None, lambda s: s.update(format="other/2"), "unsupported sidecar format", "format"),
        (None, lambda s: s.update(acquired_at="2025-03-01T08:30:00"), "time zone", "acquired_at"),
        (
            None,
            lambda s: s["pixel_pitch_mm"].update(x=0),
            "positive number of millimetres",
            "pixel_pitch_mm.x",
        ),
        (
            None,
            lambda s: s["channels"][0].update(dark_level=70000.0),
            "air level must exceed the dark level",
            "channels[0].air_level",
        ),
        (None, lambda s: s.update(calibration={"high": [1, 2]}), "three numbers", "calibration"),
    ],
)
def test_broken_files_name_what_is_wrong(
    tmp_path: Path,
    small_scan: Scan,
    pages: list[np.ndarray] | None,
    edit: object,
    message: str,
    field: str,
) -> None:
    side = sidecar_dict(small_scan)
    if edit is not None:
        edit(side)  # type: ignore[operator]
    raw = pages if pages is not None else [c.counts for c in small_scan.channels]
    path = _write_raw(tmp_path / "bad.tif", raw, side)
    with pytest.raises(ScanReadError) as info:
        read_scan(path)
    assert message in info.value.message
    assert field in info.value.message and info.value.field and field in info.value.field
    assert info.value.message.startswith("bad.tif") or info.value.message.startswith("bad.json")
    assert info.value.to_dict()["error"]["code"] == "scan_unreadable"


def test_missing_sidecar_and_bad_json(tmp_path: Path, small_scan: Scan) -> None:
    path = _write_raw(tmp_path / "bare.tif", [c.counts for c in small_scan.channels], None)
    with pytest.raises(ScanReadError, match=r"no sidecar: expected bare\.json"):
        read_scan(path)
    (tmp_path / "bare.json").write_text('{"format": ')
    with pytest.raises(ScanReadError, match=r"not valid JSON \(line 1"):
        read_scan(path)


def test_resolution_tags_must_agree_with_the_sidecar(tmp_path: Path, small_scan: Scan) -> None:
    path = tmp_path / "res.tif"
    with tifffile.TiffWriter(path) as tif:
        for c in small_scan.channels:
            tif.write(
                c.counts,
                photometric="minisblack",
                resolution=(10 / 4.0, 10 / 6.0),
                resolutionunit="CENTIMETER",
            )
    path.with_suffix(".json").write_text(json.dumps(sidecar_dict(small_scan)))
    with pytest.raises(
        ScanReadError, match=r"XResolution says 4 mm per pixel but the sidecar says 5\.5"
    ):
        read_scan(path)


def test_truncated_tiff(tmp_path: Path, small_scan: Scan) -> None:
    path = write_tiff(small_scan, tmp_path / "cut.tif")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ScanReadError, match=r"cut\.tif"):
        read_scan(path)
