"""lane overrides: a proposal to change a declaration's lane, and its approval; expected
selection rates per lane and office

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: every existing decision keeps its original lane as its final one.
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overridden_lane", sa.String(length=8), nullable=True))

    op.create_table(
        "risk_lane_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("original_lane", sa.String(length=8), nullable=False),
        sa.Column("from_lane", sa.String(length=8), nullable=False),
        sa.Column("to_lane", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("open_key", sa.Integer(), nullable=True),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column(
            "proposed_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["risk_decisions.id"],
            name=op.f("fk_risk_lane_overrides_decision_id_risk_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_risk_lane_overrides_declaration_id_declarations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_lane_overrides")),
        sa.UniqueConstraint("open_key", name=op.f("uq_risk_lane_overrides_open_key")),
    )
    with op.batch_alter_table("risk_lane_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_lane_overrides_declaration_id"), ["declaration_id"], unique=False
        )
        batch_op.create_index("ix_risk_lane_overrides_status", ["status", "id"], unique=False)

    op.create_table(
        "risk_expected_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office", sa.String(length=17), nullable=False),
        sa.Column("lane", sa.String(length=8), nullable=False),
        sa.Column("share", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_expected_rates")),
        sa.UniqueConstraint("office", "lane", name=op.f("uq_risk_expected_rates_office")),
    )


def downgrade() -> None:
    op.drop_table("risk_expected_rates")
    with op.batch_alter_table("risk_lane_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_lane_overrides_status")
        batch_op.drop_index(batch_op.f("ix_risk_lane_overrides_declaration_id"))
    op.drop_table("risk_lane_overrides")
    with op.batch_alter_table("risk_decisions", schema=None) as batch_op:
        batch_op.drop_column("overridden_lane")
