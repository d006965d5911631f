"""``smartcustoms scans analyze FOLDER``: every scan of a folder in one process, and where its
report may be written.

A report never goes to a path made from the scan's name: ``scan.json`` beside ``scan.tif`` is
the scanner's sidecar (air levels, pixel pitch, container number), and a report saved there
would replace it and leave the scan unreadable. Reports go to standard output or to an explicit
``--output``, which may be neither a scan nor a sidecar, nor the name a sidecar would have.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smartcustoms.scans.calibrations import CalibrationStore
    from smartcustoms.scans.findings import Report

__all__ = ["Outcome", "analyse_files", "check_output", "scan_candidates", "sidecar_names"]

log = logging.getLogger("smartcustoms.cli")

#: Suffixes a scanner gives its files: such a file that cannot be read is a failure, not
#: something else lying in the folder.
SCAN_SUFFIXES = frozenset({".tif", ".tiff", ".dcm", ".dicos"})
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def sidecar_names(scan: Path) -> tuple[Path, Path]:
    """Where a reader looks for ``scan``'s sidecar (``scans.sidecar.find_sidecar``), whether or
    not one is there now: a file written at either name would be taken for it."""
    return scan.with_suffix(".json"), scan.with_name(scan.name + ".json")


def _looks_like_a_scan(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return head[:4] in _TIFF_MAGIC or head[128:132] == b"DICM"


def scan_candidates(folder: Path, *, exclude: Path | None = None) -> list[Path]:
    """The files of ``folder`` (not its sub-folders) that may be scans, by name: sidecars
    (``.json``), hidden files and unfinished writes (``.part``) left out."""
    skip = exclude.resolve() if exclude is not None else None
    found = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(".") or path.suffix.lower() in (".json", ".part"):
            continue
        if not path.is_file() or (skip is not None and path.resolve() == skip):
            continue
        found.append(path)
    return found


def check_output(output: Path, scans: list[Path]) -> str | None:
    """Why ``output`` may not receive a report about ``scans``, or None."""
    target = output.resolve()
    for scan in scans:
        if target == scan.resolve():
            return f"{output}: is the scan {scan.name} itself; give another --output"
        for side in sidecar_names(scan):
            if target == side.resolve():
                return (
                    f"{output}: is where {scan.name}'s sidecar lives (the scanner's metadata); "
                    "give another --output"
                )
    if output.suffix.lower() in SCAN_SUFFIXES or (output.is_file() and _looks_like_a_scan(output)):
        return f"{output}: is a scan file; give another --output"
    return None


@dataclass(frozen=True)
class Outcome:
    """One file of a batch: its report, or the error that stopped it (``error`` is the API's
    error shape, ``{"code", "message", "details"}``), or neither when it is not a scan."""

    path: Path
    report: Report | None = None
    error: dict[str, Any] | None = None

    @property
    def skipped(self) -> bool:
        return self.report is None and self.error is None

    def as_line(self) -> dict[str, Any]:
        if self.report is not None:
            return {
                "file": str(self.path),
                "alarm_decision": self.report.alarm_decision,
                "report": self.report.to_dict(),
            }
        return {"file": str(self.path), "error": self.error}


def analyse_files(paths: list[Path], *, skip_non_scans: bool, **declared: Any) -> Iterator[Outcome]:
    """Read and analyse each file in turn; a failure is an outcome, and the next file goes on.

    ``skip_non_scans``: a file that no reader recognises and whose name is not a scan's is not a
    failure but something else in the folder (a README, a labels file), and is skipped."""
    # The analyses (NumPy, SciPy, LightGBM) load here, when there is something to analyse.
    from smartcustoms.core.errors import SmartCustomsError
    from smartcustoms.scans import ScanLimits, ScanReadError, analyze, read_scan

    limits: ScanLimits = declared.pop("limits")
    # --calibration over everything; otherwise the scan's own, else its scanner's installed one
    given = declared.pop("calibration", None)
    installed: CalibrationStore | None = declared.pop("installed", None)
    for path in paths:
        try:
            scan = read_scan(path, limits=limits)
            calibration = given or (installed.for_scan(scan) if installed else None)
            yield Outcome(path, report=analyze(scan, calibration=calibration, **declared))
        except ScanReadError as exc:
            not_a_scan = exc.field == "header" or exc.problem == "file is empty"
            if skip_non_scans and not_a_scan and path.suffix.lower() not in SCAN_SUFFIXES:
                yield Outcome(path)
            else:
                yield Outcome(path, error=_error(exc))
        except SmartCustomsError as exc:
            yield Outcome(path, error=_error(exc))
        except Exception as exc:  # a bug on one file must not lose the rest of the batch
            log.debug("unexpected error analysing %s", path, exc_info=True)
            message = f"{path.name}: unexpected {type(exc).__name__}: {exc}"
            yield Outcome(
                path,
                error={"code": "internal_error", "message": message, "details": [
                    {"file": path.name}
                ]},
            )  # fmt: skip


def _error(exc: Any) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "details": exc.details}


def write_atomically(path: Path, text: str) -> None:
    """``text`` at ``path``, all or nothing (a failed run leaves the old file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
