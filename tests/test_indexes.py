"""Queries that run every tick or every message use an index, on SQLite and on PostgreSQL.

Each statement below is the shape the code runs (the digest, the meeting agenda, the decision
clocks, chasing, bounces); the database's own planner is asked how it would run it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Select, event, select, text
from sqlalchemy.engine import Engine

from gateway.domain.checks.request import OPEN_STATES
from gateway.reports.attention import urgent_query
from gateway.reports.voice import unsure_referrers
from gateway.store.db import Database
from gateway.store.models import AuditEvent, Check, Contact
from gateway.store.report_indexes import INDEXES

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
PARTIAL = {ix.name for ix in INDEXES if ix.dialect_options["sqlite"]["where"] is not None}

QUERIES: dict[str, Callable[[], Select[Any]]] = {
    "bounce: the check a request Message-ID belongs to": lambda: select(Check).where(
        Check.request_message_id == "<check.ABCDEFGH.1@hackney.example>"
    ),
    "digest: open checks due soon": lambda: select(Check)
    .where(Check.status.in_(OPEN_STATES), Check.due_at <= NOW + timedelta(hours=2))
    .order_by(Check.due_at),
    "digest: contacts waiting for a decision": lambda: select(Contact)
    .where(Contact.status == "open", Contact.channel != "rfi")
    .order_by(Contact.received_at),
    "decision clocks: decisions due": lambda: select(Contact)
    .where(Contact.decision_due_at.is_not(None), Contact.decision_due_at <= NOW)
    .order_by(Contact.decision_due_at),
    "digest: incomplete referrals": lambda: select(Contact)
    .where(Contact.incomplete.is_(True), Contact.status == "open")
    .order_by(Contact.received_at),
    "digest: information requests due": lambda: select(Contact)
    .where(
        Contact.channel == "rfi",
        Contact.status == "open",
        Contact.due_at.is_not(None),
        Contact.due_at <= NOW,
    )
    .order_by(Contact.due_at),
    "digest: new correspondence in the ledger": lambda: select(
        AuditEvent.subject_ref, AuditEvent.at
    ).where(AuditEvent.action == "correspondence", AuditEvent.at > NOW - timedelta(hours=4)),
    "meeting agenda: contacts since the last meeting": lambda: select(Contact)
    .where(Contact.received_at <= NOW, Contact.received_at > NOW - timedelta(days=1))
    .order_by(Contact.received_at),
    "digest: referrers to confirm": unsure_referrers,
    "digest: urgent contacts still open": urgent_query,
    "meeting agenda: urgent contacts since the last meeting": lambda: urgent_query(
        NOW - timedelta(days=1)
    ),
    "contacts list --since": lambda: select(Contact).where(
        Contact.received_at >= NOW - timedelta(days=7)
    ),
}


@contextmanager
def _explained(engine: Engine) -> Iterator[None]:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "

    def before(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> tuple[str, Any]:
        return prefix + statement, parameters

    event.listen(engine, "before_cursor_execute", before, retval=True)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _plan(db: Database, query: Select[Any]) -> str:
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":
            # Tables this small are cheaper to scan; the question is whether an index serves.
            connection.execute(text("SET enable_seqscan = off"))
        with _explained(db.engine):
            result = connection.execute(query)
            rows = result.cursor.fetchall() if result.cursor is not None else []
        return "\n".join(" ".join(str(col) for col in row) for row in rows)


def test_referrers_to_confirm_read_only_the_open_unsure_contacts(db_url: str) -> None:
    """The partial index holds only open unsure contacts: the closed ones pile up with years."""
    db = Database(db_url)
    db.upgrade()
    try:
        plan = _plan(db, unsure_referrers())
    finally:
        db.dispose()
    assert "ix_contacts_referrer_unsure" in plan, plan


@pytest.mark.parametrize("name", list(QUERIES))
def test_each_hot_query_uses_an_index(db_url: str, name: str) -> None:
    db = Database(db_url)
    db.upgrade()
    try:
        plan = _plan(db, QUERIES[name]())
    finally:
        db.dispose()
    if db.is_sqlite:
        # SEARCH, not SCAN: reading a whole table in an index's order is a full scan too
        # (the urgent contacts were read so, by ix_contacts_received).
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
        # Scanning a partial index is reading only what it holds (the few it lists).
        scans = [
            line
            for line in plan.splitlines()
            if " SCAN " in f" {line} " and line.split()[-1] not in PARTIAL
        ]
        assert not scans, plan
    else:
        assert "Index" in plan and "Seq Scan" not in plan, plan
