"""Stored scans: the file's identity and metadata, the machine's report, the analysts' reviews,
the examination result, and the per-heading history of loads found as declared.

The scan file itself is not in the database: it lives in the scan store on disk
(:mod:`smartcustoms.scans.storage`), named by its SHA-256, which the row records.
"""

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
    Numeric,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = ["ExaminationRow", "HistoryLoadRow", "ReviewRow", "ScanRow"]

JSONData = JSON().with_variant(JSONB(), "postgresql")
Kilograms = Numeric(12, 3)


class ScanRow(Base):
    """One received scan of one container, linked to its declaration."""

    __tablename__ = "scans"
    # The review queue: what awaits a decision, flagged first, highest score first.
    __table_args__ = (Index("ix_scans_queue", "status", "priority", "max_score"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # "api", "cli", "demo"
    # The file: its SHA-256 names it in the scan store (and makes a re-sent file the same scan).
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_format: Mapped[str] = mapped_column(String(8))  # "tiff" or "dicos"
    file_name: Mapped[str] = mapped_column(String(255))  # as the scanner named it
    file_bytes: Mapped[int] = mapped_column(Integer)
    separate_sidecar: Mapped[bool] = mapped_column(Boolean)  # a .json stored beside the file
    scanner_id: Mapped[str] = mapped_column(String(64), index=True)
    container_number: Mapped[str] = mapped_column(String(11), index=True)  # ISO 6346
    container_type: Mapped[str | None] = mapped_column(String(4))
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), index=True
    )
    declaration_ref: Mapped[str | None] = mapped_column(String(70))  # as the file names it
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(Integer)
    columns: Mapped[int] = mapped_column(Integer)
    dual_energy: Mapped[bool] = mapped_column(Boolean)
    # What the machine concluded (the full report is in ``report``).
    alarm_decision: Mapped[str] = mapped_column(String(8))  # ALARM, CLEAR, UNKNOWN
    priority: Mapped[int] = mapped_column(Integer)  # 2 ALARM, 1 UNKNOWN, 0 CLEAR
    max_score: Mapped[float] = mapped_column(Float)  # highest finding score, 0 without any
    findings: Mapped[int] = mapped_column(Integer)
    algorithm: Mapped[str] = mapped_column(String(120))
    hs_code: Mapped[str | None] = mapped_column(String(10))  # goods the scan was compared with
    heading: Mapped[str | None] = mapped_column(String(4), index=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSONData)
    # The review workflow: awaiting_review → cleared | awaiting_recheck | awaiting_examination
    # → examined. ``decision`` is the latest effective one (the analyst's or the supervisor's).
    status: Mapped[str] = mapped_column(String(24))
    decision: Mapped[str | None] = mapped_column(String(24))

    reviews: Mapped[list[ReviewRow]] = relationship(
        back_populates="scan", order_by="ReviewRow.id", lazy="selectin"
    )
    examination: Mapped[ExaminationRow | None] = relationship(
        back_populates="scan", lazy="selectin"
    )


class ReviewRow(Base):
    """An image analyst's review, or a supervisor's re-check of it."""

    __tablename__ = "scan_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "review" or "recheck"
    decision: Mapped[str] = mapped_column(String(24))  # clear, suspect, physical_examination
    # Regions the reviewer marked, in image pixels: [{"col0", "row0", "col1", "row1", "label"}].
    regions: Mapped[list[Any]] = mapped_column(JSONData)
    note: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Seconds from opening the scan to deciding, when the review station measured it.
    seconds_open: Mapped[int | None] = mapped_column(Integer)

    scan: Mapped[ScanRow] = relationship(back_populates="reviews")


class ExaminationRow(Base):
    """What the physical examination of the container found: the scan's label."""

    __tablename__ = "scan_examinations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), unique=True)
    irregular: Mapped[bool] = mapped_column(Boolean)
    codes: Mapped[list[Any]] = mapped_column(JSONData)  # what was found (FINDING_CODES)
    # Where it was, in image pixels, when the officer could point at it.
    regions: Mapped[list[Any]] = mapped_column(JSONData)
    found_kg: Mapped[Decimal | None] = mapped_column(Kilograms)  # mass of what was found
    weighed_net_kg: Mapped[Decimal | None] = mapped_column(Kilograms)  # the load, weighed
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    scan: Mapped[ScanRow] = relationship(back_populates="examination")


class HistoryLoadRow(Base):
    """A past scan of an HS heading whose load was found as declared: one point of the heading's
    profile (:class:`smartcustoms.scans.HeadingProfile`), which new scans are compared with."""

    __tablename__ = "scan_history_loads"

    scan_id: Mapped[int] = mapped_column(
        ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True
    )
    heading: Mapped[str] = mapped_column(String(4), index=True)
    median_z: Mapped[float] = mapped_column(Float)
    median_areal_density: Mapped[float] = mapped_column(Float)
    composition_score: Mapped[float] = mapped_column(Float)
    density_score: Mapped[float] = mapped_column(Float)
    basis: Mapped[str] = mapped_column(String(24))  # "cleared" or "examined"
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
