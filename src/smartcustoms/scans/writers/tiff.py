"""16-bit multi-page TIFF: one page per energy channel, plus the JSON sidecar."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

from smartcustoms.scans.model import Scan
from smartcustoms.scans.sidecar import sidecar_dict

__all__ = ["write_tiff"]


def write_tiff(scan: Scan, path: str | Path, *, sidecar: bool = True, embed: bool = True) -> Path:
    """Write ``scan`` to ``path`` (pages in channel order, high first) and ``<stem>.json``.

    With ``embed`` the sidecar JSON also goes into the first page's ImageDescription, so the
    TIFF alone is complete; resolution tags carry the pixel pitch (pixels per centimetre).
    Both files are written to temporary names and renamed, so nothing is left half-written.
    """
    path = Path(path)
    meta = sidecar_dict(scan)
    text = json.dumps(meta, indent=2, sort_keys=True)
    tmp = path.with_name(path.name + ".part")
    with tifffile.TiffWriter(tmp) as tif:
        for i, channel in enumerate(scan.channels):
            tif.write(
                np.ascontiguousarray(channel.counts, dtype=np.uint16),
                photometric="minisblack",
                description=text if (embed and i == 0) else None,
                metadata=None,
                resolution=(10.0 / scan.pitch_x_mm, 10.0 / scan.pitch_y_mm),
                resolutionunit="CENTIMETER",
                software="smartcustoms",
            )
    if sidecar:
        side = path.with_suffix(".json")
        side_tmp = side.with_name(side.name + ".part")
        side_tmp.write_text(text + "\n", encoding="utf-8")
        side_tmp.replace(side)
    tmp.replace(path)
    return path
