"""Installed calibrations: one per scanner, used for every scan that scanner makes.

A site fits its scanner once (``smartcustoms scans calibrate``), but scanners do not write our
calibration into each file, so the calibration is installed here, under the scan store's root::

    calibrations/KE-MSA-01.json   {"scanner_id": "KE-MSA-01", "installed_at": …, "calibration": {…}}

The scan's ``scanner_id`` (sidecar field, DICOS DeviceSerialNumber or StationName) picks the
file. Files, not database rows: a calibration is a few numbers an operator may want to read or
copy between sites, and installing one needs no migration. Each file is written to a temporary
name, synced and renamed over the old one, so a reader sees the old calibration or the new one,
never half of either. Installing and removing are recorded in the ledger by the commands that do
them (:class:`.events.ScannerCalibrationInstalled`, :class:`.events.ScannerCalibrationRemoved`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from smartcustoms.core import clock
from smartcustoms.core.errors import ConfigurationError
from smartcustoms.scans.errors import ScanInputError
from smartcustoms.scans.model import Scan
from smartcustoms.scans.physics.calibration import Calibration

__all__ = [
    "CalibrationStore",
    "InstalledCalibration",
    "InstalledCalibrationError",
    "calibration_from_json",
    "calibrations_for",
    "canonical_sha256",
]

MAX_SCANNER_ID = 64  # what the scans table keeps of a scanner id


class InstalledCalibrationError(ConfigurationError):
    """An installed calibration file cannot be used (edited by hand, or damaged): no scan of
    that scanner is analysed with a calibration that is not the one installed."""

    code = "scan_calibration_invalid"

    def __init__(self, path: Path, problem: str, field: str | None = None) -> None:
        super().__init__(
            f"installed calibration {path}: {problem}",
            details=[{"file": str(path), "field": field, "problem": problem}],
        )


@dataclass(frozen=True)
class InstalledCalibration:
    scanner_id: str
    calibration: Calibration
    installed_at: datetime | None
    path: Path


def calibration_from_json(data: Any, field: str = "calibration") -> Calibration:
    """A calibration from its JSON object (what ``scans calibrate`` writes, or a file holding
    ``{"calibration": {...}}``); :class:`ScanInputError` naming the field when malformed."""
    if isinstance(data, Mapping) and isinstance(data.get("calibration"), Mapping):
        data = data["calibration"]
    if not isinstance(data, Mapping):
        raise ScanInputError(f"{field} must be a JSON object", field=field)
    if "high" not in data or "low" not in data:
        missing = "high" if "high" not in data else "low"
        raise ScanInputError(
            f"{field}.{missing} is missing: a calibration gives both channels' factors",
            field=f"{field}.{missing}",
        )
    try:
        return Calibration.from_dict(data)
    except ValueError as exc:
        # from_dict names the key as "calibration.<key>"; keep the field path that way
        key = str(exc).split(" ", 1)[0]
        raise ScanInputError(str(exc), field=key) from None


def _checked_scanner(scanner_id: str) -> str:
    sid = scanner_id.strip()
    if not sid or len(sid) > MAX_SCANNER_ID or not sid.isprintable():
        raise ScanInputError(
            f"scanner id {scanner_id!r} must be 1 to {MAX_SCANNER_ID} printable characters",
            field="scanner_id",
        )
    return sid


def _file_name(scanner_id: str) -> str:
    # Percent-encoded (dots too): any scanner id is one plain file name, never a path or a
    # hidden file, and the store's own temporary names (starting with ".") cannot clash.
    return quote(scanner_id, safe="-_").replace(".", "%2E") + ".json"


def canonical_sha256(calibration: Calibration) -> str:
    """SHA-256 of the calibration's canonical JSON, for the ledger record."""
    text = json.dumps(calibration.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class CalibrationStore:
    """The installed calibrations under ``root`` (``<scan store>/calibrations``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, scanner_id: str) -> Path:
        return self.root / _file_name(_checked_scanner(scanner_id))

    def install(self, scanner_id: str, calibration: Calibration) -> bool:
        """Install ``calibration`` for ``scanner_id``, replacing any; True if one was replaced."""
        sid = _checked_scanner(scanner_id)
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / _file_name(sid)
        record = {
            "scanner_id": sid,
            "installed_at": clock.now().isoformat(),
            "calibration": calibration.to_dict(),
        }
        tmp = self.root / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}"
        replaced = target.exists()
        try:
            with tmp.open("x", encoding="utf-8") as fh:
                fh.write(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)  # atomic: readers see the old file or the new one
        finally:
            tmp.unlink(missing_ok=True)
        _sync_dir(self.root)
        return replaced

    def get(self, scanner_id: str) -> InstalledCalibration | None:
        """The calibration installed for ``scanner_id``, None when there is none (or the id
        could not have one installed)."""
        try:
            path = self.path(scanner_id)
        except ScanInputError:
            return None
        return self._read(path) if path.is_file() else None

    def for_scan(self, scan: Scan) -> Calibration | None:
        """The calibration installed for the scan's scanner, when the scan carries none of its
        own (a calibration in the file is the scanner's word for that scan, and wins). Raises
        :class:`InstalledCalibrationError` for a damaged file: that scanner's scans are not
        analysed with a calibration other than the one installed."""
        if scan.metadata.calibration is not None:
            return None
        installed = self.get(scan.metadata.scanner_id)
        return installed.calibration if installed is not None else None

    def remove(self, scanner_id: str) -> InstalledCalibration | None:
        """Remove the scanner's calibration; what was removed, None when there was none."""
        path = self.path(scanner_id)
        if not path.is_file():
            return None
        try:
            installed = self._read(path)
        except InstalledCalibrationError:  # a damaged file may still be removed
            installed = InstalledCalibration(scanner_id.strip(), Calibration(), None, path)
        path.unlink()
        _sync_dir(self.root)
        return installed

    def all(self) -> list[InstalledCalibration]:
        """Every installed calibration, by scanner id."""
        if not self.root.is_dir():
            return []
        paths = [p for p in self.root.glob("*.json") if not p.name.startswith(".")]
        return sorted((self._read(p) for p in paths), key=lambda c: c.scanner_id)

    def _read(self, path: Path) -> InstalledCalibration:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InstalledCalibrationError(path, f"not a readable JSON file ({exc})") from None
        expected = unquote(path.name.removesuffix(".json"))
        if not isinstance(data, dict) or data.get("scanner_id") != expected:
            raise InstalledCalibrationError(
                path, f"scanner_id must be {expected!r}, as the file is named", "scanner_id"
            )
        try:
            calibration = calibration_from_json(data.get("calibration"))
        except ScanInputError as exc:
            raise InstalledCalibrationError(path, exc.message, exc.field) from None
        at = data.get("installed_at")
        try:
            installed_at = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            installed_at = None
        return InstalledCalibration(expected, calibration, installed_at, path)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # the new name (or its absence) survives a crash too
    finally:
        os.close(fd)


def calibrations_for(scans_root: Path) -> CalibrationStore:
    """The installed calibrations of the scan store rooted at ``scans_root``."""
    return CalibrationStore(scans_root / "calibrations")
