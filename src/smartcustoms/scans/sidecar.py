"""The JSON sidecar: metadata a 16-bit TIFF cannot carry.

A scan written as ``scan.tif`` has its sidecar next to it as ``scan.json`` (``scan.tif.json`` is
also accepted); the same JSON may instead sit in the first page's ImageDescription tag. DICOS
files carry it in a private element (see :mod:`.readers.dicos`). Version 1::

    {
      "format": "smartcustoms.scan-sidecar/1",        required
      "scanner_id": "KE-MSA-01",                       required
      "pixel_pitch_mm": {"x": 5.5, "y": 6.0},          required; object plane, x along the scan
      "channels": [                                    required; one or two
        {"name": "high", "nominal_mev": 9.0, "page": 0,
         "air_level": 56000.0, "dark_level": 300.0},  levels: a number or one per row
        {"name": "low", "nominal_mev": 6.0, "page": 1, "air_level": [...], "dark_level": [...]}
      ],
      "beam": {"source_row": 453.3, "source_distance_mm": 6000.0,       optional
               "projection": "fan"},                   optional; "fan" (default) or "parallel"
      "container_number": "MSCU1234566",               optional; ISO 6346 with check digit
      "container_type": "45G1",                        optional; ISO 6346 size-type code
      "declaration_ref": "2025MSA123456",              optional
      "acquired_at": "2025-01-06T06:00:00+00:00",      optional; ISO 8601 with a time zone
      "calibration": {"source": ..., "high": [a, b, c], "low": [a, b, c]},  optional
      "extra": {...}                                   optional; kept as is
    }

``beam``: ``source_row`` is the (fractional) image row on the beam's axis and
``source_distance_mm`` the distance from the source to the plane the pixel pitch is given in,
taken to be the container's centre plane. ``projection`` is ``"fan"`` unless the image was
rectified to parallel rays (``"parallel"``); with a fan beam the analyses expect the roof and
floor edges of the near and far walls at different heights and weigh each row's rays by cos φ.
Sidecars written before ``projection`` existed read as ``"fan"``.

``page`` is the TIFF page (or DICOS frame) holding the channel. Levels are in the image's own
counts: α = −ln((I − dark)/(air − dark)).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import NDArray
from stdnum import iso6346

from smartcustoms.scans.errors import ScanReadError
from smartcustoms.scans.model import BeamGeometry, EnergyChannel, Scan, ScanMetadata
from smartcustoms.scans.physics.calibration import Calibration
from smartcustoms.scans.physics.spectra import Channel

__all__ = [
    "SIDECAR_FORMAT",
    "ChannelInfo",
    "SidecarInfo",
    "check_layout",
    "find_sidecar",
    "load_sidecar_text",
    "parse_sidecar",
    "scan_from_pages",
    "sidecar_dict",
]

SIDECAR_FORMAT = "smartcustoms.scan-sidecar/1"
_SIZE_TYPE = re.compile(r"^[0-9A-Z]{2}[A-Z][0-9A-Z]$")


@dataclass(frozen=True)
class ChannelInfo:
    name: Channel
    nominal_mev: float
    page: int
    air: float | list[float]
    dark: float | list[float]


@dataclass(frozen=True)
class SidecarInfo:
    """A validated sidecar."""

    scanner_id: str
    pitch_x_mm: float
    pitch_y_mm: float
    channels: tuple[ChannelInfo, ...]
    beam: BeamGeometry = field(default_factory=BeamGeometry)
    container_number: str | None = None
    container_type: str | None = None
    declaration_ref: str | None = None
    acquired_at: datetime | None = None
    calibration: Calibration | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def find_sidecar(image: Path) -> Path | None:
    """``scan.json`` or ``scan.tif.json`` next to ``scan.tif``, whichever exists."""
    for candidate in (image.with_suffix(".json"), image.with_name(image.name + ".json")):
        if candidate.is_file():
            return candidate
    return None


def _number(value: Any) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and bool(np.isfinite(value))
    )


def _level(value: Any, file: Path | None, where: str) -> float | list[float]:
    if _number(value):
        return float(value)
    if isinstance(value, list) and value and all(_number(v) for v in value):
        return [float(v) for v in value]
    raise ScanReadError(file, "must be a number or a list of numbers, one per row", field=where)


def parse_sidecar(data: Any, file: Path | None = None) -> SidecarInfo:
    """Validate a sidecar; every problem names its field."""
    if not isinstance(data, Mapping):
        raise ScanReadError(file, "sidecar must be a JSON object", field="sidecar")
    fmt = data.get("format")
    if fmt != SIDECAR_FORMAT:
        raise ScanReadError(
            file, f"unsupported sidecar format {fmt!r}, expected {SIDECAR_FORMAT!r}", field="format"
        )
    scanner = data.get("scanner_id")
    if not isinstance(scanner, str) or not scanner.strip():
        raise ScanReadError(file, "missing scanner ID", field="scanner_id")
    pitch = data.get("pixel_pitch_mm")
    if not isinstance(pitch, Mapping):
        raise ScanReadError(file, "missing pixel pitch", field="pixel_pitch_mm")
    for axis in ("x", "y"):
        v = pitch.get(axis)
        if not _number(v) or v <= 0:
            raise ScanReadError(
                file, "must be a positive number of millimetres", field=f"pixel_pitch_mm.{axis}"
            )
    raw_channels = data.get("channels")
    if not isinstance(raw_channels, list) or not 1 <= len(raw_channels) <= 2:
        raise ScanReadError(file, "must list one or two energy channels", field="channels")
    channels = []
    for i, ch in enumerate(raw_channels):
        where = f"channels[{i}]"
        if not isinstance(ch, Mapping):
            raise ScanReadError(file, "must be an object", field=where)
        try:
            name = Channel(str(ch.get("name")))
        except ValueError:
            raise ScanReadError(
                file, f"name must be 'high' or 'low', not {ch.get('name')!r}", field=f"{where}.name"
            ) from None
        mev = ch.get("nominal_mev")
        if not _number(mev) or mev <= 0:
            raise ScanReadError(
                file, "must be a positive energy in MeV", field=f"{where}.nominal_mev"
            )
        page = ch.get("page")
        if not isinstance(page, int) or isinstance(page, bool) or page < 0:
            raise ScanReadError(file, "must be a page (frame) number from 0", field=f"{where}.page")
        if "air_level" not in ch:
            raise ScanReadError(file, "missing open-beam (air) level", field=f"{where}.air_level")
        air = _level(ch["air_level"], file, f"{where}.air_level")
        dark = _level(ch.get("dark_level", 0.0), file, f"{where}.dark_level")
        channels.append(ChannelInfo(name, float(mev), page, air, dark))
    if len({c.name for c in channels}) != len(channels):
        raise ScanReadError(file, "two channels share a name", field="channels")
    if len({c.page for c in channels}) != len(channels):
        raise ScanReadError(file, "two channels share a page", field="channels")
    if len(channels) == 2 and {c.name for c in channels} != {Channel.HIGH, Channel.LOW}:
        raise ScanReadError(
            file, "a dual-energy scan needs a 'high' and a 'low' channel", field="channels"
        )
    beam = BeamGeometry()
    if data.get("beam") is not None:
        b = data["beam"]
        if not isinstance(b, Mapping) or not _number(b.get("source_row")):
            raise ScanReadError(file, "needs source_row", field="beam.source_row")
        if not _number(b.get("source_distance_mm")) or b["source_distance_mm"] <= 0:
            raise ScanReadError(
                file, "must be a positive distance", field="beam.source_distance_mm"
            )
        projection = b.get("projection", "fan")
        if projection not in ("fan", "parallel"):
            raise ScanReadError(file, "must be 'fan' or 'parallel'", field="beam.projection")
        beam = BeamGeometry(float(b["source_row"]), float(b["source_distance_mm"]), str(projection))
    number = data.get("container_number")
    if number is not None:
        if not isinstance(number, str) or not iso6346.is_valid(number):
            raise ScanReadError(
                file,
                f"{number!r} is not a valid ISO 6346 container number",
                field="container_number",
            )
        number = iso6346.compact(number)
    ctype = data.get("container_type")
    if ctype is not None and (not isinstance(ctype, str) or not _SIZE_TYPE.match(ctype.upper())):
        raise ScanReadError(
            file,
            f"{ctype!r} is not an ISO 6346 size-type code such as 45G1",
            field="container_type",
        )
    ref = data.get("declaration_ref")
    if ref is not None and not isinstance(ref, str):
        raise ScanReadError(file, "must be a string", field="declaration_ref")
    acquired = None
    if data.get("acquired_at") is not None:
        try:
            acquired = datetime.fromisoformat(str(data["acquired_at"]))
        except ValueError:
            raise ScanReadError(
                file, "must be an ISO 8601 date and time", field="acquired_at"
            ) from None
        if acquired.tzinfo is None:
            raise ScanReadError(file, "must carry a time zone (e.g. +00:00)", field="acquired_at")
    calibration = None
    if data.get("calibration") is not None:
        if not isinstance(data["calibration"], Mapping):
            raise ScanReadError(file, "must be an object", field="calibration")
        try:
            calibration = Calibration.from_dict(data["calibration"])
        except ValueError as exc:
            raise ScanReadError(file, str(exc), field="calibration") from None
    extra = data.get("extra", {})
    if not isinstance(extra, Mapping):
        raise ScanReadError(file, "must be an object", field="extra")
    return SidecarInfo(
        scanner_id=scanner.strip(),
        pitch_x_mm=float(pitch["x"]),
        pitch_y_mm=float(pitch["y"]),
        channels=tuple(channels),
        beam=beam,
        container_number=number,
        container_type=None if ctype is None else ctype.upper(),
        declaration_ref=ref,
        acquired_at=acquired,
        calibration=calibration,
        extra=dict(extra),
    )


def load_sidecar_text(text: str, file: Path | None) -> SidecarInfo:
    """Parse sidecar JSON text (errors name the line and column of bad JSON)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScanReadError(
            file,
            f"sidecar is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            field="sidecar",
        ) from None
    except (RecursionError, ValueError) as exc:  # nested too deep; an integer too long
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ScanReadError(file, f"sidecar is not usable JSON ({why})", field="sidecar") from None
    return parse_sidecar(data, file)


def _per_row(
    level: float | list[float], rows: int, file: Path | None, where: str
) -> NDArray[np.float32]:
    if isinstance(level, list):
        if len(level) != rows:
            raise ScanReadError(
                file, f"has {len(level)} values but the image has {rows} rows", field=where
            )
        return np.asarray(level, dtype=np.float32)
    return np.full(rows, level, dtype=np.float32)


def check_layout(
    info: SidecarInfo, *, rows: int, pages: int, file: Path | None, page_word: str = "page"
) -> None:
    """Check the sidecar against the image's declared layout (from its header, before any
    pixel is decoded): every channel's page exists and per-row levels have one value a row."""
    for i, ch in enumerate(info.channels):
        if ch.page >= pages:
            raise ScanReadError(
                file,
                f"channel '{ch.name.value}' is on {page_word} {ch.page} but the file has {pages}",
                field=f"channels[{i}].page",
            )
        for level, where in ((ch.air, "air_level"), (ch.dark, "dark_level")):
            if isinstance(level, list) and len(level) != rows:
                raise ScanReadError(
                    file,
                    f"has {len(level)} values but the image has {rows} rows",
                    field=f"channels[{i}].{where}",
                )


def scan_from_pages(
    info: SidecarInfo,
    pages: list[NDArray[np.uint16]],
    file: Path | None,
    *,
    page_word: str = "page",
) -> Scan:
    """Assemble a ``Scan`` from validated metadata and the image planes it refers to."""
    channels = []
    for i, ch in enumerate(info.channels):
        if ch.page >= len(pages):
            raise ScanReadError(
                file,
                f"channel '{ch.name.value}' is on {page_word} {ch.page} "
                f"but the file has {len(pages)}",
                field=f"channels[{i}].page",
            )
        counts = pages[ch.page]
        rows = counts.shape[0]
        air = _per_row(ch.air, rows, file, f"channels[{i}].air_level")
        dark = _per_row(ch.dark, rows, file, f"channels[{i}].dark_level")
        if np.any(air <= dark + 1.0):
            raise ScanReadError(
                file,
                "air level must exceed the dark level in every row",
                field=f"channels[{i}].air_level",
            )
        channels.append(EnergyChannel(ch.name, ch.nominal_mev, counts, air, dark))
    channels.sort(key=lambda c: 0 if c.name is Channel.HIGH else 1)
    meta = ScanMetadata(
        scanner_id=info.scanner_id,
        container_number=info.container_number,
        container_type=info.container_type,
        declaration_ref=info.declaration_ref,
        acquired_at=info.acquired_at,
        calibration=info.calibration,
        extra=info.extra,
    )
    return Scan(tuple(channels), info.pitch_x_mm, info.pitch_y_mm, meta, info.beam, file)


def _level_json(values: NDArray[np.float32]) -> float | list[float]:
    if np.all(values == values[0]):
        return round(float(values[0]), 3)
    return [round(float(v), 3) for v in values]


def sidecar_dict(scan: Scan, pages: Mapping[Channel, int] | None = None) -> dict[str, Any]:
    """The sidecar describing ``scan`` (channels on pages 0, 1 unless ``pages`` says otherwise)."""
    meta = scan.metadata
    out: dict[str, Any] = {
        "format": SIDECAR_FORMAT,
        "scanner_id": meta.scanner_id,
        "pixel_pitch_mm": {"x": scan.pitch_x_mm, "y": scan.pitch_y_mm},
        "channels": [
            {
                "name": c.name.value,
                "nominal_mev": c.nominal_mev,
                "page": (pages or {}).get(c.name, i),
                "air_level": _level_json(c.air),
                "dark_level": _level_json(c.dark),
            }
            for i, c in enumerate(scan.channels)
        ],
    }
    if scan.beam.source_row is not None and scan.beam.source_distance_mm is not None:
        out["beam"] = {
            "source_row": round(scan.beam.source_row, 3),
            "source_distance_mm": scan.beam.source_distance_mm,
            "projection": scan.beam.projection,
        }
    if meta.container_number:
        out["container_number"] = meta.container_number
    if meta.container_type:
        out["container_type"] = meta.container_type
    if meta.declaration_ref:
        out["declaration_ref"] = meta.declaration_ref
    if meta.acquired_at:
        out["acquired_at"] = meta.acquired_at.isoformat()
    if meta.calibration:
        out["calibration"] = meta.calibration.to_dict()
    if meta.extra:
        out["extra"] = dict(meta.extra)
    return out
