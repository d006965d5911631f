"""declarations: lodged documents and their goods items

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import smartcustoms.core.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declarant_id", sa.String(length=17), nullable=False),
        sa.Column("lrn", sa.String(length=35), nullable=False),
        sa.Column("mrn", sa.String(length=70), nullable=True),
        sa.Column("function_code", sa.String(length=2), nullable=False),
        sa.Column("type_code", sa.String(length=3), nullable=False),
        sa.Column("office", sa.String(length=17), nullable=False),
        sa.Column("importer_id", sa.String(length=17), nullable=False),
        sa.Column(
            "issue_datetime", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "received_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("hs_edition", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("document", JSONDocument, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declarations")),
        sa.UniqueConstraint("declarant_id", "lrn", name="uq_declarations_declarant_lrn"),
    )
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_declarations_office"), ["office"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_declarations_importer_id"), ["importer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_declarations_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "declaration_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("hs_code", sa.String(length=6), nullable=False),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("customs_value", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("net_mass_kg", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("gross_mass_kg", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("description", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["declaration_id"], ["declarations.id"],
            name=op.f("fk_declaration_items_declaration_id_declarations"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration_items")),
    )  # fmt: skip
    with op.batch_alter_table("declaration_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_declaration_items_declaration_id"), ["declaration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_declaration_items_hs_code"), ["hs_code"], unique=False)


def downgrade() -> None:
    op.drop_table("declaration_items")
    op.drop_table("declarations")
