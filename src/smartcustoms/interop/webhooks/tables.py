"""The webhook tables: subscriptions and the delivery outbox.

* ``webhook_subscriptions``: a receiver URL, the event types it wants, and its signing secret
  sealed with the instance's webhook key (see :mod:`.secrets`).
* ``webhook_deliveries``: one row per (subscription, event), written by the recorder in the
  transaction that made the event (see :mod:`.recorder`). ``id`` is the order of commit
  within a subject; ``message_id`` is the ``webhook-id`` every attempt and replay re-sends;
  ``payload`` is the exact body that is signed, fixed at record time so a retry is the same
  message byte for byte.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = ["DEAD", "DELIVERED", "PENDING", "STATUSES", "WebhookDelivery", "WebhookSubscription"]

# SQLite makes an INTEGER PRIMARY KEY the row id (fast appends); PostgreSQL needs 64 bits.
Int64 = BigInteger().with_variant(Integer(), "sqlite")

#: Delivery states. A *dead* delivery gave up after the bounded number of tries; replay makes
#: it pending again.
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
STATUSES = (PENDING, DELIVERED, DEAD)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(255))
    event_types: Mapped[str] = mapped_column(Text)  # JSON list of event type names
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "subscription_id", "status", "id"),
        Index("ix_webhook_deliveries_subject", "subscription_id", "subject", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    message_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(255))
