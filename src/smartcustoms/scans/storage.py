"""The scan store: received scan files on disk, named by their SHA-256.

Layout under the store's root (``scans_dir``, default ``<data dir>/scans``)::

    ab/ab12…ef.tif          the file as the scanner sent it (.tif or .dcm)
    ab/ab12…ef.json         its sidecar, when it came as a separate file
    ab/ab12…ef.view.npz     attenuation and material class for the viewer (made on first view)
    tmp/                    uploads being read; same file system, so storing is a rename

Why files and not database rows: a 2,400 × 520 dual-energy scan is 5 MB, an administration
scanning 2,900 containers a day adds 15 GB a day, and scan archives are kept and backed up on
their own schedule. The database row holds the SHA-256, so a file that was changed or lost is
detected (:meth:`ScanStore.verify`). Files are written to a temporary name and renamed, so none
is ever half-written; a file whose database transaction then fails is removed again.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from smartcustoms.core.errors import NotFound
from smartcustoms.core.settings import Settings
from smartcustoms.scans.limits import ScanLimits
from smartcustoms.scans.model import Scan
from smartcustoms.scans.readers import read_scan
from smartcustoms.scans.readers.dicos import looks_like_dicom
from smartcustoms.scans.readers.tiff import looks_like_tiff

__all__ = ["ScanStore", "StoredFile", "file_format", "safe_name", "store_for"]

_SHA = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
SUFFIXES = {"tiff": ".tif", "dicos": ".dcm"}


def file_format(head: bytes) -> str | None:
    """ "tiff" or "dicos" from a file's first 132 bytes, None for anything else."""
    if looks_like_tiff(head):
        return "tiff"
    if looks_like_dicom(head):
        return "dicos"
    return None


def safe_name(name: str, fmt: str | None) -> str:
    """A file name safe to write (no directories, no odd characters), with the suffix its
    format needs for the readers; the scanner's name is kept in the database."""
    base = _UNSAFE.sub("_", Path(name or "scan").name).strip("._") or "scan"
    base = base[:100]
    suffix = SUFFIXES.get(fmt or "", "")
    if suffix and Path(base).suffix.lower() not in (".tif", ".tiff", ".dcm"):
        base += suffix
    if Path(base).suffix.lower() == ".json":  # the sidecar's name must stay free
        base += ".scan"
    return base


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    path: Path
    created: bool  # False when the store already held this file


class ScanStore:
    """Scan files by SHA-256 under ``root``; ``limits`` bound the files read into it and
    out of it (:mod:`smartcustoms.scans.limits`)."""

    def __init__(self, root: Path, limits: ScanLimits | None = None) -> None:
        self.root = root
        self.limits = limits or ScanLimits()

    def _check(self, sha256: str) -> None:
        if not _SHA.match(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")

    def path(self, sha256: str, fmt: str) -> Path:
        self._check(sha256)
        return self.root / sha256[:2] / f"{sha256}{SUFFIXES[fmt]}"

    def sidecar_path(self, sha256: str) -> Path:
        self._check(sha256)
        return self.root / sha256[:2] / f"{sha256}.json"

    def view_path(self, sha256: str) -> Path:
        self._check(sha256)
        return self.root / sha256[:2] / f"{sha256}.view.npz"

    def workspace(self) -> Path:
        """A folder on the store's file system for files on their way in."""
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp

    def put(self, source: Path, sha256: str, fmt: str, sidecar: Path | None) -> StoredFile:
        """Move ``source`` (and its ``sidecar``) into the store, unless it is there already."""
        target = self.path(sha256, fmt)
        target.parent.mkdir(parents=True, exist_ok=True)
        if sidecar is not None and not self.sidecar_path(sha256).exists():
            os.replace(sidecar, self.sidecar_path(sha256))
        if target.exists():  # left by an upload whose transaction failed: the same bytes
            return StoredFile(sha256, target, created=False)
        _fsync(source)
        os.replace(source, target)  # atomic: the file is whole or absent
        _fsync(target.parent)
        return StoredFile(sha256, target, created=True)

    def remove(self, sha256: str, fmt: str) -> None:
        """Take a file (and what was derived from it) out of the store."""
        for path in (self.path(sha256, fmt), self.sidecar_path(sha256), self.view_path(sha256)):
            path.unlink(missing_ok=True)

    def existing(self, sha256: str, fmt: str) -> Path:
        """The stored file, checked against its SHA-256; NotFound names what is wrong."""
        path = self.path(sha256, fmt)
        if not path.is_file():
            raise NotFound(
                f"scan file {path.name} is missing from the scan store {self.root}",
                code="scan_file_missing",
            )
        return path

    def verify(self, sha256: str, fmt: str) -> bool:
        """Does the stored file still hash to ``sha256``?"""
        digest = hashlib.sha256()
        with self.existing(sha256, fmt).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256

    def read(self, sha256: str, fmt: str) -> Scan:
        """The stored scan, read again (with its sidecar when one is stored beside it)."""
        return read_scan(self.existing(sha256, fmt), limits=self.limits)

    def copy_out(self, sha256: str, fmt: str, target: Path) -> None:
        """Copy a stored file (and its sidecar, beside it) to ``target``."""
        shutil.copyfile(self.existing(sha256, fmt), target)
        side = self.sidecar_path(sha256)
        if side.is_file():
            shutil.copyfile(side, target.with_suffix(".json"))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_for(settings: Settings) -> ScanStore:
    """The scan store the settings name (``scans_dir``, else ``<data dir>/scans``), reading
    scans within the settings' limits (``scan_max_pixels`` …)."""
    return ScanStore(
        settings.scans_dir or settings.data_dir / "scans", ScanLimits.from_settings(settings)
    )
