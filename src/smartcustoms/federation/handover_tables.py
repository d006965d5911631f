"""Hand-over tables beside :mod:`.tables`:

* ``federation_forward_queue``: new positions of a transit handed over to a partner, written
  by the ingest writer (or the inbox, for a transit handed onward) in the transaction that
  stores them (:func:`smartcustoms.tracking.pipeline.on_positions_written`), then packed into
  ``transit.positions`` messages by the deliverer and deleted in the transaction that queues
  those. A queue drained by deletion loses nothing when concurrent writers commit in an order
  other than their ids' (a cursor on position ids would skip the late one).
* ``federation_handed_alerts``: alerts of ours recreated from a partner's hand-over (raised by
  the origin administration, not by our rules), with the origin's alert id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = ["ForwardQueueRow", "HandedAlertRow"]

Int64 = BigInteger().with_variant(Integer(), "sqlite")


class ForwardQueueRow(Base):
    __tablename__ = "federation_forward_queue"

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    transit_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_transits.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="CASCADE")
    )
    device_id: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)
    positions: Mapped[str] = mapped_column(Text)  # JSON: the wire rows (handover.FIELDS)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HandedAlertRow(Base):
    __tablename__ = "federation_handed_alerts"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="CASCADE"), index=True
    )
    origin_alert_id: Mapped[int] = mapped_column(Integer)
    raised_by: Mapped[str] = mapped_column(String(120))  # the origin administration's name
