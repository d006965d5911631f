"""Scans shared with partners: one row per scan sent to a partner or received from one.

* ``direction = "sent"``: our scan ``scan_id`` went to ``partner_id`` in outbox message
  ``message_id``; the partner's examination result, when it flows back (``scan.examined``),
  fills the ``examined_*`` columns.
* ``direction = "received"``: the partner's scan ``origin_scan_id`` arrived in inbox message
  ``message_id`` and is our scan ``scan_id`` (stored in our scan store, analysed by our
  machine, in our review queue); ``sender_*`` is what the partner's analyst decided, shown
  beside ours; ``answer_message_id`` is the ``scan.examined`` we queued back, once.

``container_number`` is indexed: the review queue and ``GET /api/scans/partner-scans`` look
up whether a partner already scanned a container ("not scanned twice on the same corridor").
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime
from smartcustoms.scans.tables import JSONData, Kilograms

__all__ = ["RECEIVED", "SENT", "SharedScanRow"]

SENT: Final = "sent"
RECEIVED: Final = "received"


class SharedScanRow(Base):
    __tablename__ = "federation_scans"
    # A scan goes to a partner once; a partner's scan arrives here once.
    __table_args__ = (UniqueConstraint("partner_id", "direction", "origin_scan_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="RESTRICT"), index=True
    )
    origin_scan_id: Mapped[int] = mapped_column(Integer)  # the sender's scan id
    message_id: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))
    container_number: Mapped[str] = mapped_column(String(11), index=True)
    declaration_ref: Mapped[str | None] = mapped_column(String(70))  # the declaration's LRN
    sender_machine: Mapped[str] = mapped_column(String(8))  # the sender's ALARM/CLEAR/UNKNOWN
    sender_decision: Mapped[str | None] = mapped_column(String(24))  # its analyst's, if any
    sender_status: Mapped[str | None] = mapped_column(String(24))
    sender_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sender_regions: Mapped[list[Any]] = mapped_column(JSONData)  # its analyst's marks
    sender_report: Mapped[dict[str, Any]] = mapped_column(JSONData)  # its machine's report
    note: Mapped[str | None] = mapped_column(Text)  # what the sender wrote when sharing
    # The transit on our side: the one we handed over (sent) or were handed (received).
    transit_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracking_transits.id", ondelete="SET NULL")
    )
    transit_reference: Mapped[str | None] = mapped_column(String(70))  # the sender's reference
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shared_by: Mapped[str] = mapped_column(String(64))
    # The partner's examination result (sent rows), as it flowed back.
    examined_irregular: Mapped[bool | None] = mapped_column(Boolean)
    examined_codes: Mapped[list[Any] | None] = mapped_column(JSONData)
    examined_regions: Mapped[list[Any] | None] = mapped_column(JSONData)
    examined_found_kg: Mapped[Decimal | None] = mapped_column(Kilograms)
    examined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    examined_by: Mapped[str | None] = mapped_column(String(64))
    # The other half of the exchange: the scan.examined we sent (received rows) or got (sent).
    answer_message_id: Mapped[str | None] = mapped_column(String(64))
