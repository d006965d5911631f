"""ledger: idempotency keys of appends that must happen once

The transactional outbox itself is the existing ``ledger_pending`` queue: modules now write
their records there in the same transaction as the change they record.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 08:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_record_keys",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("pending_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ledger_record_keys")),
    )


def downgrade() -> None:
    op.drop_table("ledger_record_keys")
