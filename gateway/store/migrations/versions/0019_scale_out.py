"""several instances: mailbox leases, instance heartbeats, ledger checkpoints

Revision ID: 0019
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    at = sa.DateTime(timezone=True)
    op.create_table(
        "instances",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", at, nullable=False),
        sa.Column("heartbeat_at", at, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "mailbox_leases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("token", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lease_until", at, nullable=False),
        sa.Column("acquired_at", at, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("verified_at", at, nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ledger_checkpoints")
    op.drop_table("mailbox_leases")
    op.drop_table("instances")
