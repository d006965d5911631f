"""Stored risk-engine state: trained models, targeting rules and their versions, lane
decisions, and inspection results."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = [
    "InspectionRow",
    "LaneDecisionRow",
    "RiskModelRow",
    "RuleRow",
    "RuleVersionRow",
]

JSONData = JSON().with_variant(JSONB(), "postgresql")


class RiskModelRow(Base):
    """A trained model: its artefact, its card (parameters, fingerprint, figures) and how far
    into the stored history it was trained, so a loaded model can catch up from there."""

    __tablename__ = "risk_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    card: Mapped[dict[str, Any]] = mapped_column(JSONData)
    artefact: Mapped[bytes] = mapped_column(LargeBinary)
    # Declarations with an id above this, and inspections above the next, came after training.
    through_declaration_id: Mapped[int] = mapped_column(Integer)
    through_inspection_id: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_by: Mapped[str | None] = mapped_column(String(64))


class RuleRow(Base):
    """A targeting rule; its text lives in versions, each approved (or not) on its own."""

    __tablename__ = "risk_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))

    versions: Mapped[list[RuleVersionRow]] = relationship(
        back_populates="rule", order_by="RuleVersionRow.version", lazy="selectin"
    )


class RuleVersionRow(Base):
    __tablename__ = "risk_rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version", name="uq_risk_rule_versions_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("risk_rules.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    expression: Mapped[str] = mapped_column(Text)
    lane: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(500))
    instructions: Mapped[str] = mapped_column(String(2000))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # draft → approved | rejected; an approved version is active until a later one is approved
    # or it is retired.
    status: Mapped[str] = mapped_column(String(10))
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(String(500))

    rule: Mapped[RuleRow] = relationship(back_populates="versions", lazy="joined")


class LaneDecisionRow(Base):
    """The lane given to one declaration and everything it was based on."""

    __tablename__ = "risk_decisions"
    __table_args__ = (
        Index("ix_risk_decisions_lane_decided_at", "lane", "decided_at"),
        # The lanes' threshold pool: the latest scores of one model, from the index alone.
        Index("ix_risk_decisions_model_recent", "model_version", "id", "score"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), unique=True
    )
    lane: Mapped[str] = mapped_column(String(8))
    score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    rules_fired: Mapped[list[Any]] = mapped_column(JSONData)
    reasons: Mapped[list[Any]] = mapped_column(JSONData)
    random_control: Mapped[bool] = mapped_column(Boolean)
    exploration: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)

    inspection: Mapped[InspectionRow | None] = relationship(
        back_populates="decision", lazy="selectin", uselist=False
    )


class InspectionRow(Base):
    """What an examination found. Also holds past results imported with history (``source``)."""

    __tablename__ = "risk_inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), unique=True
    )
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("risk_decisions.id", ondelete="SET NULL")
    )
    irregular: Mapped[bool] = mapped_column(Boolean)
    codes: Mapped[list[str]] = mapped_column(JSONData)
    revenue_raised: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    seizure: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    decision: Mapped[LaneDecisionRow | None] = relationship(back_populates="inspection")
