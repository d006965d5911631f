"""How large a scan may be: checked from the file's header, before any pixel is decoded.

A scan file is small on the wire and large in memory: a 3.5 MB Deflate-compressed TIFF can
declare two 30,000 × 30,000 pages (3.4 GB decoded), a hand-written header can claim
100,000 × 100,000, a DICOS file can declare 65,535 × 65,535 RLE frames. The readers check, in
this order and before decoding anything: the number of pages (frames), each page's width,
height and pixel count, the bits per sample, the size of everything decoded together, and
that every compressed strip, tile or RLE segment decodes to no more than its page declares
(measured by decoding into a bounded buffer, so a compressed stream can never balloon). A file
over a limit is refused with :class:`~smartcustoms.scans.errors.ScanTooLarge` (413) naming the
field; one inconsistent with itself with :class:`~smartcustoms.scans.errors.ScanReadError`
(422).

The limits come from the settings (``scan_max_pixels``, ``scan_max_side``, ``scan_max_pages``,
``scan_max_decoded_bytes``); the defaults leave generous headroom over real container scanners
(a 40 ft container at 2.5 mm is about 4,900 × 1,400 pixels per energy) while keeping one
request's memory bounded: the analyses need about 90 bytes per pixel on top of the decoded
image (measured on a 2,400 × 520 dual-energy scan: 100 MB + 88 B/pixel).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smartcustoms.core.settings import Settings
from smartcustoms.scans.errors import ScanTooLarge

__all__ = ["MAX_SIDECAR_BYTES", "ScanLimits"]

#: A sidecar is a few kilobytes; per-row levels of 16,384 rows in four lists stay under 1 MB.
MAX_SIDECAR_BYTES = 4 * 1024 * 1024


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class ScanLimits:
    """The largest scan a reader accepts (defaults: the settings' defaults)."""

    max_pixels: int = _default("scan_max_pixels")  # per page (energy channel): rows × columns
    max_side: int = _default("scan_max_side")  # rows or columns
    max_pages: int = _default("scan_max_pages")  # TIFF pages or DICOS frames
    max_decoded_bytes: int = _default("scan_max_decoded_bytes")  # all pages, as decoded
    max_sidecar_bytes: int = MAX_SIDECAR_BYTES

    @classmethod
    def from_settings(cls, settings: Settings) -> ScanLimits:
        return cls(
            max_pixels=settings.scan_max_pixels,
            max_side=settings.scan_max_side,
            max_pages=settings.scan_max_pages,
            max_decoded_bytes=settings.scan_max_decoded_bytes,
        )

    def check_pages(self, path: Path | None, count: int, *, field: str, word: str) -> None:
        """``count`` pages (frames) are not too many. ``count`` may be ``max_pages + 1`` when
        the reader stopped counting there."""
        if count > self.max_pages:
            raise ScanTooLarge(
                path,
                f"has more than {self.max_pages} {word}s"
                if count == self.max_pages + 1
                else f"has {count:,} {word}s, above the limit of {self.max_pages}",
                field=field,
                limit=self.max_pages,
                got=count,
                setting="scan_max_pages",
            )

    def check_plane(
        self,
        path: Path | None,
        rows: int,
        columns: int,
        *,
        fields: tuple[str, str],
        where: str,
        plane_field: str | None = None,
    ) -> None:
        """One page's size: each side, then the pixel count. ``fields`` names the height and
        width fields (``ImageLength``/``ImageWidth``, ``Rows``/``Columns``), ``where`` the page
        (``page 1``) and ``plane_field`` the field for the pixel count (default: ``where``)."""
        for value, name in ((rows, fields[0]), (columns, fields[1])):
            if value > self.max_side:
                label = f"{where} {name}".strip()
                raise ScanTooLarge(
                    path,
                    f"{label} is {value:,} pixels, above the limit of {self.max_side:,}",
                    field=label,
                    limit=self.max_side,
                    got=value,
                    setting="scan_max_side",
                )
        if rows * columns > self.max_pixels:
            raise ScanTooLarge(
                path,
                f"{where or 'image'} is {rows:,} × {columns:,} = {rows * columns:,} pixels, "
                f"above the limit of {self.max_pixels:,}",
                field=plane_field or where or "pixels",
                limit=self.max_pixels,
                got=rows * columns,
                setting="scan_max_pixels",
            )

    def check_decoded(self, path: Path | None, size: int, *, field: str) -> None:
        """Everything the reader would decode, together, in bytes."""
        if size > self.max_decoded_bytes:
            raise ScanTooLarge(
                path,
                f"would decode to {size:,} bytes, above the limit of {self.max_decoded_bytes:,}",
                field=field,
                limit=self.max_decoded_bytes,
                got=size,
                setting="scan_max_decoded_bytes",
            )

    def check_sidecar(self, path: Path | None, size: int, *, field: str = "sidecar") -> None:
        if size > self.max_sidecar_bytes:
            raise ScanTooLarge(
                path,
                f"sidecar is {size:,} bytes, above the limit of {self.max_sidecar_bytes:,}",
                field=field,
                limit=self.max_sidecar_bytes,
                got=size,
            )
