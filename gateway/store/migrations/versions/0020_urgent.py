"""urgent contacts and their reasons, acknowledged alerts, the order of urgent work

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    at = sa.DateTime(timezone=True)
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("received_by_unit_at", at, nullable=True))
        batch.add_column(sa.Column("received_by_unit", sa.String(length=320), nullable=True))
    # Contacts that alerted before this revision were urgent in all but name.
    op.execute("UPDATE contacts SET urgent = immediate_risk")
    op.execute(
        "UPDATE contacts SET channel = 'police-notification' "
        "WHERE channel = 'police notification'"
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_messages_priority", "messages", ["state", "priority"])
    op.create_table(
        "urgent_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("signal", sa.String(length=32), nullable=False),
        sa.Column("matched", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("found_at", at, nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_urgent_reasons_contact_id", "urgent_reasons", ["contact_id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("raised_at", at, nullable=False),
        sa.Column("out_of_hours", sa.Boolean(), nullable=False),
        sa.Column("edt", sa.Boolean(), nullable=False),
        sa.Column("rung", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", at, nullable=True),
        sa.Column("acknowledged_at", at, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_alerts_next_escalation_at", "alerts", ["next_escalation_at"])
    op.create_index("ix_alerts_reference", "alerts", ["reference"])


def _drop_columns(table: str, *columns: str) -> None:
    """SQLite drops a plain column in place (3.35+): a batch rebuild would drop the table,
    which foreign keys from rows that point at it refuse."""
    if op.get_bind().dialect.name == "sqlite":
        for column in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        return
    for column in columns:
        op.drop_column(table, column)


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("urgent_reasons")
    op.drop_index("ix_messages_priority", "messages")
    _drop_columns("outbox", "priority")
    _drop_columns("messages", "priority")
    op.execute(
        "UPDATE contacts SET channel = 'police notification' "
        "WHERE channel = 'police-notification'"
    )
    _drop_columns("contacts", "received_by_unit", "received_by_unit_at", "urgent")
