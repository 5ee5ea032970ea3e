"""steering-group reports: a withheld letter's reason category, and indexes the report's
aggregates read alone

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

DECISIONS_REPORT = (
    "decided_at", "kind", "code", "section", "letter", "letter_withheld_category",
    "contact_id", "due_at",
)  # fmt: skip
# Each new index leads with the column of the one it replaces: (new, table, columns, old).
INDEXES = (
    ("ix_decisions_report", "decisions", DECISIONS_REPORT, "ix_decisions_decided_at"),
    ("ix_decisions_contact_at", "decisions", ("contact_id", "decided_at"),
     "ix_decisions_contact_id"),
    ("ix_check_replies_risk", "check_replies", ("check_id", "increased_risk"),
     "ix_check_replies_check_id"),
    ("ix_contact_children_numbered", "contact_children", ("contact_id", "nhs_number"),
     "ix_contact_children_contact_id"),
)  # fmt: skip


def upgrade() -> None:
    # Why an outcome letter was withheld, as one of gateway.domain.withheld.WITHHELD: the
    # report counts letters by it; the manager's words stay in letter_withheld_reason.
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("letter_withheld_category", sa.String(length=32), nullable=True))
    # The report's aggregates read these alone (gateway/store/report_indexes.py); each also
    # serves its foreign key, so the single-column index it starts with goes.
    for name, table, columns, old in INDEXES:
        op.create_index(name, table, list(columns))
        op.drop_index(old, table)
    # The few checks whose replies flagged increased risk, read as one list.
    op.create_index(
        "ix_check_replies_increased",
        "check_replies",
        ["check_id"],
        sqlite_where=sa.text("increased_risk = 1"),
        postgresql_where=sa.text("increased_risk"),
    )


def downgrade() -> None:
    op.drop_index("ix_check_replies_increased", "check_replies")
    for name, table, columns, old in INDEXES:
        op.create_index(old, table, [columns[0]])
        op.drop_index(name, table)
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("letter_withheld_category")
