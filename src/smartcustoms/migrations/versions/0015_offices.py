"""customs offices: name, UN/LOCODE, time zone, examination capacity

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_When = smartcustoms.core.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("examination_capacity", sa.Integer(), nullable=False),
        sa.Column("created_at", _When, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", _When, nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offices")),
        sa.UniqueConstraint("code", name=op.f("uq_offices_code")),
    )


def downgrade() -> None:
    op.drop_table("offices")
