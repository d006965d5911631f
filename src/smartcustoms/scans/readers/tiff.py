"""16-bit TIFF scans: one page per energy channel, metadata in the JSON sidecar.

Checks, each failing with a :class:`ScanReadError` that names the page or tag: every page is
a single-sample 16-bit unsigned plane; all pages have the same size; the sidecar (next to the
file, or in page 0's ImageDescription) is valid and its channels point at existing pages; the
resolution tags, when present in centimetres, agree with the sidecar's pixel pitch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

from smartcustoms.scans.errors import ScanReadError
from smartcustoms.scans.model import Scan
from smartcustoms.scans.sidecar import (
    SIDECAR_FORMAT,
    find_sidecar,
    load_sidecar_text,
    scan_from_pages,
)

__all__ = ["looks_like_tiff", "read_tiff"]

_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF, both byte orders


def looks_like_tiff(head: bytes) -> bool:
    return head[:4] in _MAGIC


def _embedded(tif: tifffile.TiffFile) -> str | None:
    first = tif.pages[0]
    if not isinstance(first, tifffile.TiffPage):
        return None
    description = first.tags.get("ImageDescription")
    if description is None:
        return None
    text = description.value
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None
    return text if isinstance(data, dict) and data.get("format") == SIDECAR_FORMAT else None


def read_tiff(path: str | Path) -> Scan:
    """Read a 16-bit TIFF scan and its sidecar."""
    path = Path(path)
    try:
        tif = tifffile.TiffFile(path)
    except (tifffile.TiffFileError, ValueError, EOFError, OSError) as exc:
        raise ScanReadError(path, f"not a readable TIFF file ({exc})", field="header") from None
    with tif:
        if len(tif.pages) == 0:
            raise ScanReadError(path, "TIFF has no pages", field="pages")
        pages: list[np.ndarray[tuple[int, int], np.dtype[np.uint16]]] = []
        for i, page in enumerate(tif.pages):
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
            if pages and page.shape != pages[0].shape:
                raise ScanReadError(
                    path,
                    f"is {page.shape[0]}×{page.shape[1]} but page 0 is "
                    f"{pages[0].shape[0]}×{pages[0].shape[1]}",
                    field=where,
                )
            try:
                data = page.asarray()
            except Exception as exc:  # tifffile raises many types for corrupt strips
                raise ScanReadError(
                    path, f"pixel data cannot be decoded ({exc})", field=where
                ) from None
            pages.append(np.asarray(data, dtype=np.uint16))
        side = find_sidecar(path)
        if side is not None:
            info = load_sidecar_text(side.read_text(encoding="utf-8"), side)
        else:
            text = _embedded(tif)
            if text is None:
                raise ScanReadError(
                    path,
                    f"no sidecar: expected {path.with_suffix('.json').name} next to it "
                    "or the sidecar JSON in page 0's ImageDescription",
                    field="sidecar",
                )
            info = load_sidecar_text(text, path)
        page0 = tif.pages[0]
        assert isinstance(page0, tifffile.TiffPage)
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
    if len(pages) < len(info.channels):
        raise ScanReadError(
            path,
            f"sidecar lists {len(info.channels)} channels but the TIFF has {len(pages)} page(s)",
            field="channels",
        )
    return scan_from_pages(info, pages, path)
