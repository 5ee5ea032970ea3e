"""steering-group reports: the clock a C or D decision started, a contact routed at the door,
and indexes by period

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

CHECKS_REPORT = (
    "requested_at", "agency", "rag", "status", "answered_at", "late", "due_at", "chase_level",
    "out_of_office_at",
)  # fmt: skip


def upgrade() -> None:
    # The contact's decision_due_at is cleared by the outcome; the report needs it afterwards
    # to say whether the outcome met the 24-hour (C) or 72-hour (D) clock.
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    # A clock still running is known from the contact: keep it on its latest C or D.
    op.execute(
        """
        UPDATE decisions SET due_at = (
            SELECT contacts.decision_due_at FROM contacts WHERE contacts.id = decisions.contact_id
        )
        WHERE kind = 'decision' AND code IN ('C', 'D') AND id IN (
            SELECT MAX(d.id) FROM decisions d WHERE d.kind = 'decision' GROUP BY d.contact_id
        )
        """
    )
    # Whether the front door sent the contact straight to a unit (an open case, or one closed
    # within 3 months): its status changes later, the report still needs to know.
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("routed_at_door", sa.String(length=16), nullable=True))
    op.execute(
        """
        UPDATE contacts SET routed_at_door = status
        WHERE status IN ('forwarded', 'routed-back') AND NOT EXISTS (
            SELECT 1 FROM decisions WHERE decisions.contact_id = contacts.id
        )
        """
    )
    # Reports count by period: checks requested, decisions made (0011 indexes contacts).
    # The checks' index covers every column the report's aggregate reads, so a borough's
    # quarter is counted from the index alone, without a lookup into the table per check.
    op.create_index("ix_checks_report", "checks", list(CHECKS_REPORT))
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])


def downgrade() -> None:
    op.drop_index("ix_decisions_decided_at", "decisions")
    op.drop_index("ix_checks_report", "checks")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("routed_at_door")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("due_at")
