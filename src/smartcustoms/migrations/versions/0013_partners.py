"""partner administrations: the directory, their keys and what they may receive, the nonces seen

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_Int64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_When = smartcustoms.core.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "federation_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("url", sa.String(length=200), nullable=False),
        sa.Column("ledger_vkey", sa.String(length=400), nullable=False),
        sa.Column("witness_vkey", sa.String(length=400), nullable=False),
        sa.Column("request_vkey", sa.String(length=400), nullable=False),
        sa.Column("key_id", sa.String(length=220), nullable=False),
        sa.Column("kinds", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("added_at", _When, nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", _When, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_partners")),
        sa.UniqueConstraint("key_id", name=op.f("uq_federation_partners_key_id")),
        sa.UniqueConstraint("name", name=op.f("uq_federation_partners_name")),
    )
    op.create_table(
        "federation_partner_users",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", _When, nullable=False),
        sa.Column("linked_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["federation_partners.id"],
            name=op.f("fk_federation_partner_users_partner_id_federation_partners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_federation_partner_users_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_federation_partner_users")),
    )
    with op.batch_alter_table("federation_partner_users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_partner_users_partner_id"), ["partner_id"], unique=False
        )
    op.create_table(
        "federation_nonces",
        sa.Column("id", _Int64, autoincrement=True, nullable=False),
        sa.Column("key_id", sa.String(length=220), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", _When, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_nonces")),
        sa.UniqueConstraint("key_id", "nonce", name=op.f("uq_federation_nonces_key_id")),
    )
    with op.batch_alter_table("federation_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_nonces_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "federation_inbox",
        sa.Column("id", _Int64, autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("received_at", _When, nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["federation_partners.id"],
            name=op.f("fk_federation_inbox_partner_id_federation_partners"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_inbox")),
        sa.UniqueConstraint(
            "partner_id", "message_id", name=op.f("uq_federation_inbox_partner_id")
        ),
    )
    with op.batch_alter_table("federation_inbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_federation_inbox_partner_received", ["partner_id", "received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("federation_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_federation_inbox_partner_received")
    op.drop_table("federation_inbox")
    with op.batch_alter_table("federation_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_nonces_expires_at"))
    op.drop_table("federation_nonces")
    with op.batch_alter_table("federation_partner_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_partner_users_partner_id"))
    op.drop_table("federation_partner_users")
    op.drop_table("federation_partners")
