"""Decompression and memory bombs: refused from the header, with the field named, before any
pixel is decoded, and with the reader's peak memory bounded (measured in a child process)."""

from __future__ import annotations

import json
import lzma
import os
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile

from smartcustoms.core.settings import load_settings
from smartcustoms.scans import ScanReadError, ScanTooLarge, read_scan, write_dicos, write_tiff
from smartcustoms.scans.limits import ScanLimits
from smartcustoms.scans.model import Scan
from smartcustoms.scans.readers.bounded import deflate_size, lzma_size, packbits_size
from smartcustoms.scans.sidecar import sidecar_dict
from smartcustoms.scans.storage import store_for
from tests.scans.readers import bombs
from tests.scans.readers.bombs import MB, Page, write_tiff_bomb

# -- each bomb, refused with the field named -----------------------------------------------------

TOO_LARGE: list[tuple[Callable[[Path], Path], str, str]] = [
    (bombs.two_huge_deflate_pages, "page 0 ImageLength", "30,000 pixels"),
    (bombs.huge_header, "page 0 ImageLength", "100,000 pixels"),
    (bombs.many_megapixels, "page 0", "16,000 × 16,000 = 256,000,000 pixels"),
    (bombs.many_pages, "pages", "more than 4 pages"),
]


@pytest.mark.parametrize(("make", "field", "message"), TOO_LARGE)
def test_tiff_over_the_limits_is_refused_from_its_header(
    tmp_path: Path, make: Callable[[Path], Path], field: str, message: str
) -> None:
    path = make(tmp_path)
    assert path.stat().st_size < 200_000  # small on the wire
    with pytest.raises(ScanTooLarge) as info:
        read_scan(path)
    error = info.value
    assert error.status_code == 413 and error.code == "scan_too_large"
    assert error.field == field and message in error.message
    assert error.details[0]["field"] == field and error.details[0]["file"] == path.name
    assert error.details[0]["got"] > error.details[0]["limit"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (bombs.deflate_strip_bomb, "strip 0 at byte 8 decodes to more than the 8,000,000 bytes"),
        (bombs.packbits_strip_bomb, "strip 0 at byte 8 decodes to more than the 8,000,000 bytes"),
        (bombs.giant_tiles, "declares tiles of (65536, 65536) pixels for a 16×16 image"),
    ],
)
def test_strips_that_decode_to_more_than_their_page_are_refused(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(ScanReadError) as info:
        read_scan(path)
    assert message in info.value.message
    assert info.value.field is not None and info.value.field.startswith("page 0")


def test_decoded_size_and_page_count_follow_the_limits(tmp_path: Path, small_scan: Scan) -> None:
    path = write_tiff(small_scan, tmp_path / "scan.tif")  # two 40 × 60 pages: 9,600 bytes
    assert read_scan(path, limits=ScanLimits(max_decoded_bytes=9600)).shape == (40, 60)
    with pytest.raises(ScanTooLarge) as info:
        read_scan(path, limits=ScanLimits(max_decoded_bytes=9599))
    assert info.value.field == "pages" and "9,600 bytes" in info.value.message
    with pytest.raises(ScanTooLarge, match=r"has more than 1 pages \(pages\)"):
        read_scan(path, limits=ScanLimits(max_pages=1))
    with pytest.raises(ScanTooLarge, match=r"page 0 ImageWidth is 60 pixels"):
        read_scan(path, limits=ScanLimits(max_side=59))
    with pytest.raises(ScanTooLarge, match=r"page 0 is 40 × 60 = 2,400 pixels"):
        read_scan(path, limits=ScanLimits(max_pixels=2399))


def test_sidecar_of_many_megabytes_is_refused(tmp_path: Path, small_scan: Scan) -> None:
    path = write_tiff(small_scan, tmp_path / "scan.tif", embed=False)
    side = sidecar_dict(small_scan)
    side["extra"] = {"padding": "x" * (5 * MB)}
    path.with_suffix(".json").write_text(json.dumps(side))
    with pytest.raises(ScanTooLarge) as info:
        read_scan(path)
    assert info.value.field == "sidecar" and info.value.message.startswith("scan.json")
    inside = tmp_path / "inside.tif"
    with tifffile.TiffWriter(inside) as tif:
        for i, c in enumerate(small_scan.channels):
            tif.write(
                c.counts, photometric="minisblack", description=json.dumps(side) if i == 0 else None
            )
    with pytest.raises(ScanTooLarge) as embedded:
        read_scan(inside)
    assert embedded.value.field == "page 0 ImageDescription"


def test_unsupported_compression_is_named(tmp_path: Path) -> None:
    page = Page(8, 8, [b"\x00" * 16], 8, compression=5)  # LZW: needs a plugin to decode
    path = write_tiff_bomb(tmp_path / "lzw.tif", [page], bombs.sidecar())
    with pytest.raises(ScanReadError, match=r"compression LZW is not supported") as info:
        read_scan(path)
    assert info.value.field == "page 0 Compression"


def _packbits_literal(data: bytes) -> bytes:
    return b"".join(
        bytes([len(c) - 1]) + c for c in (data[i : i + 128] for i in range(0, len(data), 128))
    )


@pytest.mark.parametrize("compression", ["zlib", "lzma", "packbits", None])
def test_compressed_scans_still_read(
    tmp_path: Path, small_scan: Scan, compression: str | None
) -> None:
    path = tmp_path / "scan.tif"
    if compression == "packbits":  # tifffile writes PackBits only with a plugin
        rows, cols = small_scan.shape
        pages = [
            Page(cols, rows, [_packbits_literal(c.counts.astype("<u2").tobytes())], rows, 32773)
            for c in small_scan.channels
        ]
        write_tiff_bomb(path, pages, None)
    else:
        with tifffile.TiffWriter(path) as tif:
            for c in small_scan.channels:
                tif.write(
                    c.counts, photometric="minisblack", compression=compression, rowsperstrip=7
                )
    path.with_suffix(".json").write_text(json.dumps(sidecar_dict(small_scan)))
    scan = read_scan(path)
    for a, b in zip(scan.channels, small_scan.channels, strict=True):
        assert np.array_equal(a.counts, b.counts)


def test_bounded_sizes_of_compressed_streams() -> None:
    data = bombs.zeros_deflated(50 * MB)
    assert deflate_size(data, 100 * MB) == 50 * MB
    assert MB < deflate_size(data, MB) <= 2 * MB + 1  # stops soon after the limit
    assert deflate_size(zlib.compress(b"abc") + b"trailing", 10) == 3
    two = lzma.compress(b"a" * 1000) + lzma.compress(b"b" * 500)
    assert lzma_size(two, 10_000) == 1500  # every stream, as lzma.decompress
    assert lzma_size(two + b"junk", 10_000) == 1500
    assert lzma_size(two, 100) <= MB + 1000
    assert packbits_size(b"\x02abc\xfe\x00\x80", 100) == 6  # literal 3, run 3, no-op
    assert packbits_size(bombs.zeros_packbits(128 * 1000), 1000) <= 1128


# -- DICOS ---------------------------------------------------------------------------------------


@pytest.fixture
def dicos(tmp_path: Path, small_scan: Scan) -> Path:
    return write_dicos(small_scan, tmp_path / "scan.dcm")


def test_dicos_header_over_the_limits(tmp_path: Path, dicos: Path) -> None:
    with pytest.raises(ScanTooLarge) as info:
        read_scan(bombs.dicos_huge_header(dicos, tmp_path))
    assert info.value.field == "Rows (0028,0010)" and "65,535 pixels" in info.value.message
    with pytest.raises(ScanTooLarge) as info:
        read_scan(bombs.dicos_rle_frames(dicos, tmp_path))
    assert info.value.field == "Rows (0028,0010) × Columns (0028,0011)"
    assert "8,000 × 8,000 = 64,000,000 pixels" in info.value.message
    with pytest.raises(ScanTooLarge) as info:
        read_scan(dicos, limits=ScanLimits(max_pages=1))
    assert info.value.field == "NumberOfFrames (0028,0008)"
    with pytest.raises(ScanTooLarge) as info:
        read_scan(dicos, limits=ScanLimits(max_decoded_bytes=9599))
    assert info.value.field == "NumberOfFrames (0028,0008)"


def test_dicos_compressed_data_that_decodes_to_more_is_refused(
    tmp_path: Path, dicos: Path, small_scan: Scan
) -> None:
    with pytest.raises(ScanReadError) as info:
        read_scan(bombs.dicos_rle_segment_bomb(dicos, tmp_path, small_scan))
    assert "frame 0: RLE segment 0 decodes to more than Rows × Columns" in info.value.message
    assert info.value.field == "PixelData (7FE0,0010)"
    with pytest.raises(ScanReadError) as info:
        read_scan(bombs.dicos_deflated(dicos, tmp_path))
    assert "Deflated Explicit VR Little Endian is not supported" in info.value.message
    assert info.value.field == "TransferSyntaxUID (0002,0010)"
    with pytest.raises(ScanTooLarge) as big:
        read_scan(bombs.dicos_big_private_sidecar(dicos, tmp_path))
    assert big.value.field == "(0071,1000)"


def test_dicos_rle_and_native_still_read(tmp_path: Path, dicos: Path, small_scan: Scan) -> None:
    import pydicom
    from pydicom.uid import RLELossless

    ds = pydicom.dcmread(dicos)
    ds.compress(RLELossless, encoding_plugin="pydicom")
    rle = tmp_path / "rle.dcm"
    ds.save_as(rle, enforce_file_format=True)
    for path in (dicos, rle):
        scan = read_scan(path)
        for a, b in zip(scan.channels, small_scan.channels, strict=True):
            assert np.array_equal(a.counts, b.counts)


def test_settings_carry_the_limits_to_the_store(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path, scan_max_pixels=1000, scan_max_pages=2)
    limits = store_for(settings).limits
    assert (limits.max_pixels, limits.max_pages) == (1000, 2)
    assert ScanLimits().max_pixels == 16_000_000 and ScanLimits().max_decoded_bytes == 512 * MB


# -- peak memory, in a child process -------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    # A safety net for the machine should a bomb go off: 3 GiB of address space.
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    from smartcustoms.scans import read_scan

    def peak_kb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    warm, files = json.loads(sys.argv[1])
    for path in warm:  # readers, codecs and pydicom's decoders loaded before the baseline
        read_scan(path)
    base = peak_kb()
    for path in files:
        try:
            read_scan(path)
            outcome = "read"
        except MemoryError:
            outcome = "MemoryError"
        except Exception as exc:
            outcome = type(exc).__name__ + ": " + str(exc)[:200]
        print(json.dumps({"file": path, "outcome": outcome, "grew_kb": peak_kb() - base}))
    """
)
PEAK_GROWTH_MB = 48  # the largest thing a refusal holds: a compressed strip and 1 MB of output


def test_bombs_are_refused_with_peak_memory_bounded(
    tmp_path: Path, small_scan: Scan, dicos: Path
) -> None:
    warm = [str(write_tiff(small_scan, tmp_path / "warm.tif")), str(dicos)]
    files = [
        bombs.two_huge_deflate_pages(tmp_path),
        bombs.huge_header(tmp_path),
        bombs.many_megapixels(tmp_path),
        bombs.deflate_strip_bomb(tmp_path),
        bombs.packbits_strip_bomb(tmp_path),
        bombs.giant_tiles(tmp_path),
        bombs.dicos_huge_header(dicos, tmp_path),
        bombs.dicos_rle_frames(dicos, tmp_path),
        bombs.dicos_rle_segment_bomb(dicos, tmp_path, small_scan),
        bombs.dicos_deflated(dicos, tmp_path),
    ]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps([warm, [str(f) for f in files]])],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(files)
    for result in results:
        name = Path(result["file"]).name
        assert result["outcome"].startswith(("ScanTooLarge", "ScanReadError")), (name, result)
        assert result["grew_kb"] < PEAK_GROWTH_MB * 1024, (name, result)


def test_sidecar_nested_too_deep_is_named(tmp_path: Path, small_scan: Scan) -> None:
    path = write_tiff(small_scan, tmp_path / "scan.tif", embed=False)
    path.with_suffix(".json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ScanReadError, match=r"sidecar is not usable JSON \(nested too deeply\)"):
        read_scan(path)
