"""tracking: devices, positions, corridors, zones, transits, alerts, the live feed

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracking_corridors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("route", sa.JSON(), nullable=False),
        sa.Column("buffer_m", sa.Integer(), nullable=False),
        sa.Column("buffer", sa.JSON(), nullable=False),
        sa.Column("length_km", sa.Float(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "imported_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_corridors")),
        sa.UniqueConstraint("code", name=op.f("uq_tracking_corridors_code")),
    )
    op.create_table(
        "tracking_devices",
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=True),
        sa.Column(
            "registered_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_tracking_devices")),
    )
    op.create_table(
        "tracking_feed",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("transit_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_feed")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("tracking_feed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracking_feed_at"), ["at"], unique=False)

    op.create_table(
        "tracking_positions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("time", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("course", sa.Float(), nullable=True),
        sa.Column("satellites", sa.SmallInteger(), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("altitude", sa.Float(), nullable=True),
        sa.Column("events", sa.String(length=255), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("implausible", sa.String(length=64), nullable=True),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_positions")),
        sa.UniqueConstraint("device_id", "time", "digest", name="uq_tracking_positions_key"),
    )
    op.create_table(
        "tracking_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.Column("office", sa.String(length=17), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("authorised_stop", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "imported_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_zones")),
        sa.UniqueConstraint("code", name=op.f("uq_tracking_zones_code")),
    )
    op.create_table(
        "tracking_transits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=70), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("seal_number", sa.String(length=35), nullable=True),
        sa.Column("vehicle", sa.String(length=35), nullable=False),
        sa.Column("containers", sa.JSON(), nullable=False),
        sa.Column("corridor_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("deadline", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("responsible", sa.String(length=120), nullable=False),
        sa.Column("created_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("armed_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["corridor_id"],
            ["tracking_corridors.id"],
            name=op.f("fk_tracking_transits_corridor_id_tracking_corridors"),
        ),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_tracking_transits_declaration_id_declarations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_transits")),
        sa.UniqueConstraint("reference", name=op.f("uq_tracking_transits_reference")),
    )
    with op.batch_alter_table("tracking_transits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_transits_changed_at"), ["changed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_transits_corridor_id"), ["corridor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_transits_declaration_id"), ["declaration_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_transits_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tracking_transits_status"), ["status"], unique=False)

    op.create_table(
        "tracking_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transit_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=48), nullable=True),
        sa.Column("raised_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "received_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "occurred_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_occurred_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column(
            "acknowledged_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("resolved_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["transit_id"],
            ["tracking_transits.id"],
            name=op.f("fk_tracking_alerts_transit_id_tracking_transits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_alerts")),
        sa.UniqueConstraint("open_key", name=op.f("uq_tracking_alerts_open_key")),
    )
    with op.batch_alter_table("tracking_alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tracking_alerts_status_raised_at", ["status", "raised_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracking_alerts_transit_id"), ["transit_id"], unique=False
        )

    op.create_table(
        "tracking_transit_live",
        sa.Column("transit_id", sa.Integer(), nullable=False),
        sa.Column(
            "last_seen_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("fix_time", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("course", sa.Float(), nullable=True),
        sa.Column("inside_corridor", sa.Boolean(), nullable=True),
        sa.Column("off_route_m", sa.Float(), nullable=True),
        sa.Column("zone", sa.String(length=32), nullable=True),
        sa.Column("battery_level", sa.Float(), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=True),
        sa.Column("rule_state", sa.JSON(), nullable=False),
        sa.Column("updated_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transit_id"],
            ["tracking_transits.id"],
            name=op.f("fk_tracking_transit_live_transit_id_tracking_transits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transit_id", name=op.f("pk_tracking_transit_live")),
    )
    op.create_table(
        "tracking_transit_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transit_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transit_id"],
            ["tracking_transits.id"],
            name=op.f("fk_tracking_transit_steps_transit_id_tracking_transits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_transit_steps")),
    )
    with op.batch_alter_table("tracking_transit_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_transit_steps_transit_id"), ["transit_id"], unique=False
        )

    op.create_table(
        "tracking_alert_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=False),
        sa.Column("value", sa.String(length=120), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["tracking_alerts.id"],
            name=op.f("fk_tracking_alert_steps_alert_id_tracking_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_alert_steps")),
    )
    with op.batch_alter_table("tracking_alert_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_alert_steps_alert_id"), ["alert_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tracking_alert_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_alert_steps_alert_id"))

    op.drop_table("tracking_alert_steps")
    with op.batch_alter_table("tracking_transit_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_transit_steps_transit_id"))

    op.drop_table("tracking_transit_steps")
    op.drop_table("tracking_transit_live")
    with op.batch_alter_table("tracking_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_alerts_transit_id"))
        batch_op.drop_index("ix_tracking_alerts_status_raised_at")

    op.drop_table("tracking_alerts")
    with op.batch_alter_table("tracking_transits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_transits_status"))
        batch_op.drop_index(batch_op.f("ix_tracking_transits_device_id"))
        batch_op.drop_index(batch_op.f("ix_tracking_transits_declaration_id"))
        batch_op.drop_index(batch_op.f("ix_tracking_transits_corridor_id"))
        batch_op.drop_index(batch_op.f("ix_tracking_transits_changed_at"))

    op.drop_table("tracking_transits")
    op.drop_table("tracking_zones")
    op.drop_table("tracking_positions")
    with op.batch_alter_table("tracking_feed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_feed_at"))

    op.drop_table("tracking_feed")
    op.drop_table("tracking_devices")
    op.drop_table("tracking_corridors")
