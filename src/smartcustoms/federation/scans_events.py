"""Events of scans shared between partners, each a ledger record on the side it happens.

Origin: ``federation.scan_shared`` (queued to the partner), ``federation.scan_examined_by_partner``
(the partner's result came back). Partner: ``federation.scan_received_from_partner`` (beside
the ``scans.received`` of our own intake, which analysed it), ``federation.scan_examination_sent``
(our examination result queued back). Free text (the sharing note) is carried as its SHA-256.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core.events import Event

__all__ = ["ScanExaminationSent", "ScanExaminedByPartner", "ScanReceivedFromPartner", "ScanShared"]


@dataclass(frozen=True, kw_only=True)
class ScanShared(Event):
    """Our scan queued to a partner with the decision taken on it so far."""

    type: ClassVar[str] = "federation.scan_shared"
    scan_id: int
    partner: str
    message_id: str
    file_sha256: str
    container_number: str
    decision: str | None
    transit_id: int | None
    note_sha256: str | None


@dataclass(frozen=True, kw_only=True)
class ScanReceivedFromPartner(Event):
    """A partner's scan stored here as our scan ``scan_id``, its sender's decision beside it."""

    type: ClassVar[str] = "federation.scan_received_from_partner"
    scan_id: int
    partner: str
    origin_scan_id: int
    file_sha256: str
    container_number: str
    sender_decision: str | None
    sender_machine: str
    transit_id: int | None


@dataclass(frozen=True, kw_only=True)
class ScanExaminationSent(Event):
    """Our examination result on a partner's scan, queued back to it."""

    type: ClassVar[str] = "federation.scan_examination_sent"
    scan_id: int
    partner: str
    origin_scan_id: int
    message_id: str
    irregular: bool


@dataclass(frozen=True, kw_only=True)
class ScanExaminedByPartner(Event):
    """The partner's examination result on a scan we shared with it."""

    type: ClassVar[str] = "federation.scan_examined_by_partner"
    scan_id: int
    partner: str
    irregular: bool
    codes: tuple[str, ...]
    found_kg: str | None
