"""Decompression and memory bombs, written by hand: TIFF headers with struct, DICOS files with
pydicom, compressed streams built a megabyte at a time (the tests never hold what they claim)."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.encaps import encapsulate
from pydicom.uid import DeflatedExplicitVRLittleEndian, RLELossless

from smartcustoms.scans.model import Scan
from smartcustoms.scans.writers.dicos import PRIVATE_CREATOR, PRIVATE_GROUP

MB = 1 << 20


def sidecar(rows: int | None = None) -> dict[str, object]:
    """A valid single-channel sidecar (per-row levels when ``rows`` is given)."""
    air: object = [60000.0] * rows if rows else 60000.0
    return {
        "format": "smartcustoms.scan-sidecar/1",
        "scanner_id": "BOMB-01",
        "pixel_pitch_mm": {"x": 5.0, "y": 5.0},
        "channels": [{"name": "high", "nominal_mev": 9.0, "page": 0, "air_level": air}],
    }


def zeros_deflated(size: int) -> bytes:
    """``size`` zero bytes as one zlib stream, compressed a megabyte at a time."""
    packer = zlib.compressobj(9)
    block = bytes(MB)
    out = [packer.compress(block) for _ in range(size // MB)]
    out.append(packer.compress(bytes(size % MB)))
    out.append(packer.flush())
    return b"".join(out)


def zeros_packbits(size: int) -> bytes:
    """``size`` zero bytes (a multiple of 128) as PackBits / DICOM RLE: 128-byte runs."""
    return b"\x81\x00" * (size // 128)


@dataclass
class Page:
    width: int
    height: int
    strips: list[bytes]  # the same bytes object may be listed many times: it is stored once
    rows_per_strip: int
    compression: int = 1
    bits: int = 16
    description: str | None = None
    tiles: tuple[int, int] | None = None  # (tile width, tile length): strips are then tiles
    extra: list[tuple[int, int, int]] = field(default_factory=list)  # (tag, type, value)


def tiff_bytes(pages: list[Page]) -> bytes:
    """A classic little-endian TIFF with these pages, every offset computed by hand."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    stored: dict[int, int] = {}
    layouts = []
    for page in pages:
        offsets = []
        for blob in page.strips:
            if id(blob) not in stored:
                stored[id(blob)] = len(out)
                out += blob
                out += b"\x00" * (len(out) % 2)
            offsets.append(stored[id(blob)])
        counts = [len(b) for b in page.strips]
        desc_at = None
        if page.description is not None:
            desc_at = len(out)
            out += page.description.encode() + b"\x00"
            out += b"\x00" * (len(out) % 2)
        arrays = {}
        for name, values in (("offsets", offsets), ("counts", counts)):
            if len(values) > 1:
                arrays[name] = len(out)
                out += struct.pack(f"<{len(values)}L", *values)
        layouts.append((offsets, counts, desc_at, arrays))
    previous = 4  # where the offset of the next IFD goes
    for page, (offsets, counts, desc_at, arrays) in zip(pages, layouts, strict=True):
        n = len(offsets)
        entries: list[tuple[int, int, int, int]] = [
            (256, 4, 1, page.width),
            (257, 4, 1, page.height),
            (258, 3, 1, page.bits),
            (259, 3, 1, page.compression),
            (262, 3, 1, 1),
            (277, 3, 1, 1),
        ]
        if desc_at is not None:
            assert page.description is not None
            entries.append((270, 2, len(page.description.encode()) + 1, desc_at))
        if page.tiles is None:
            entries += [
                (273, 4, n, arrays.get("offsets", offsets[0])),
                (278, 4, 1, page.rows_per_strip),
                (279, 4, n, arrays.get("counts", counts[0])),
            ]
        else:
            entries += [
                (322, 4, 1, page.tiles[0]),
                (323, 4, 1, page.tiles[1]),
                (324, 4, n, arrays.get("offsets", offsets[0])),
                (325, 4, n, arrays.get("counts", counts[0])),
            ]
        entries += [(tag, kind, 1, value) for tag, kind, value in page.extra]
        entries.sort()
        at = len(out)
        struct.pack_into("<L", out, previous, at)
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            packed = (
                struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<L", value)
            )
            out += struct.pack("<HHL", tag, kind, count) + packed
        previous = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)


def write_tiff_bomb(path: Path, pages: list[Page], side: dict[str, object] | None) -> Path:
    path.write_bytes(tiff_bytes(pages))
    if side is not None:
        path.with_suffix(".json").write_text(json.dumps(side))
    return path


def strips_of(blob: bytes, height: int, rows_per_strip: int) -> list[bytes]:
    return [blob] * (-(-height // rows_per_strip))


# -- the bombs of the issue, and their relatives -------------------------------------------------


def two_huge_deflate_pages(folder: Path) -> Path:
    """3.5 MB in the issue: two 30,000 × 30,000 Deflate pages (1.8 GB each decoded). Here every
    strip points at the same 15 KB stream."""
    rows = 256
    strip = zeros_deflated(rows * 30_000 * 2)
    pages = [Page(30_000, 30_000, strips_of(strip, 30_000, rows), rows, 8) for _ in range(2)]
    return write_tiff_bomb(folder / "deflate-30000.tif", pages, sidecar())


def huge_header(folder: Path) -> Path:
    """A header claiming 100,000 × 100,000 (18.6 GiB) over a few bytes of pixels."""
    page = Page(100_000, 100_000, [b"\x00" * 64], 100_000)
    return write_tiff_bomb(folder / "header-100000.tif", [page], sidecar())


def many_megapixels(folder: Path) -> Path:
    """16,000 × 16,000: within the side limit, 256 M pixels over the pixel limit."""
    rows = 64
    strip = zeros_deflated(rows * 16_000 * 2)
    page = Page(16_000, 16_000, strips_of(strip, 16_000, rows), rows, 8)
    return write_tiff_bomb(folder / "pixels-16000.tif", [page], sidecar())


def many_pages(folder: Path) -> Path:
    """Eight small pages: more than any scan has channels."""
    strip = b"\x00" * (8 * 8 * 2)
    pages = [Page(8, 8, [strip], 8) for _ in range(8)]
    return write_tiff_bomb(folder / "pages.tif", pages, sidecar())


def deflate_strip_bomb(folder: Path) -> Path:
    """A 2,000 × 2,000 page (8 MB) whose one Deflate strip inflates to 300 MB: the header is
    within every limit, the stream is not."""
    blob = zeros_deflated(300 * MB)
    page = Page(2000, 2000, [blob], 2000, 8)
    return write_tiff_bomb(folder / "strip-deflate.tif", [page], sidecar(2000))


def packbits_strip_bomb(folder: Path) -> Path:
    """The same with PackBits (tifffile's own decoder holds 8 bytes per decoded byte)."""
    blob = zeros_packbits(300 * MB)
    page = Page(2000, 2000, [blob], 2000, 32773)
    return write_tiff_bomb(folder / "strip-packbits.tif", [page], sidecar(2000))


def giant_tiles(folder: Path) -> Path:
    """A 16 × 16 image in 65,536 × 65,536 tiles (8 GiB each, were a tile decoded whole)."""
    page = Page(16, 16, [b"\x00" * 64], 16, tiles=(65_536, 65_536))
    return write_tiff_bomb(folder / "tiles.tif", [page], sidecar(16))


# -- DICOS ---------------------------------------------------------------------------------------


def _dicos_like(source: Path, rows: int, cols: int, frames: int) -> pydicom.Dataset:
    ds = pydicom.dcmread(source)
    for elem in list(ds.group_dataset(PRIVATE_GROUP)):  # no per-row levels to disagree with
        del ds[elem.tag]
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
    return ds


def dicos_huge_header(source: Path, folder: Path) -> Path:
    """Rows = Columns = 65,535 in two frames (16 GiB) over no pixel data to speak of."""
    path = folder / "header-65535.dcm"
    ds = _dicos_like(source, 65_535, 65_535, 2)
    ds.PixelData = b"\x00" * 64
    ds.save_as(path, enforce_file_format=True)
    return path


def dicos_rle_frames(source: Path, folder: Path) -> Path:
    """Two RLE frames of 8,000 × 8,000 (256 MB decoded) in 4 MB."""
    path = folder / "rle-8000.dcm"
    ds = _dicos_like(source, 8000, 8000, 2)
    segment = zeros_packbits(8000 * 8000)
    frame = struct.pack("<16L", 2, 64, 64 + len(segment), *([0] * 13)) + segment * 2
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.PixelData = encapsulate([frame, frame])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def dicos_rle_segment_bomb(source: Path, folder: Path, scan: Scan) -> Path:
    """The scan's own 40 × 60 frames, RLE-encoded, but the first segment of each frame decodes
    to 200 MB."""
    path = folder / "rle-segment.dcm"
    ds = pydicom.dcmread(source)
    rows, cols = scan.shape
    bomb = zeros_packbits(200 * MB)
    whole, rest = divmod(rows * cols, 128)
    honest = zeros_packbits(whole * 128) + (bytes([257 - rest, 0]) if rest else b"")
    frame = struct.pack("<16L", 2, 64, 64 + len(bomb), *([0] * 13)) + bomb + honest
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.PixelData = encapsulate([frame, frame])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def dicos_deflated(source: Path, folder: Path) -> Path:
    """A deflated data set: pydicom would inflate it whole on reading."""
    path = folder / "deflated.dcm"
    ds = pydicom.dcmread(source)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def dicos_big_private_sidecar(source: Path, folder: Path) -> Path:
    """A private sidecar element of 5 MB."""
    path = folder / "big-sidecar.dcm"
    ds = pydicom.dcmread(source)
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
    block[0x00].value = json.dumps({"padding": "x" * (5 * MB)})
    ds.save_as(path, enforce_file_format=True)
    return path
