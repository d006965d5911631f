"""federation outbox: messages to partners, positions forwarded, transits handed in

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_Int64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_When = smartcustoms.core.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "federation_outbox",
        sa.Column("id", _Int64, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _When, nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("created_at", _When, nullable=False),
        sa.Column("delivered_at", _When, nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["federation_partners.id"],
            name=op.f("fk_federation_outbox_partner_id_federation_partners"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_federation_outbox_message_id")),
    )
    with op.batch_alter_table("federation_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_federation_outbox_partner_state", ["partner_id", "state", "id"], unique=False
        )
    op.create_table(
        "federation_forwarding",
        sa.Column("transit_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("last_position_id", sa.BigInteger(), nullable=False),
        sa.Column("forwarded", sa.BigInteger(), nullable=False),
        sa.Column("started_at", _When, nullable=False),
        sa.Column("ended_at", _When, nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["federation_partners.id"],
            name=op.f("fk_federation_forwarding_partner_id_federation_partners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transit_id"],
            ["tracking_transits.id"],
            name=op.f("fk_federation_forwarding_transit_id_tracking_transits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transit_id", name=op.f("pk_federation_forwarding")),
    )
    with op.batch_alter_table("federation_forwarding", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_forwarding_partner_id"), ["partner_id"], unique=False
        )
    # Added columns only (nullable): SQLite adds them in place, no table rebuild (a rebuild
    # would drop tracking_transits, and with foreign keys on, cascade to its steps and alerts).
    with op.batch_alter_table("tracking_transits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handed_in_from", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("origin_reference", sa.String(length=70), nullable=True))
        batch_op.add_column(sa.Column("origin_transit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("accepted_at", _When, nullable=True))
        batch_op.add_column(sa.Column("accepted_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("guarantee_released_at", _When, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tracking_transits", schema=None) as batch_op:
        batch_op.drop_column("guarantee_released_at")
        batch_op.drop_column("accepted_by")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("origin_transit_id")
        batch_op.drop_column("origin_reference")
        batch_op.drop_column("handed_in_from")
    with op.batch_alter_table("federation_forwarding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_forwarding_partner_id"))
    op.drop_table("federation_forwarding")
    with op.batch_alter_table("federation_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_outbox_partner_state")
    op.drop_table("federation_outbox")
