"""notifications: contacts, rules, the notifications with their delivery state, the
escalation watches and the notifier's ledger cursor

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notify_cursor")),
    )
    op.create_table(
        "notify_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("office", sa.String(length=32), nullable=True),
        sa.Column("channels", sa.String(length=16), nullable=False),
        sa.Column("after_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_rules")),
    )
    with op.batch_alter_table("notify_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notify_rules_trigger"), ["trigger"], unique=False)

    op.create_table(
        "notify_watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=96), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("offices", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("fired", sa.JSON(), nullable=False),
        sa.Column("started_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_watches")),
        sa.UniqueConstraint("trigger", "subject", name=op.f("uq_notify_watches_trigger")),
    )
    with op.batch_alter_table("notify_watches", schema=None) as batch_op:
        batch_op.create_index("ix_notify_watches_open", ["closed_at", "started_at"], unique=False)

    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=96), nullable=False),
        sa.Column("dedup", sa.String(length=160), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("created_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "next_attempt_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("sent_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["notify_rules.id"],
            name=op.f("fk_notifications_rule_id_notify_rules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_notifications_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_dedup", ["dedup", "username", "channel", "created_at"], unique=False
        )
        batch_op.create_index("ix_notifications_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_notifications_subject", ["subject", "state"], unique=False)
        batch_op.create_index("ix_notifications_user", ["username", "id"], unique=False)

    op.create_table(
        "notify_contacts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("office", sa.String(length=32), nullable=True),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", smartcustoms.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notify_contacts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notify_contacts")),
    )


def downgrade() -> None:
    op.drop_table("notify_contacts")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user")
        batch_op.drop_index("ix_notifications_subject")
        batch_op.drop_index("ix_notifications_due")
        batch_op.drop_index("ix_notifications_dedup")

    op.drop_table("notifications")
    with op.batch_alter_table("notify_watches", schema=None) as batch_op:
        batch_op.drop_index("ix_notify_watches_open")

    op.drop_table("notify_watches")
    with op.batch_alter_table("notify_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notify_rules_trigger"))

    op.drop_table("notify_rules")
    op.drop_table("notify_cursor")
