"""consent on contacts, when a contact closed, and the purge of its raw mail

Revision ID: 0014
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    at = sa.DateTime(timezone=True)
    with op.batch_alter_table("contacts") as batch:
        # None: as the form says (read when shown); a manager's record otherwise.
        batch.add_column(sa.Column("consent_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("consent_child", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("consent_override", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("closed_at", at, nullable=True))
        batch.add_column(sa.Column("raw_purged_at", at, nullable=True))
        batch.create_index("ix_contacts_closed_at", ["closed_at"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("purged_at", at, nullable=True))
    # Contacts closed before this revision: closed when their outcome was recorded, or, when
    # forwarded at the front door, when they were created.
    op.execute(
        "UPDATE contacts SET closed_at = (SELECT MAX(decisions.decided_at) FROM decisions "
        "WHERE decisions.contact_id = contacts.id AND decisions.kind = 'outcome') "
        "WHERE status IN ('closed', 'forwarded')"
    )
    op.execute(
        "UPDATE contacts SET closed_at = created_at "
        "WHERE status IN ('closed', 'forwarded') AND closed_at IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("purged_at")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_closed_at")
        batch.drop_column("raw_purged_at")
        batch.drop_column("closed_at")
        batch.drop_column("consent_override")
        batch.drop_column("consent_child")
        batch.drop_column("consent_status")
