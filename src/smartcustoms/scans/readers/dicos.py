"""NEMA DICOS 2D X-ray scans (DX for processing or presentation), one frame per channel.

Metadata comes from the smartcustoms private element when present (the sidecar JSON) and is
checked against the standard attributes. A DICOS file from another producer has no such element:
then the channels are the frames in order (high, then low), the pitch comes from
ImagerPixelSpacing and each row's air level is estimated from the columns at both ends of the
image, which see only air in a container scan (recorded as ``air_level_source: "estimated"``).

Before the pixel data is touched (:mod:`..limits`): the transfer syntax is one whose data can be
bounded (native, RLE Lossless, or a JPEG family codestream Pillow can open), NumberOfFrames,
Rows, Columns and the decoded size are within the limits (:class:`ScanTooLarge`), BitsAllocated
is 16, the metadata agrees with the frames, and every compressed frame declares (JPEG) or decodes
to (RLE, counted in a bounded buffer) no more than Rows × Columns. A deflated data set is
refused: pydicom would inflate it whole before anything can be checked.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.encaps import generate_frames
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian, RLELossless

from smartcustoms.scans.errors import ScanReadError
from smartcustoms.scans.limits import ScanLimits
from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.spectra import Channel
from smartcustoms.scans.readers.bounded import packbits_size
from smartcustoms.scans.sidecar import (
    ChannelInfo,
    SidecarInfo,
    check_layout,
    load_sidecar_text,
    scan_from_pages,
)
from smartcustoms.scans.writers.dicos import (
    DICOS_DX_FOR_PRESENTATION,
    DICOS_DX_FOR_PROCESSING,
    PRIVATE_CREATOR,
    PRIVATE_GROUP,
)

__all__ = ["looks_like_dicom", "read_dicos"]

_ACCEPTED = {
    DICOS_DX_FOR_PROCESSING: "DICOS DX for processing",
    DICOS_DX_FOR_PRESENTATION: "DICOS DX for presentation",
}
_AIR_COLUMNS = 8
_DEFER = 64 * 1024  # elements longer than this (the pixel data) stay on disk until checked
_PIXELS = "PixelData (7FE0,0010)"
_FRAMES = "NumberOfFrames (0028,0008)"
_TRANSFER = "TransferSyntaxUID (0002,0010)"


def looks_like_dicom(head: bytes) -> bool:
    return len(head) >= 132 and head[128:132] == b"DICM"


def _count(ds: pydicom.Dataset, path: Path, keyword: str, tag: str, default: int | None) -> int:
    value = ds.get(keyword, default)
    try:
        number = int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        number = None
    if number is None or number < 1:
        raise ScanReadError(path, f"{keyword} is {value!r}", field=f"{keyword} {tag}")
    return number


def _transfer_syntax(path: Path) -> UID | None:
    try:
        meta = pydicom.filereader.read_file_meta_info(path)
    except (InvalidDicomError, EOFError, OSError, ValueError, struct.error) as exc:
        raise ScanReadError(
            path, f"not a readable DICOS/DICOM file ({exc})", field="header"
        ) from None
    ts = meta.get("TransferSyntaxUID")
    return UID(str(ts)) if ts else None


def _pixel_length(ds: pydicom.Dataset) -> int | None:
    """The PixelData element's length as the file declares it, without reading a deferred
    value (None when undefined: encapsulated)."""
    raw: Any = ds.get_item("PixelData")
    if raw is None:
        return None
    length = getattr(raw, "length", None)
    if length is None:  # already a DataElement
        value = raw.value
        return len(value) if value is not None else None
    return None if length == 0xFFFFFFFF else int(length)


def _check_pixel_data(
    ds: pydicom.Dataset, path: Path, ts: UID | None, frames: int, rows: int, cols: int
) -> None:
    """Nothing in the pixel data may decode to more than the header declares."""
    plane = rows * cols * 2
    if ts is None or not ts.is_compressed:
        length = _pixel_length(ds)
        if length is not None and length > plane * frames + 1:  # one byte of even padding
            raise ScanReadError(
                path,
                f"holds {length:,} bytes but {frames} frame(s) of {rows} × {cols} 16-bit "
                f"pixels are {plane * frames:,}",
                field=_PIXELS,
            )
        return
    try:
        encoded = list(generate_frames(ds.PixelData, number_of_frames=frames))
    except Exception as exc:  # pydicom raises many types for broken encapsulation
        raise ScanReadError(
            path, f"encapsulated pixel data cannot be read ({exc})", field=_PIXELS
        ) from None
    if len(encoded) != frames:
        raise ScanReadError(
            path, f"holds {len(encoded)} frame(s) but NumberOfFrames is {frames}", field=_PIXELS
        )
    for n, frame in enumerate(encoded):
        if ts == RLELossless:
            _check_rle(path, frame, n, rows * cols)
        else:
            _check_codestream(path, frame, n, rows, cols, ts)


def _check_rle(path: Path, frame: bytes, n: int, segment: int) -> None:
    """An RLE frame: its header, and each segment (one byte plane) counted in a bounded
    buffer (pydicom's decoder would first decode a segment whole)."""
    if len(frame) < 64:
        raise ScanReadError(path, f"frame {n}: RLE header is truncated", field=_PIXELS)
    count, *offsets = struct.unpack("<16L", frame[:64])
    if not 1 <= count <= 15:
        raise ScanReadError(path, f"frame {n}: RLE header lists {count} segments", field=_PIXELS)
    bounds = [*offsets[:count], len(frame)]
    for k in range(count):
        start, stop = bounds[k], bounds[k + 1]
        if not 64 <= start <= stop <= len(frame):
            raise ScanReadError(
                path, f"frame {n}: RLE segment {k} offset {start} is out of order", field=_PIXELS
            )
        if packbits_size(frame[start:stop], segment) > segment:
            raise ScanReadError(
                path,
                f"frame {n}: RLE segment {k} decodes to more than Rows × Columns "
                f"({segment:,} bytes)",
                field=_PIXELS,
            )


def _check_codestream(path: Path, frame: bytes, n: int, rows: int, cols: int, ts: UID) -> None:
    """A JPEG-family frame: the size in its own header, read without decoding."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(frame)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ScanReadError(
            path,
            f"frame {n}: {ts.name} data cannot be decoded ({exc})",
            field=_PIXELS,
        ) from None
    if (height, width) != (rows, cols):
        raise ScanReadError(
            path,
            f"frame {n} is {height} × {width} but Rows × Columns is {rows} × {cols}",
            field=_PIXELS,
        )


def read_dicos(path: str | Path, limits: ScanLimits | None = None) -> Scan:
    """Read a DICOS DX file into a scan, refusing one over ``limits`` before decoding."""
    path = Path(path)
    limits = limits or ScanLimits()
    ts = _transfer_syntax(path)
    if ts == DeflatedExplicitVRLittleEndian:
        raise ScanReadError(
            path,
            f"transfer syntax {ts.name} is not supported: the data set would have to be "
            "inflated whole before it can be checked; write it uncompressed or RLE Lossless",
            field=_TRANSFER,
        )
    try:
        ds = pydicom.dcmread(path, defer_size=_DEFER)
    except (InvalidDicomError, EOFError, OSError, ValueError) as exc:
        raise ScanReadError(
            path, f"not a readable DICOS/DICOM file ({exc})", field="header"
        ) from None
    sop = str(ds.get("SOPClassUID", ""))
    if sop not in _ACCEPTED:
        name = pydicom.uid.UID(sop).name if sop else "missing"
        raise ScanReadError(
            path,
            f"SOP class {name} ({sop}) is not a DICOS 2D X-ray image",
            field="SOPClassUID (0008,0016)",
        )
    for keyword, tag, want in (
        ("BitsAllocated", "(0028,0100)", 16),
        ("PixelRepresentation", "(0028,0103)", 0),
        ("SamplesPerPixel", "(0028,0002)", 1),
    ):
        value = ds.get(keyword)
        if value != want:
            raise ScanReadError(
                path,
                f"{keyword} is {value}, expected {want} (16-bit unsigned, one sample)",
                field=f"{keyword} {tag}",
            )
    if "PixelData" not in ds:
        raise ScanReadError(path, "no pixel data", field=_PIXELS)
    frames_n = _count(ds, path, "NumberOfFrames", "(0028,0008)", 1)
    limits.check_pages(path, frames_n, field=_FRAMES, word="frame")
    rows = _count(ds, path, "Rows", "(0028,0010)", None)
    cols = _count(ds, path, "Columns", "(0028,0011)", None)
    limits.check_plane(
        path,
        rows,
        cols,
        fields=("Rows (0028,0010)", "Columns (0028,0011)"),
        where="",
        plane_field="Rows (0028,0010) × Columns (0028,0011)",
    )
    limits.check_decoded(path, rows * cols * frames_n * 2, field=_FRAMES)
    block_text = None
    block_field = "sidecar"
    try:
        block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
        if 0x00 in block:
            where = block.get_tag(0x00)
            block_field = f"({where.group:04X},{where.element:04X})"
            block_text = str(block[0x00].value)
    except KeyError:
        block_text = None
    info: SidecarInfo | None = None
    if block_text is not None:
        limits.check_sidecar(path, len(block_text), field=block_field)
        info = load_sidecar_text(block_text, path)
        _check_channels(path, info, frames_n)
        check_layout(info, rows=rows, pages=frames_n, file=path, page_word="frame")
    elif frames_n > 2:
        raise ScanReadError(
            path, f"{frames_n} frames; expected one or two energy channels", field=_FRAMES
        )
    _check_pixel_data(ds, path, ts, frames_n, rows, cols)
    try:
        pixels = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for truncated or compressed data
        raise ScanReadError(path, f"pixel data cannot be decoded ({exc})", field=_PIXELS) from None
    frames = [np.asarray(f, dtype=np.uint16) for f in (pixels if frames_n > 1 else [pixels])]
    if info is None:
        info = _from_standard(ds, frames, path)
    spacing = ds.get("ImagerPixelSpacing") or ds.get("PixelSpacing")
    if spacing is not None and len(spacing) == 2:
        for axis, value, pitch in (
            ("row", float(spacing[0]), info.pitch_y_mm),
            ("column", float(spacing[1]), info.pitch_x_mm),
        ):
            if abs(value - pitch) > 0.01 * pitch:
                raise ScanReadError(
                    path,
                    f"ImagerPixelSpacing {axis} spacing {value} mm disagrees with "
                    f"the metadata's {pitch} mm",
                    field="ImagerPixelSpacing (0018,1164)",
                )
    ooi = str(ds.get("PatientID", "") or "")
    if ooi and info.container_number and ooi.replace(" ", "") != info.container_number:
        raise ScanReadError(
            path,
            f"PatientID (OOI ID) {ooi!r} disagrees with container number {info.container_number!r}",
            field="PatientID (0010,0020)",
        )
    _check_channels(path, info, frames_n)
    return scan_from_pages(info, frames, path, page_word="frame")


def _check_channels(path: Path, info: SidecarInfo, frames: int) -> None:
    if len(info.channels) > frames:
        raise ScanReadError(
            path,
            f"metadata lists {len(info.channels)} channels but the file has {frames} frame(s)",
            field=_FRAMES,
        )


def _from_standard(ds: pydicom.Dataset, frames: list[np.ndarray], path: Path) -> SidecarInfo:
    spacing = ds.get("ImagerPixelSpacing") or ds.get("PixelSpacing")
    if spacing is None or len(spacing) != 2:
        raise ScanReadError(
            path,
            "no pixel spacing: neither ImagerPixelSpacing nor PixelSpacing",
            field="ImagerPixelSpacing (0018,1164)",
        )
    if len(frames) > 2:
        raise ScanReadError(
            path,
            f"{len(frames)} frames; expected one or two energy channels",
            field="NumberOfFrames (0028,0008)",
        )
    channels = []
    for i, (frame, name) in enumerate(zip(frames, (Channel.HIGH, Channel.LOW), strict=False)):
        edges = np.concatenate([frame[:, :_AIR_COLUMNS], frame[:, -_AIR_COLUMNS:]], axis=1)
        air = [float(v) for v in np.median(edges, axis=1)]
        channels.append(ChannelInfo(name, 9.0 if name is Channel.HIGH else 6.0, i, air, 0.0))
    number = str(ds.get("PatientID", "") or "") or None
    scanner = str(ds.get("DeviceSerialNumber", "") or ds.get("StationName", "") or "unknown")
    from stdnum import iso6346

    return SidecarInfo(
        scanner_id=scanner,
        pitch_x_mm=float(spacing[1]),
        pitch_y_mm=float(spacing[0]),
        channels=tuple(channels),
        container_number=iso6346.compact(number) if number and iso6346.is_valid(number) else None,
        declaration_ref=str(ds.get("AccessionNumber", "") or "") or None,
        extra={"air_level_source": "estimated"},
    )
