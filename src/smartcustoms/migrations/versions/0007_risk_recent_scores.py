"""risk: index the latest decisions of each model (the lanes' threshold pool)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 21:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Covering: the latest scores of one model are read from the index alone.
    with op.batch_alter_table("risk_decisions") as batch_op:
        batch_op.create_index(
            "ix_risk_decisions_model_recent", ["model_version", "id", "score"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_decisions") as batch_op:
        batch_op.drop_index("ix_risk_decisions_model_recent")
