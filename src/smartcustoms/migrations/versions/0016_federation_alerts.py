"""federation: positions queued for forwarding, alerts carried with handed-over transits

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_When = smartcustoms.core.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "federation_forward_queue",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
            nullable=False,
        ),
        sa.Column("transit_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("positions", sa.Text(), nullable=False),
        sa.Column("created_at", _When, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["federation_partners.id"],
            name=op.f("fk_federation_forward_queue_partner_id_federation_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transit_id"], ["tracking_transits.id"],
            name=op.f("fk_federation_forward_queue_transit_id_tracking_transits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_forward_queue")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_federation_forward_queue_transit_id"),
        "federation_forward_queue",
        ["transit_id"],
        unique=False,
    )
    op.create_table(
        "federation_handed_alerts",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("origin_alert_id", sa.Integer(), nullable=False),
        sa.Column("raised_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["tracking_alerts.id"],
            name=op.f("fk_federation_handed_alerts_alert_id_tracking_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["federation_partners.id"],
            name=op.f("fk_federation_handed_alerts_partner_id_federation_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_federation_handed_alerts")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_federation_handed_alerts_partner_id"),
        "federation_handed_alerts",
        ["partner_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_federation_handed_alerts_partner_id"), table_name="federation_handed_alerts"
    )
    op.drop_table("federation_handed_alerts")
    op.drop_index(
        op.f("ix_federation_forward_queue_transit_id"), table_name="federation_forward_queue"
    )
    op.drop_table("federation_forward_queue")
