"""scans shared with partners: the scan sent or received, the sender's decision, the result

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import smartcustoms.core.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_When = smartcustoms.core.types.UTCDateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "federation_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("origin_scan_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("container_number", sa.String(length=11), nullable=False),
        sa.Column("declaration_ref", sa.String(length=70), nullable=True),
        sa.Column("sender_machine", sa.String(length=8), nullable=False),
        sa.Column("sender_decision", sa.String(length=24), nullable=True),
        sa.Column("sender_status", sa.String(length=24), nullable=True),
        sa.Column("sender_decided_at", _When, nullable=True),
        sa.Column("sender_regions", _JSON, nullable=False),
        sa.Column("sender_report", _JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("transit_id", sa.Integer(), nullable=True),
        sa.Column("transit_reference", sa.String(length=70), nullable=True),
        sa.Column("shared_at", _When, nullable=False),
        sa.Column("shared_by", sa.String(length=64), nullable=False),
        sa.Column("examined_irregular", sa.Boolean(), nullable=True),
        sa.Column("examined_codes", _JSON, nullable=True),
        sa.Column("examined_regions", _JSON, nullable=True),
        sa.Column("examined_found_kg", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("examined_at", _When, nullable=True),
        sa.Column("examined_by", sa.String(length=64), nullable=True),
        sa.Column("answer_message_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["federation_partners.id"],
            name=op.f("fk_federation_scans_partner_id_federation_partners"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["scan_id"],
            ["scans.id"],
            name=op.f("fk_federation_scans_scan_id_scans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transit_id"],
            ["tracking_transits.id"],
            name=op.f("fk_federation_scans_transit_id_tracking_transits"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_scans")),
        sa.UniqueConstraint(
            "partner_id",
            "direction",
            "origin_scan_id",
            name=op.f("uq_federation_scans_partner_id"),
        ),
    )
    with op.batch_alter_table("federation_scans", schema=None) as batch_op:
        for column in ("scan_id", "partner_id", "container_number"):
            batch_op.create_index(
                batch_op.f(f"ix_federation_scans_{column}"), [column], unique=False
            )


def downgrade() -> None:
    op.drop_table("federation_scans")
