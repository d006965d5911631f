"""Federation tables: the partner directory, accounts linked to a partner, the nonces seen,
the message inbox.

* ``federation_partners``: one row per partner administration, from its verified card. The
  card as received is kept byte for byte (``card``) so its signature can be checked again.
* ``federation_partner_users``: a partner-administration user account acts for one partner.
* ``federation_nonces``: (key id, nonce) of every accepted signed request, unique, kept until
  ``expires_at`` (twice the clock window): two workers cannot both accept the same request.
* ``federation_inbox``: every message accepted from a partner, unique on (partner, message id),
  with the answer given, so a redelivered message is answered again, never processed twice.
* ``federation_outbox``: every message to a partner, written in the transaction of the change
  that causes it (a transactional outbox); ``message_id`` is the inbox's id, so a redelivery
  after a crash between sending and marking it delivered is answered "duplicate" there, never
  processed twice. Sent in id order per partner by the one deliverer holding the lease.
* ``federation_forwarding``: the transits handed over to a partner whose new positions are
  forwarded to it, with the last position id forwarded (advanced in the transaction that
  queues the batch).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = [
    "ACTIVE",
    "DEAD",
    "DELIVERED",
    "PENDING",
    "STATES",
    "SUSPENDED",
    "ForwardingRow",
    "InboxRow",
    "NonceRow",
    "OutboxRow",
    "PartnerRow",
    "PartnerUserRow",
]

# SQLite makes an INTEGER PRIMARY KEY the row id; PostgreSQL needs 64 bits for the busy tables.
Int64 = BigInteger().with_variant(Integer(), "sqlite")

ACTIVE, SUSPENDED = "active", "suspended"
STATES = (ACTIVE, SUSPENDED)
#: An outbox message's states: waiting (or retrying), acknowledged, given up on.
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class PartnerRow(Base):
    __tablename__ = "federation_partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    url: Mapped[str] = mapped_column(String(200))
    ledger_vkey: Mapped[str] = mapped_column(String(400))
    witness_vkey: Mapped[str] = mapped_column(String(400))
    request_vkey: Mapped[str] = mapped_column(String(400))
    # The RFC 9421 keyid its requests carry (the request key's name+keyid): unique, indexed.
    key_id: Mapped[str] = mapped_column(String(220), unique=True)
    kinds: Mapped[str] = mapped_column(String(200))  # what it may receive, comma-separated
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the signed card, hex
    card: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PartnerUserRow(Base):
    """A partner-administration user account acts for (and sees only what concerns) one
    partner, as a declarant acts for its trader identities (``user_traders``)."""

    __tablename__ = "federation_partner_users"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="CASCADE"), index=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    linked_by: Mapped[str] = mapped_column(String(64))


class NonceRow(Base):
    __tablename__ = "federation_nonces"
    __table_args__ = (UniqueConstraint("key_id", "nonce"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(220))
    nonce: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class InboxRow(Base):
    __tablename__ = "federation_inbox"
    __table_args__ = (
        UniqueConstraint("partner_id", "message_id"),
        Index("ix_federation_inbox_partner_received", "partner_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="RESTRICT")
    )
    message_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the message as received (JSON)
    answer: Mapped[str] = mapped_column(Text)  # the answer given (JSON), given again on redelivery
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxRow(Base):
    __tablename__ = "federation_outbox"
    __table_args__ = (Index("ix_federation_outbox_partner_state", "partner_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)  # the envelope sent, byte for byte (JSON)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ForwardingRow(Base):
    __tablename__ = "federation_forwarding"

    transit_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_transits.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="RESTRICT"), index=True
    )
    device_id: Mapped[str] = mapped_column(String(32))
    last_position_id: Mapped[int] = mapped_column(BigInteger)
    forwarded: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
