"""Tracking's tables: devices, positions, corridors and zones, transits, alerts, the live feed.

Layout, and why:

* ``tracking_positions`` is the one high-volume table. It is written only by the ingest writer
  (:mod:`.store`), in batches, with driver-level SQL rather than the ORM. Each row is unique on
  ``(device_id, time, digest)`` where ``digest`` is a stable 63-bit hash of the record's
  content, so a frame the device retransmits (it never saw our acknowledgement) is not stored
  twice, whatever packet it comes back in. That index also serves track replay (a device's
  positions between two times). ``attributes`` is the raw attribute map as JSON text (JSON
  numbers may be NaN in devices' eyes; jsonb would refuse them). No foreign keys: a position
  is kept whether or not the device is registered or on a transit.
* ``tracking_transit_live`` holds what the pipeline knows of each monitored transit (last
  position, whether inside the corridor, rule timers) — written only by the pipeline, so web
  requests changing a transit's lifecycle never contend with it.
* ``tracking_alerts.open_key`` is ``"<transit>:<type>"`` while the alert is not resolved and
  NULL after: a unique column that makes "one open alert per transit and type" hold across
  ingest workers (NULLs never collide on SQLite or PostgreSQL).
* ``tracking_feed`` is the ordered journal of what the command centre sees live (alerts, alert
  steps, transit changes, throttled truck positions). Web processes poll it by id and fan it out
  as server-sent events; ids never go back (AUTOINCREMENT on SQLite), so a browser resumes with
  ``Last-Event-ID``. Old entries are pruned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from smartcustoms.core.orm import Base
from smartcustoms.core.types import UTCDateTime

__all__ = [
    "AlertRow",
    "AlertStepRow",
    "CorridorRow",
    "DeviceRow",
    "FeedRow",
    "PositionRow",
    "TransitLiveRow",
    "TransitRow",
    "TransitStepRow",
    "ZoneRow",
]

# SQLite makes an INTEGER PRIMARY KEY the row id (no second index); PostgreSQL needs 64 bits.
Int64 = BigInteger().with_variant(Integer(), "sqlite")


class DeviceRow(Base):
    """An e-seal, e-lock or tracker the administration knows (registered, or named by a transit)."""

    __tablename__ = "tracking_devices"

    device_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    protocol: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # e-seal, e-lock, tracker
    label: Mapped[str | None] = mapped_column(String(120))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class PositionRow(Base):
    __tablename__ = "tracking_positions"
    __table_args__ = (
        UniqueConstraint("device_id", "time", "digest", name="uq_tracking_positions_key"),
    )

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(32))
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    course: Mapped[float | None] = mapped_column(Float)
    satellites: Mapped[int | None] = mapped_column(SmallInteger)
    valid: Mapped[bool] = mapped_column(Boolean)
    altitude: Mapped[float | None] = mapped_column(Float)
    events: Mapped[str | None] = mapped_column(String(255))  # comma-separated SealEvent values
    attributes: Mapped[str] = mapped_column(Text)  # JSON object
    implausible: Mapped[str | None] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(16))
    digest: Mapped[int] = mapped_column(BigInteger)


class CorridorRow(Base):
    """A gazetted route: its line, the buffer a truck must stay in, and its rule thresholds."""

    __tablename__ = "tracking_corridors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    route: Mapped[dict[str, Any]] = mapped_column(JSON)  # GeoJSON (Multi)LineString, lon/lat
    buffer_m: Mapped[int] = mapped_column(Integer)
    buffer: Mapped[dict[str, Any]] = mapped_column(JSON)  # GeoJSON polygon, lon/lat, computed
    length_km: Mapped[float] = mapped_column(Float)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(64))


class ZoneRow(Base):
    """A place a truck may be: port, customs office, border post, parking yard."""

    __tablename__ = "tracking_zones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)  # GeoJSON polygon, lon/lat
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)  # set for circles
    office: Mapped[str | None] = mapped_column(String(17))  # UN/LOCODE, when it has one
    country: Mapped[str | None] = mapped_column(String(2))
    authorised_stop: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(64))


class TransitRow(Base):
    __tablename__ = "tracking_transits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(70), unique=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declarations.id", ondelete="RESTRICT"), index=True
    )
    device_id: Mapped[str] = mapped_column(String(32), index=True)
    seal_number: Mapped[str | None] = mapped_column(String(35))
    vehicle: Mapped[str] = mapped_column(String(35))
    containers: Mapped[list[str]] = mapped_column(JSON)
    corridor_id: Mapped[int] = mapped_column(ForeignKey("tracking_corridors.id"), index=True)
    origin: Mapped[str] = mapped_column(String(32))  # zone code
    destination: Mapped[str] = mapped_column(String(32))  # zone code
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    responsible: Mapped[str] = mapped_column(String(120))  # administration now in charge
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    armed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # discharged or cancelled
    # Lifecycle changes only (never the pipeline's updates): ingest workers poll it.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Set on a transit a partner administration handed over to us (federation): who handed
    # it in, its reference and id there; ``accepted_*`` once our officer (or the automatic
    # rule) took responsibility. On the origin's side ``guarantee_released_at`` is when the
    # partner's discharge came back and released the guarantee.
    handed_in_from: Mapped[str | None] = mapped_column(String(120))
    origin_reference: Mapped[str | None] = mapped_column(String(70))
    origin_transit_id: Mapped[int | None] = mapped_column(Integer)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    guarantee_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TransitStepRow(Base):
    """One lifecycle step of a transit: created, armed, handed over, discharged, cancelled."""

    __tablename__ = "tracking_transit_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transit_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_transits.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class TransitLiveRow(Base):
    __tablename__ = "tracking_transit_live"

    transit_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_transits.id", ondelete="CASCADE"), primary_key=True
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # frame received
    fix_time: Mapped[datetime | None] = mapped_column(UTCDateTime)  # device time of the fix
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float)
    course: Mapped[float | None] = mapped_column(Float)
    inside_corridor: Mapped[bool | None] = mapped_column(Boolean)
    off_route_m: Mapped[float | None] = mapped_column(Float)
    zone: Mapped[str | None] = mapped_column(String(32))
    battery_level: Mapped[float | None] = mapped_column(Float)
    locked: Mapped[bool | None] = mapped_column(Boolean)
    rule_state: Mapped[dict[str, Any]] = mapped_column(JSON)  # timers and alerted flags
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertRow(Base):
    __tablename__ = "tracking_alerts"
    __table_args__ = (Index("ix_tracking_alerts_status_raised_at", "status", "raised_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transit_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_transits.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    open_key: Mapped[str | None] = mapped_column(String(48), unique=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)  # stored by the pipeline
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the frame that caused it
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)  # device time
    last_occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    assignee: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertStepRow(Base):
    """One step of an alert's workflow, timed (seconds since raised) and attributed."""

    __tablename__ = "tracking_alert_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_alerts.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    elapsed_s: Mapped[float] = mapped_column(Float)
    value: Mapped[str | None] = mapped_column(String(120))  # assignee, team or outcome
    note: Mapped[str | None] = mapped_column(Text)


class FeedRow(Base):
    __tablename__ = "tracking_feed"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 - SQLAlchemy's own form

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    transit_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)  # JSON, sent to browsers as is
