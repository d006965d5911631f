"""Errors of the scans package, built on :mod:`smartcustoms.core.errors`.

ValidationFailed (422)
├── ScanReadError          a file cannot be read as a scan: names the file and what is wrong
└── ScanInputError         a scan or an argument cannot be analysed (e.g. a bad HS code)
PayloadTooLarge (413)
└── ScanTooLarge           a file declares more pages, pixels or decoded bytes than allowed
ConfigurationError (500)
└── DetectorModelError     the learned detector's model file is missing, unreadable or stale
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ConfigurationError, PayloadTooLarge, ValidationFailed

__all__ = ["DetectorModelError", "ScanInputError", "ScanReadError", "ScanTooLarge"]


class ScanReadError(ValidationFailed):
    """A scan file is unreadable, malformed or inconsistent with its metadata.

    The message starts with the file name; ``details`` carries ``{"file": ..., "field": ...,
    "problem": ...}`` naming the TIFF tag or page, DICOM attribute or sidecar field at fault.
    """

    code = "scan_unreadable"

    def __init__(
        self,
        path: str | Path | None,
        problem: str,
        *,
        field: str | None = None,
        details: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        name = Path(path).name if path is not None else "<scan>"
        where = f" ({field})" if field else ""
        detail: dict[str, Any] = {"file": name, "problem": problem}
        if field:
            detail["field"] = field
        super().__init__(f"{name}: {problem}{where}", details=[detail, *(details or ())])
        self.path = None if path is None else Path(path)
        self.problem = problem
        self.field = field


class ScanTooLarge(PayloadTooLarge):
    """A scan file declares more than the limits allow (:mod:`smartcustoms.scans.limits`).

    Raised from the file's header, before any pixel is decoded. ``details`` carries ``{"file",
    "field", "problem", "limit", "got"}`` and, when an operator may raise the limit, the
    ``setting`` that holds it.
    """

    code = "scan_too_large"

    def __init__(
        self,
        path: str | Path | None,
        problem: str,
        *,
        field: str,
        limit: int,
        got: int,
        setting: str | None = None,
    ) -> None:
        name = Path(path).name if path is not None else "<scan>"
        detail: dict[str, Any] = {
            "file": name,
            "field": field,
            "problem": problem,
            "limit": limit,
            "got": got,
        }
        if setting:
            detail["setting"] = setting
        super().__init__(f"{name}: {problem} ({field})", details=[detail])
        self.path = None if path is None else Path(path)
        self.problem = problem
        self.field = field
        self.limit = limit
        self.got = got


class ScanInputError(ValidationFailed):
    """An analysis argument or a scan's content does not allow the requested analysis."""

    code = "scan_input_invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, details=[{"field": field, "problem": message}] if field else [])
        self.field = field


class DetectorModelError(ConfigurationError):
    """The learned detector's model (or the metadata beside it) cannot be used."""

    code = "scan_detector_model_invalid"

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(
            f"learned detector model {path}: {problem}",
            details=[{"file": str(path), "problem": problem}],
        )
        self.path = str(path)
        self.problem = problem
