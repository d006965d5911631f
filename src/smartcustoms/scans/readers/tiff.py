"""16-bit TIFF scans: one page per energy channel, metadata in the JSON sidecar.

Checks, each failing with a :class:`ScanReadError` that names the page or tag: every page is
a single-sample 16-bit unsigned plane; all pages have the same size; the sidecar (next to the
file, or in page 0's ImageDescription) is valid and its channels point at existing pages; the
resolution tags, when present in centimetres, agree with the sidecar's pixel pitch.

Everything is checked from the tags before a pixel is decoded (:mod:`..limits`): the number of
pages, each page's ImageWidth and ImageLength, its pixel count and the decoded size of all pages
(:class:`ScanTooLarge`); the compression is one tifffile decodes without plugins (none,
Deflate, LZMA, PackBits); every strip or tile is no longer than its compressed form can be and
decodes, in a bounded buffer, to no more than the strip or tile its page declares.
"""

from __future__ import annotations

import json
import lzma
import math
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import tifffile

from smartcustoms.scans.errors import ScanReadError
from smartcustoms.scans.limits import ScanLimits
from smartcustoms.scans.model import Scan
from smartcustoms.scans.readers.bounded import deflate_size, lzma_size, packbits_size
from smartcustoms.scans.sidecar import (
    SIDECAR_FORMAT,
    SidecarInfo,
    check_layout,
    find_sidecar,
    load_sidecar_text,
    scan_from_pages,
)

__all__ = ["looks_like_tiff", "read_tiff"]

_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF, both byte orders
_C = tifffile.COMPRESSION
#: Compressions tifffile decodes without plugins, with the size of what a stream decodes to.
_SIZERS: dict[int, Callable[[bytes, int], int]] = {
    _C.ADOBE_DEFLATE: deflate_size,
    _C.DEFLATE: deflate_size,
    _C.LZMA: lzma_size,
    _C.PACKBITS: packbits_size,
}
_SUPPORTED = "none, Deflate, LZMA or PackBits"
_ITEMSIZE = 2  # 16-bit pages only (checked first)


def looks_like_tiff(head: bytes) -> bool:
    return head[:4] in _MAGIC


def _embedded(tif: tifffile.TiffFile, path: Path, limits: ScanLimits) -> str | None:
    first = tif.pages[0]
    if not isinstance(first, tifffile.TiffPage):
        return None
    description = first.tags.get("ImageDescription")
    if description is None:
        return None
    text = description.value
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return None
    limits.check_sidecar(path, len(text), field="page 0 ImageDescription")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, nested too deep, a number too long
        return None
    return text if isinstance(data, dict) and data.get("format") == SIDECAR_FORMAT else None


def _pages(path: Path, tif: tifffile.TiffFile, limits: ScanLimits) -> list[tifffile.TiffPage]:
    """The pages, counted no further than one past the limit (a chain of a million IFDs is
    not walked), each checked from its tags alone."""
    pages: list[tifffile.TiffPage] = []
    for i in range(limits.max_pages + 1):
        try:
            page = tif.pages[i]
        except IndexError:
            break
        except Exception as exc:  # tifffile raises many types for a corrupt IFD chain
            raise ScanReadError(path, f"IFD cannot be read ({exc})", field=f"page {i}") from None
        if len(pages) == limits.max_pages:
            limits.check_pages(path, limits.max_pages + 1, field="pages", word="page")
        where = f"page {i}"
        if not isinstance(page, tifffile.TiffPage):
            raise ScanReadError(path, "is not an image page", field=where)
        if page.samplesperpixel != 1:
            raise ScanReadError(
                path,
                f"has {page.samplesperpixel} samples per pixel; write one channel per page",
                field=f"{where} SamplesPerPixel",
            )
        if page.dtype != np.uint16:
            raise ScanReadError(
                path,
                f"holds {page.dtype} pixels; scans must be 16-bit unsigned",
                field=f"{where} BitsPerSample",
            )
        if page.ndim != 2:
            raise ScanReadError(
                path, f"has shape {page.shape}; expected rows × columns", field=where
            )
        limits.check_plane(
            path,
            int(page.imagelength),
            int(page.imagewidth),
            fields=("ImageLength", "ImageWidth"),
            where=where,
        )
        if pages and page.shape != pages[0].shape:
            raise ScanReadError(
                path,
                f"is {page.shape[0]}×{page.shape[1]} but page 0 is "
                f"{pages[0].shape[0]}×{pages[0].shape[1]}",
                field=where,
            )
        pages.append(page)
    if not pages:
        raise ScanReadError(path, "TIFF has no pages", field="pages")
    decoded = sum(math.prod(p.shape) for p in pages) * _ITEMSIZE
    limits.check_decoded(path, decoded, field="pages")
    return pages


def _check_segments(path: Path, fh: BinaryIO, page: tifffile.TiffPage, i: int) -> None:
    """Each strip or tile, before tifffile decodes it: a compression it can decode, no longer
    than its compressed form can be, and decoding to no more than the page declares."""
    where = f"page {i}"
    compression = int(page.compression)
    segment = math.prod(page.chunks) * _ITEMSIZE  # one strip or tile, decoded
    if segment > math.prod(page.shape) * _ITEMSIZE * 2 + 65536:
        # a tile far larger than its page: tifffile would allocate the whole tile
        raise ScanReadError(
            path,
            f"declares {'tiles' if page.is_tiled else 'strips'} of {page.chunks} pixels "
            f"for a {page.shape[0]}×{page.shape[1]} image",
            field=f"{where} {'TileWidth' if page.is_tiled else 'RowsPerStrip'}",
        )
    if compression == _C.NONE:
        sizer = None
        most = segment  # stored as is
    elif compression in _SIZERS:
        sizer = _SIZERS[compression]
        most = segment + segment // 64 + 1024  # the worst any of these codecs expands
    else:
        name = getattr(page.compression, "name", str(compression))
        raise ScanReadError(
            path,
            f"compression {name} is not supported; write the pages {_SUPPORTED}",
            field=f"{where} Compression",
        )
    kind = "tile" if page.is_tiled else "strip"
    for n, (offset, count) in enumerate(zip(page.dataoffsets, page.databytecounts, strict=False)):
        if count > most:
            raise ScanReadError(
                path,
                f"{kind} {n} at byte {offset} holds {count:,} bytes but a {kind} of this page "
                f"is at most {most:,}",
                field=f"{where} {'TileByteCounts' if page.is_tiled else 'StripByteCounts'}",
                details=[{"offset": int(offset), "strip": n}],
            )
        if sizer is None or count == 0:
            continue
        fh.seek(offset)
        data = fh.read(count)
        try:
            size = sizer(data, segment)
        except (zlib.error, lzma.LZMAError) as exc:
            raise ScanReadError(
                path,
                f"{kind} {n} at byte {offset} cannot be decoded ({exc})",
                field=where,
                details=[{"offset": int(offset), "strip": n}],
            ) from None
        if size > segment:
            raise ScanReadError(
                path,
                f"{kind} {n} at byte {offset} decodes to more than the {segment:,} bytes its "
                f"page declares",
                field=where,
                details=[{"offset": int(offset), "strip": n}],
            )


def _sidecar(path: Path, tif: tifffile.TiffFile, limits: ScanLimits) -> SidecarInfo:
    side = find_sidecar(path)
    if side is not None:
        limits.check_sidecar(side, side.stat().st_size)
        return load_sidecar_text(side.read_text(encoding="utf-8"), side)
    text = _embedded(tif, path, limits)
    if text is None:
        raise ScanReadError(
            path,
            f"no sidecar: expected {path.with_suffix('.json').name} next to it "
            "or the sidecar JSON in page 0's ImageDescription",
            field="sidecar",
        )
    return load_sidecar_text(text, path)


def _check_resolution(path: Path, page0: tifffile.TiffPage, info: SidecarInfo) -> None:
    unit = page0.tags.get("ResolutionUnit")
    if unit is not None and unit.value == tifffile.RESUNIT.CENTIMETER:
        xres, yres = page0.get_resolution()
        for axis, res, pitch in (("X", xres, info.pitch_x_mm), ("Y", yres, info.pitch_y_mm)):
            if res > 0 and abs(10.0 / res - pitch) > 0.01 * pitch:
                raise ScanReadError(
                    path,
                    f"{axis}Resolution says {10.0 / res:.4g} mm per pixel "
                    f"but the sidecar says {pitch:.4g}",
                    field=f"{axis}Resolution",
                )


def read_tiff(path: str | Path, limits: ScanLimits | None = None) -> Scan:
    """Read a 16-bit TIFF scan and its sidecar, refusing one over ``limits`` before decoding."""
    path = Path(path)
    limits = limits or ScanLimits()
    try:
        tif = tifffile.TiffFile(path)
    except (tifffile.TiffFileError, ValueError, EOFError, OSError) as exc:
        raise ScanReadError(path, f"not a readable TIFF file ({exc})", field="header") from None
    with tif:
        pages = _pages(path, tif, limits)
        info = _sidecar(path, tif, limits)
        _check_resolution(path, pages[0], info)
        if len(pages) < len(info.channels):
            raise ScanReadError(
                path,
                f"sidecar lists {len(info.channels)} channels but the TIFF has "
                f"{len(pages)} page(s)",
                field="channels",
            )
        check_layout(info, rows=pages[0].shape[0], pages=len(pages), file=path)
        with path.open("rb") as fh:
            for i, page in enumerate(pages):
                _check_segments(path, fh, page, i)
        planes: list[np.ndarray[tuple[int, int], np.dtype[np.uint16]]] = []
        for i, page in enumerate(pages):
            try:
                data = page.asarray(maxworkers=1)
            except Exception as exc:  # tifffile raises many types for corrupt strips
                raise ScanReadError(
                    path, f"pixel data cannot be decoded ({exc})", field=f"page {i}"
                ) from None
            planes.append(np.asarray(data, dtype=np.uint16))
    return scan_from_pages(info, planes, path)
