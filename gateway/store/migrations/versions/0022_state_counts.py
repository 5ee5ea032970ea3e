"""state counts: messages and outbox rows by state, kept by triggers (gateway/store/counts.py);
an index of the contacts whose referrer a manager should confirm

Revision ID: 0022
Revises: 0021

The triggers append a +1/-1 row to `state_count_deltas` for every insert, delete and change of
state of a message or an outbox row; the existing rows are counted once here. A later migration
that rebuilds `messages` or `outbox` on SQLite (batch mode copies the table) drops its triggers
and must create them again: tests/test_status_counts.py fails if it does not.

The digest's "Referrers to confirm" read every contact (`referrer_unsure AND status NOT IN
(closed ones)`: the unsure closed ones pile up with the years). A partial index holds only the
open unsure ones; the query spells the same predicate with literal values, so that both
planners can prove it implies the index's (gateway/reports/voice.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# The columns whose change moves a row from one count to another.
COUNTED = {"messages": "state, quarantine_reason", "outbox": "state"}


def _reason(table: str, row: str) -> str:
    """The reason a row counts under: a quarantined message's, else ''."""
    if table != "messages":
        return "''"
    prefix = f"{row}." if row else ""
    return (
        f"CASE WHEN {prefix}state = 'quarantined' "
        f"THEN COALESCE({prefix}quarantine_reason, '') ELSE '' END"
    )


def _delta(table: str, row: str, sign: int) -> str:
    return f"('{table}', {row}.state, {_reason(table, row)}, {sign})"


INSERT = "INSERT INTO state_count_deltas (tbl, state, reason, delta) VALUES "


def _sqlite(table: str, columns: str) -> list[str]:
    changed = (
        f"OLD.state IS NOT NEW.state OR ({_reason(table, 'OLD')}) IS NOT ({_reason(table, 'NEW')})"
    )
    return [
        f"CREATE TRIGGER {table}_counted_insert AFTER INSERT ON {table} BEGIN "
        f"{INSERT}{_delta(table, 'NEW', 1)}; END",
        f"CREATE TRIGGER {table}_counted_delete AFTER DELETE ON {table} BEGIN "
        f"{INSERT}{_delta(table, 'OLD', -1)}; END",
        f"CREATE TRIGGER {table}_counted_update AFTER UPDATE OF {columns} ON {table} "
        f"WHEN {changed} BEGIN "
        f"{INSERT}{_delta(table, 'OLD', -1)}, {_delta(table, 'NEW', 1)}; END",
    ]


def _postgres(table: str, columns: str) -> list[str]:
    same = (
        f"OLD.state IS NOT DISTINCT FROM NEW.state AND "
        f"({_reason(table, 'OLD')}) IS NOT DISTINCT FROM ({_reason(table, 'NEW')})"
    )
    return [
        f"""CREATE FUNCTION {table}_counted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                IF {same} THEN
                    RETURN NULL;
                END IF;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {INSERT}{_delta(table, "OLD", -1)};
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') THEN
                {INSERT}{_delta(table, "NEW", 1)};
            END IF;
            RETURN NULL;
        END $$""",
        f"CREATE TRIGGER {table}_counted AFTER INSERT OR DELETE OR UPDATE OF {columns} "
        f"ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_counted()",
    ]


UNSURE_OPEN = "referrer_unsure IS {true} AND status NOT IN ('closed', 'forwarded', 'answered')"


def upgrade() -> None:
    op.create_table(
        "state_counts",
        sa.Column("tbl", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tbl", "state", "reason"),
    )
    op.create_table(
        "state_count_deltas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tbl", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, columns in COUNTED.items():
        # The triggers first: on PostgreSQL creating one locks out writers to the table until
        # this transaction commits, so the count below misses nothing and counts nothing twice.
        for statement in (_postgres if postgres else _sqlite)(table, columns):
            op.execute(statement)
        reason = _reason(table, "")
        op.execute(
            f"INSERT INTO state_counts (tbl, state, reason, n) "
            f"SELECT '{table}', state, {reason}, count(*) FROM {table} "
            "GROUP BY state" + (f", {reason}" if table == "messages" else "")
        )
    where = sa.text(UNSURE_OPEN.format(true="true" if postgres else "1"))
    op.create_index(
        "ix_contacts_referrer_unsure",
        "contacts",
        ["received_at"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_referrer_unsure", table_name="contacts")
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in COUNTED:
        if postgres:
            op.execute(f"DROP TRIGGER {table}_counted ON {table}")
            op.execute(f"DROP FUNCTION {table}_counted()")
        else:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {table}_counted_{event}")
    op.drop_table("state_count_deltas")
    op.drop_table("state_counts")
