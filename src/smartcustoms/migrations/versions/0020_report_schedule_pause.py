"""report schedules that can be paused

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from smartcustoms.core.types import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every existing schedule keeps running: only a pause sets the time.
    with op.batch_alter_table("report_schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_schedules", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
