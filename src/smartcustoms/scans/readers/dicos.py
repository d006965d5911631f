"""NEMA DICOS 2D X-ray scans (DX for processing or presentation), one frame per channel.

Metadata comes from the smartcustoms private element when present (the sidecar JSON) and is
checked against the standard attributes. A DICOS file from another producer has no such element:
then the channels are the frames in order (high, then low), the pitch comes from
ImagerPixelSpacing and each row's air level is estimated from the columns at both ends of the
image, which see only air in a container scan (recorded as ``air_level_source: "estimated"``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError

from smartcustoms.scans.errors import ScanReadError
from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.spectra import Channel
from smartcustoms.scans.sidecar import ChannelInfo, SidecarInfo, load_sidecar_text, scan_from_pages
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


def looks_like_dicom(head: bytes) -> bool:
    return len(head) >= 132 and head[128:132] == b"DICM"


def read_dicos(path: str | Path) -> Scan:
    """Read a DICOS DX file into a scan."""
    path = Path(path)
    try:
        ds = pydicom.dcmread(path)
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
        raise ScanReadError(path, "no pixel data", field="PixelData (7FE0,0010)")
    frames_n = int(ds.get("NumberOfFrames", 1) or 1)
    try:
        pixels = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for truncated or compressed data
        raise ScanReadError(
            path, f"pixel data cannot be decoded ({exc})", field="PixelData (7FE0,0010)"
        ) from None
    frames = [np.asarray(f, dtype=np.uint16) for f in (pixels if frames_n > 1 else [pixels])]
    rows, cols = frames[0].shape
    block_text = None
    try:
        block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
        if 0x00 in block:
            block_text = str(block[0x00].value)
    except KeyError:
        block_text = None
    if block_text is not None:
        info = load_sidecar_text(block_text, path)
    else:
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
    if len(info.channels) > frames_n:
        raise ScanReadError(
            path,
            f"metadata lists {len(info.channels)} channels but the file has {frames_n} frame(s)",
            field="NumberOfFrames (0028,0008)",
        )
    _ = rows, cols
    return scan_from_pages(info, frames, path, page_word="frame")


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
