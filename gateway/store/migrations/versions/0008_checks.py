"""MASH checks: RAG-rated requests to partner agencies, their replies and attachments

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    at = sa.DateTime(timezone=True)
    op.create_table(
        "checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=False),
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("requested_at", at, nullable=False),
        sa.Column("due_at", at, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered_at", at, nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("out_of_office_at", at, nullable=True),
        sa.Column("chase_level", sa.Integer(), nullable=False),
        sa.Column("next_chase_at", at, nullable=True),
        sa.Column("request_message_id", sa.String(length=998), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_checks_contact_id", "checks", ["contact_id"])
    op.create_index("ix_checks_reference", "checks", ["reference"])
    op.create_index("ix_checks_next_chase_at", "checks", ["next_chase_at"])
    op.create_table(
        "check_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("received_at", at, nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("matched_by", sa.String(length=32), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("increased_risk", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_check_replies_check_id", "check_replies", ["check_id"])
    op.create_table(
        "reply_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["reply_id"], ["check_replies.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reply_attachments_reply_id", "reply_attachments", ["reply_id"])


def downgrade() -> None:
    op.drop_table("reply_attachments")
    op.drop_table("check_replies")
    op.drop_table("checks")
