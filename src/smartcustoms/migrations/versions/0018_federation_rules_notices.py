"""rules offered to partners and received from them; seizure and irregularity notices

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import smartcustoms.core.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_When = smartcustoms.core.types.UTCDateTime(timezone=True)


def _partner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["partner_id"],
        ["federation_partners.id"],
        name=op.f(f"fk_{table}_partner_id_federation_partners"),
        ondelete="RESTRICT",
    )


def _rule_version_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["rule_version_id"],
        ["risk_rule_versions.id"],
        name=op.f(f"fk_{table}_rule_version_id_risk_rule_versions"),
        ondelete="RESTRICT",
    )


def upgrade() -> None:
    op.create_table(
        "federation_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.String(length=36), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("found", sa.String(length=500), nullable=False),
        sa.Column("hs_code", sa.String(length=10), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("concealment", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("published_at", _When, nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("received_at", _When, nullable=True),
        _partner_fk("federation_notices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_notices")),
        sa.UniqueConstraint("origin", "notice_id", name=op.f("uq_federation_notices_origin")),
    )
    with op.batch_alter_table("federation_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_notices_hs_code"), ["hs_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_federation_notices_partner_id"), ["partner_id"], unique=False
        )
    op.create_table(
        "federation_notice_recipients",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["federation_notices.id"],
            name=op.f("fk_federation_notice_recipients_notice_id_federation_notices"),
            ondelete="CASCADE",
        ),
        _partner_fk("federation_notice_recipients"),
        sa.PrimaryKeyConstraint(
            "notice_id", "partner_id", name=op.f("pk_federation_notice_recipients")
        ),
    )
    with op.batch_alter_table("federation_notice_recipients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_notice_recipients_partner_id"), ["partner_id"], unique=False
        )
    op.create_table(
        "federation_rule_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("rule_version_id", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(length=120), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("offered_at", _When, nullable=False),
        sa.Column("offered_by", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("answered_at", _When, nullable=True),
        sa.Column("answer_note", sa.String(length=500), nullable=True),
        _partner_fk("federation_rule_offers"),
        _rule_version_fk("federation_rule_offers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_rule_offers")),
        sa.UniqueConstraint("message_id", name=op.f("uq_federation_rule_offers_message_id")),
    )
    with op.batch_alter_table("federation_rule_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_rule_offers_partner_id"), ["partner_id"], unique=False
        )
    op.create_table(
        "federation_rules_received",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("origin_rule", sa.String(length=120), nullable=False),
        sa.Column("origin_version", sa.Integer(), nullable=False),
        sa.Column("rule_version_id", sa.Integer(), nullable=False),
        sa.Column("received_at", _When, nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("answered_at", _When, nullable=True),
        _partner_fk("federation_rules_received"),
        _rule_version_fk("federation_rules_received"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_rules_received")),
        sa.UniqueConstraint(
            "partner_id", "offer_id", name=op.f("uq_federation_rules_received_partner_id")
        ),
        sa.UniqueConstraint(
            "rule_version_id", name=op.f("uq_federation_rules_received_rule_version_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("federation_rules_received")
    with op.batch_alter_table("federation_rule_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_rule_offers_partner_id"))
    op.drop_table("federation_rule_offers")
    with op.batch_alter_table("federation_notice_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_notice_recipients_partner_id"))
    op.drop_table("federation_notice_recipients")
    with op.batch_alter_table("federation_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_notices_partner_id"))
        batch_op.drop_index(batch_op.f("ix_federation_notices_hs_code"))
    op.drop_table("federation_notices")
