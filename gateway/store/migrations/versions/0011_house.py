"""fencing tokens on leases, sweep health, and the indexes every tick and message reads

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_checks_request_message_id", "checks", ["request_message_id"]),
    ("ix_checks_status_due", "checks", ["status", "due_at"]),
    ("ix_contacts_decision_due_at", "contacts", ["decision_due_at"]),
    ("ix_contacts_status_received", "contacts", ["status", "received_at"]),
    ("ix_contacts_received", "contacts", ["received_at"]),
    ("ix_contacts_channel_due", "contacts", ["channel", "due_at"]),
    ("ix_contacts_incomplete", "contacts", ["incomplete", "status"]),
    ("ix_audit_action_at", "audit_events", ["action", "at"]),
)


def upgrade() -> None:
    for table in ("messages", "outbox"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("lease_token", sa.Integer(), nullable=False, server_default="0")
            )
    op.create_table(
        "sweep_health",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_table("sweep_health")
    for table in ("outbox", "messages"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_token")
