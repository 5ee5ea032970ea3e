"""steering-group reports: a withheld letter's reason category

Revision ID: 0021
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Why an outcome letter was withheld, as one of gateway.domain.withheld.WITHHELD: the
    # report counts letters by it; the manager's words stay in letter_withheld_reason.
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("letter_withheld_category", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("letter_withheld_category")
