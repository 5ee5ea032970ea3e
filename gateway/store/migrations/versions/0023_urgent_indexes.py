"""urgent contacts by index: the digest's open ones, the agenda's recent ones, reasons by time

The digest listed every urgent contact not closed, and the meeting agenda the urgent ones
received or made urgent since the last meeting, by reading every contact in `received_at`
order (`SCAN contacts USING INDEX ix_contacts_received`): 130 ms at 10 borough-years, 650 ms at
100. Two partial indexes hold only urgent contacts (the open ones; all of them, by when they
arrived) and one orders the urgent reasons by when they were found, so each reads only what
it lists. gateway/store/report_indexes.py declares the same (URGENT, URGENT_OPEN).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

URGENT = "urgent IS {true}"
URGENT_OPEN = "urgent IS {true} AND status != 'closed'"


def upgrade() -> None:
    true = "true" if op.get_bind().dialect.name == "postgresql" else "1"
    for name, where in (("ix_contacts_urgent", URGENT), ("ix_contacts_urgent_open", URGENT_OPEN)):
        predicate = text(where.format(true=true))
        op.create_index(
            name, "contacts", ["received_at"], sqlite_where=predicate, postgresql_where=predicate
        )
    op.create_index("ix_urgent_reasons_found_at", "urgent_reasons", ["found_at"])


def downgrade() -> None:
    op.drop_index("ix_urgent_reasons_found_at", table_name="urgent_reasons")
    op.drop_index("ix_contacts_urgent_open", table_name="contacts")
    op.drop_index("ix_contacts_urgent", table_name="contacts")
