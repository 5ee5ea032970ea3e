"""the open-cases register

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=400), nullable=False),
        sa.Column("date_of_birth", sa.String(length=10), nullable=True),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("unit_email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_on", sa.String(length=10), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_open_cases_nhs_number", "open_cases", ["nhs_number"])
    op.create_index("ix_open_cases_name_key", "open_cases", ["name_key"])


def downgrade() -> None:
    op.drop_index("ix_open_cases_name_key", table_name="open_cases")
    op.drop_index("ix_open_cases_nhs_number", table_name="open_cases")
    op.drop_table("open_cases")
