"""Choosing a reader by the first bytes, and plugging in another format."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartcustoms.scans import ScanReadError, read_scan, register_reader
from smartcustoms.scans.errors import ScanTooLarge
from smartcustoms.scans.limits import ScanLimits
from smartcustoms.scans.model import Scan
from smartcustoms.scans.readers import readers


def test_unrecognised_empty_missing_and_directory(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 200)
    with pytest.raises(ScanReadError, match=r"x.png: unrecognised format: not tiff, dicos"):
        read_scan(tmp_path / "x.png")
    (tmp_path / "empty.tif").write_bytes(b"")
    with pytest.raises(ScanReadError, match=r"empty\.tif: file is empty"):
        read_scan(tmp_path / "empty.tif")
    with pytest.raises(ScanReadError, match=r"nope\.tif: file not found"):
        read_scan(tmp_path / "nope.tif")
    with pytest.raises(ScanReadError, match="is a directory"):
        read_scan(tmp_path)


def test_a_plugged_in_reader_is_used(tmp_path: Path, small_scan: Scan) -> None:
    (tmp_path / "scan.uff").write_bytes(b"UFF1" + b"\0" * 100)
    name = "uff-test"
    if name not in readers():
        register_reader(
            name, lambda head: head.startswith(b"UFF1"), lambda path, limits: small_scan
        )
    assert read_scan(tmp_path / "scan.uff") is small_scan
    with pytest.raises(ValueError, match="already registered"):
        register_reader(name, lambda head: False, lambda path, limits: small_scan)
    # What a plugged-in reader returns is held to the limits too (the scan is 40 × 60).
    with pytest.raises(ScanTooLarge) as info:
        read_scan(tmp_path / "scan.uff", limits=ScanLimits(max_pixels=2000))
    assert info.value.field == "image" and info.value.status_code == 413
