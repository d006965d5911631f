"""The notification tables.

* ``notify_contacts``: how to reach a person (e-mail, phone), the office they work at and
  their quiet hours. Kept beside ``users`` rather than in it: accounts stay core's.
* ``notify_rules``: who is told of what — a trigger, a role or one person, an office, the
  channels and after how many minutes (0: at once; N: an escalation step, sent only if the
  matter still waits after N minutes).
* ``notifications``: one row per message to one person on one channel, with its delivery
  state. ``key`` (unique) is what makes queuing idempotent: the same ledger record, rule,
  person and channel never queue twice, however often the cursor re-reads it.
* ``notify_watches``: matters that still wait (an unacknowledged critical alert, a rule
  version awaiting approval, a scan awaiting re-check), for the escalation chain.
* ``notify_cursor``: how far in the ledger the notifier has read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = [
    "NotificationRow",
    "NotifyContact",
    "NotifyCursor",
    "NotifyRule",
    "NotifyWatch",
]

# SQLite makes an INTEGER PRIMARY KEY the row id (fast appends); PostgreSQL needs 64 bits.
Int64 = BigInteger().with_variant(Integer(), "sqlite")


class NotifyContact(Base):
    __tablename__ = "notify_contacts"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164, "+" and up to 15 digits
    office: Mapped[str | None] = mapped_column(String(32))  # office or zone code
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", local time
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, e.g. Africa/Nairobi
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class NotifyRule(Base):
    __tablename__ = "notify_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(64))
    office: Mapped[str | None] = mapped_column(String(32))
    channels: Mapped[str] = mapped_column(String(16))  # "email", "sms" or "email,sms"
    after_minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "state", "next_attempt_at"),
        Index("ix_notifications_user", "username", "id"),
        Index("ix_notifications_dedup", "dedup", "username", "channel", "created_at"),
        Index("ix_notifications_subject", "subject", "state"),
    )

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("notify_rules.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(254))
    trigger: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(96))
    dedup: Mapped[str] = mapped_column(String(160))
    step: Mapped[int] = mapped_column(Integer)  # 0: first told; N: escalation after N minutes
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))
    tries: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotifyWatch(Base):
    __tablename__ = "notify_watches"
    __table_args__ = (
        UniqueConstraint("trigger", "subject"),
        Index("ix_notify_watches_open", "closed_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(96))
    source: Mapped[str] = mapped_column(String(64))  # SHA-256 of the ledger entry that opened it
    offices: Mapped[list[str]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the message says
    fired: Mapped[list[int]] = mapped_column(JSON)  # escalation rules already applied
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotifyCursor(Base):
    __tablename__ = "notify_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Int64)  # the next ledger index to read
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
