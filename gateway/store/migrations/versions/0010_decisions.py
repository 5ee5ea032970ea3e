"""decisions and outcomes on contacts, and the clock for the next one

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    at = sa.DateTime(timezone=True)
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("section", sa.String(length=4), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=320), nullable=False),
        sa.Column("decided_at", at, nullable=False),
        sa.Column("letter", sa.String(length=16), nullable=True),
        sa.Column("letter_withheld_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_decisions_contact_id", "decisions", ["contact_id"])
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("decision_due_at", at, nullable=True))
        batch.add_column(sa.Column("decision_alerted_at", at, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("decision_alerted_at")
        batch.drop_column("decision_due_at")
    op.drop_table("decisions")
