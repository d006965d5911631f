"""The record of an export: who took which report, in which format, with which filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core.events import Event

__all__ = ["ReportExported"]


@dataclass(frozen=True, kw_only=True)
class ReportExported(Event):
    type: ClassVar[str] = "reports.exported"
    report: str
    format: str  # csv, xlsx, pdf, json
    date_from: str
    date_to: str
    office: str | None
    corridor: str | None
