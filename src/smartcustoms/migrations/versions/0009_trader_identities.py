"""accounts: the trader identities (declarant IDs) each user may act for

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_traders",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("declarant_id", sa.String(length=17), nullable=False),
        sa.Column("granted_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_traders_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "declarant_id", name=op.f("pk_user_traders")),
    )
    with op.batch_alter_table("user_traders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_traders_declarant_id"), ["declarant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("user_traders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_traders_declarant_id"))
    op.drop_table("user_traders")
