"""a signed payload remembers what it was bound to; name keys transliterated

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.domain.formats import name_key

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seen_signatures") as batch:
        # The check or contact the signed payload first answered: the same payload bound
        # anywhere else is a replay, and the record says where it belongs.
        batch.add_column(sa.Column("check_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("subject_ref", sa.String(length=32), nullable=True))
    # Open-case keys are now made after transliteration: "Мария Иванова" was the empty key,
    # which matched every other non-Latin name with the same date of birth. Recompute them
    # (the register is replaced whole on each import; this covers the one imported before).
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, given_name, family_name FROM open_cases")).all()
    for row_id, given, family in rows:
        bind.execute(
            sa.text("UPDATE open_cases SET name_key = :key WHERE id = :id"),
            {"key": name_key(given, family), "id": row_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("seen_signatures") as batch:
        batch.drop_column("subject_ref")
        batch.drop_column("check_id")
