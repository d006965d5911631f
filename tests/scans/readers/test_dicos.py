"""NEMA DICOS DX files: written by the product and edited with pydicom."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import UID

from smartcustoms.scans import ScanReadError, read_scan, write_dicos
from smartcustoms.scans.model import Scan
from smartcustoms.scans.readers.dicos import read_dicos
from smartcustoms.scans.writers.dicos import DICOS_DX_FOR_PROCESSING, PRIVATE_GROUP


def test_round_trip(tmp_path: Path, small_scan: Scan) -> None:
    path = write_dicos(small_scan, tmp_path / "scan.dcm")
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == DICOS_DX_FOR_PROCESSING and ds.Modality == "DX"
    assert ds.PatientID == "CSQU3054383" and ds.NumberOfFrames == 2
    assert [float(v) for v in ds.ImagerPixelSpacing] == [6.0, 5.5]
    scan = read_scan(path)
    for a, b in zip(scan.channels, small_scan.channels, strict=True):
        assert np.array_equal(a.counts, b.counts) and a.name is b.name
    assert scan.metadata.calibration == small_scan.metadata.calibration
    assert scan.metadata.declaration_ref == "2025MSA000123"
    # Deterministic: the same scan gives the same file.
    again = write_dicos(small_scan, tmp_path / "again.dcm")
    assert again.read_bytes() == path.read_bytes()


def _edit(path: Path, **changes: object) -> Path:
    ds = pydicom.dcmread(path)
    for key, value in changes.items():
        setattr(ds, key, value)
    ds.save_as(path, enforce_file_format=True)
    return path


def test_wrong_sop_class_is_named(tmp_path: Path, small_scan: Scan) -> None:
    path = _edit(
        write_dicos(small_scan, tmp_path / "ct.dcm"),
        SOPClassUID=UID("1.2.840.10008.5.1.4.1.1.501.1"),
    )
    with pytest.raises(
        ScanReadError, match=r"DICOS CT Image Storage .* is not a DICOS 2D X-ray image"
    ):
        read_scan(path)


def test_eight_bit_pixels_are_refused(tmp_path: Path, small_scan: Scan) -> None:
    path = write_dicos(small_scan, tmp_path / "bits.dcm")
    ds = pydicom.dcmread(path)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = np.zeros((2, 40, 60), np.uint8).tobytes()
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(ScanReadError, match=r"BitsAllocated is 8, expected 16 .*\(0028,0100\)"):
        read_scan(path)


def test_container_number_must_agree_with_the_ooi_id(tmp_path: Path, small_scan: Scan) -> None:
    path = _edit(write_dicos(small_scan, tmp_path / "ooi.dcm"), PatientID="MSCU1234566")
    with pytest.raises(ScanReadError, match=r"PatientID \(OOI ID\) 'MSCU1234566' disagrees"):
        read_scan(path)


def test_pixel_spacing_must_agree(tmp_path: Path, small_scan: Scan) -> None:
    path = _edit(write_dicos(small_scan, tmp_path / "px.dcm"), ImagerPixelSpacing=["6.0", "4.0"])
    with pytest.raises(ScanReadError, match=r"column spacing 4\.0 mm disagrees"):
        read_scan(path)


def test_foreign_dicos_without_our_private_block(tmp_path: Path, small_scan: Scan) -> None:
    path = write_dicos(small_scan, tmp_path / "foreign.dcm")
    ds = pydicom.dcmread(path)
    for elem in list(ds.group_dataset(PRIVATE_GROUP)):
        del ds[elem.tag]
    ds.save_as(path, enforce_file_format=True)
    scan = read_dicos(path)
    assert scan.metadata.extra == {"air_level_source": "estimated"}
    assert scan.metadata.container_number == "CSQU3054383" and scan.is_dual_energy
    # Air estimated from the columns at both ends of each row.
    counts = small_scan.channels[0].counts
    edges = np.concatenate([counts[:, :8], counts[:, -8:]], axis=1)
    assert np.allclose(scan.channels[0].air, np.median(edges, axis=1))


def test_not_dicom_and_truncated(tmp_path: Path, small_scan: Scan) -> None:
    path = write_dicos(small_scan, tmp_path / "cut.dcm")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ScanReadError, match=r"cut\.dcm: (pixel data cannot be decoded|not a readable)"
    ):
        read_scan(path)
