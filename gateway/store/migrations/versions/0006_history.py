"""contact history: children indexed for matching, linked contacts, re-referral flag

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_children",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("date_of_birth", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contact_children_contact_id", "contact_children", ["contact_id"])
    op.create_index("ix_contact_children_nhs_number", "contact_children", ["nhs_number"])
    op.create_index("ix_contact_children_date_of_birth", "contact_children", ["date_of_birth"])
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("linked", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(
            sa.Column("re_referral", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("re_referral")
        batch.drop_column("linked")
    op.drop_table("contact_children")
