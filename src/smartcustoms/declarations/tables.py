"""Stored declarations: the whole document as lodged, and one row per item for queries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = ["DeclarationItemRow", "DeclarationRow"]

JSONDocument = JSON().with_variant(JSONB(), "postgresql")
Money = Numeric(20, 6)


class DeclarationRow(Base):
    __tablename__ = "declarations"
    # The trader's reference is unique per declarant: lodging it again is the same declaration.
    __table_args__ = (
        UniqueConstraint("declarant_id", "lrn", name="uq_declarations_declarant_lrn"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declarant_id: Mapped[str] = mapped_column(String(17))
    lrn: Mapped[str] = mapped_column(String(35))
    mrn: Mapped[str | None] = mapped_column(String(70))
    function_code: Mapped[str] = mapped_column(String(2))
    type_code: Mapped[str] = mapped_column(String(3))
    office: Mapped[str] = mapped_column(String(17), index=True)
    importer_id: Mapped[str] = mapped_column(String(17), index=True)
    issue_datetime: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    hs_edition: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(32))
    submitted_by: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

    items: Mapped[list[DeclarationItemRow]] = relationship(
        back_populates="declaration",
        cascade="all, delete-orphan",
        order_by="DeclarationItemRow.sequence",
        lazy="selectin",
    )


class DeclarationItemRow(Base):
    __tablename__ = "declaration_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    hs_code: Mapped[str] = mapped_column(String(6), index=True)
    origin_country: Mapped[str] = mapped_column(String(2))
    customs_value: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    net_mass_kg: Mapped[Decimal] = mapped_column(Money)
    gross_mass_kg: Mapped[Decimal | None] = mapped_column(Money)
    description: Mapped[str | None] = mapped_column(String(512))

    declaration: Mapped[DeclarationRow] = relationship(back_populates="items")
