"""Stored risk-engine state: trained models, targeting rules and their versions, lane
decisions, lane overrides, expected selection rates, and inspection results."""

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
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = [
    "FINAL_LANE",
    "ExpectedRateRow",
    "InspectionRow",
    "LaneDecisionRow",
    "LaneOverrideRow",
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
    # The lane an approved override put in place of ``lane``, which stays the engine's original
    # decision (its ledger record says the same); NULL while no override was approved.
    overridden_lane: Mapped[str | None] = mapped_column(String(8))

    @property
    def final_lane(self) -> str:
        """The lane the declaration is handled in now: the override's, or the original."""
        return self.overridden_lane or self.lane

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


#: The final lane in SQL: an approved override's lane, else the original decision's.
FINAL_LANE = func.coalesce(LaneDecisionRow.overridden_lane, LaneDecisionRow.lane)


class LaneOverrideRow(Base):
    """A proposal to change a declaration's lane, and what a supervisor decided about it.

    proposed → approved | rejected | withdrawn. ``open_key`` is the declaration's id while the
    proposal is open and NULL once it is closed: a unique column that NULLs do not collide in,
    so the database itself holds one open proposal per declaration.
    """

    __tablename__ = "risk_lane_overrides"
    __table_args__ = (Index("ix_risk_lane_overrides_status", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), index=True
    )
    decision_id: Mapped[int] = mapped_column(ForeignKey("risk_decisions.id", ondelete="CASCADE"))
    original_lane: Mapped[str] = mapped_column(String(8))  # the engine's decision
    from_lane: Mapped[str] = mapped_column(String(8))  # the final lane when proposed
    to_lane: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10))
    open_key: Mapped[int | None] = mapped_column(Integer, unique=True)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))


class ExpectedRateRow(Base):
    """The share of declarations an administration expects in a lane (ASYCUDA's selectivity
    keeps such targets), for every office (``office = '*'``) or one office."""

    __tablename__ = "risk_expected_rates"
    __table_args__ = (UniqueConstraint("office", "lane", name="uq_risk_expected_rates_office"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office: Mapped[str] = mapped_column(String(17))
    lane: Mapped[str] = mapped_column(String(8))
    share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
