"""who the referrer is, professionals' disagreements, information requests answered

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    at = sa.DateTime(timezone=True)
    with op.batch_alter_table("contacts") as batch:
        # Contacts made before this revision were judged by the old text guess: unsure.
        kind = sa.Column(
            "referrer_kind", sa.String(length=16), nullable=False, server_default="public"
        )
        batch.add_column(kind)
        batch.add_column(
            sa.Column("referrer_unsure", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("referrer_reasons", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("rfi_answered_at", at, nullable=True))
    op.create_table(
        "disagreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("raised_by", sa.String(length=320), nullable=False),
        sa.Column("raised_at", at, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("respond_by", at, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=320), nullable=True),
        sa.Column("resolved_at", at, nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_disagreements_contact_id", "disagreements", ["contact_id"])
    op.create_index("ix_disagreements_status", "disagreements", ["status"])


def downgrade() -> None:
    op.drop_table("disagreements")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("rfi_answered_at")
        batch.drop_column("referrer_reasons")
        batch.drop_column("referrer_unsure")
        batch.drop_column("referrer_kind")
