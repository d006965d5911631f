"""Tables of what administrations share besides transits: targeting rules and notices.

* ``federation_rule_offers``: a rule version this instance offered to a partner (the origin's
  side), the offer's message id (the partner's answer names it) and what became of it:
  ``offered`` → ``adopted`` | ``declined``.
* ``federation_rules_received``: a partner's offered rule stored here as a proposal in the
  rulebook (the version it became), and whether our supervisor adopted or declined it.
* ``federation_notices``: seizure and irregularity notices, ours (``partner_id`` empty) and
  those partners published to us; unique on (origin administration, notice id).
* ``federation_notice_recipients``: which partners each of our notices was sent to.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = [
    "ADOPTED",
    "DECLINED",
    "OFFERED",
    "PROPOSED",
    "NoticeRecipientRow",
    "NoticeRow",
    "RuleOfferRow",
    "RuleReceivedRow",
]

#: An offer's states at the origin, and a received rule's at the partner.
OFFERED, PROPOSED, ADOPTED, DECLINED = "offered", "proposed", "adopted", "declined"


class RuleOfferRow(Base):
    __tablename__ = "federation_rule_offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="RESTRICT"), index=True
    )
    rule_version_id: Mapped[int] = mapped_column(
        ForeignKey("risk_rule_versions.id", ondelete="RESTRICT")
    )
    rule_name: Mapped[str] = mapped_column(String(120))
    rule_version: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offered_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_note: Mapped[str | None] = mapped_column(String(500))


class RuleReceivedRow(Base):
    __tablename__ = "federation_rules_received"
    __table_args__ = (UniqueConstraint("partner_id", "offer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="RESTRICT")
    )
    offer_id: Mapped[str] = mapped_column(String(64))  # the offer's message id at the origin
    origin_rule: Mapped[str] = mapped_column(String(120))
    origin_version: Mapped[int] = mapped_column(Integer)
    # The proposal it became here: a draft until our supervisor reviews it.
    rule_version_id: Mapped[int] = mapped_column(
        ForeignKey("risk_rule_versions.id", ondelete="RESTRICT"), unique=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoticeRow(Base):
    __tablename__ = "federation_notices"
    __table_args__ = (UniqueConstraint("origin", "notice_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(36))  # chosen by the publisher (a UUID)
    origin: Mapped[str] = mapped_column(String(120))  # the publishing administration
    # Who sent it to us; empty for our own notices.
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    found: Mapped[str] = mapped_column(String(500))
    hs_code: Mapped[str] = mapped_column(String(10), index=True)
    route: Mapped[str] = mapped_column(String(200))
    concealment: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(8))
    found_on: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NoticeRecipientRow(Base):
    __tablename__ = "federation_notice_recipients"

    notice_id: Mapped[int] = mapped_column(
        ForeignKey("federation_notices.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("federation_partners.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    message_id: Mapped[str] = mapped_column(String(64))
