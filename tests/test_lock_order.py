"""One lock order on PostgreSQL: a writer takes the ledger's head before any row it updates.

A processing batch appends to the ledger for its first message (taking the head) and then
updates rows for the next: a check a reply answers, a contact, an outbox row a bounce names.
Any other writer that locked such a row first and then wanted the head (a sweep, the sender,
a manager's decision) waited for the batch while the batch waited for it, until PostgreSQL
killed one of them. Each test here holds the head as that batch would, lets the other writer
start, then touches the row: the other writer must wait for the head, and neither is killed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gateway_dev.localworld.smtpsink import RecordingSmtp
from helpers import config, notice
from sqlalchemy import text
from sqlalchemy.orm import Session

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.domain.checks.chase import chase_due
from gateway.domain.checks.request import Request, request_checks
from gateway.domain.contacts import ContactDraft, store
from gateway.domain.decision_clock import alert_overdue_decisions
from gateway.domain.decisions import DecisionRequest, record
from gateway.domain.effects import MarkBounced
from gateway.inbound.apply import Applier
from gateway.outbound.compose import Letters
from gateway.outbound.outbox import claim_due, enqueue
from gateway.outbound.sender import FlushResult
from gateway.outbound.smtp import Delivery
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import Check, Contact, OutboxRow

MakeConfig = Callable[..., tuple[Config, Path]]
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
AGENCY = (
    '[[agency]]\nid = "police"\ndsa_signed = 2025-01-15\nname = "Police"\n'
    'check_address = "p@met.example"\nreply_from = ["p@met.example"]\nsecurity = "tls"\n'
)


def _wait_for_a_lock_wait(db: Database, timeout: float = 5.0) -> None:
    """Until another session of this database waits for a lock (the other writer, behind the
    batch), or TIMEOUT: then the batch goes on to the row, as it would in a real race."""
    pause = threading.Event()
    with db.engine.connect() as connection:
        for _ in range(int(timeout / 0.05)):
            waiting = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )).scalar_one()
            connection.rollback()
            if waiting:
                return
            pause.wait(0.05)


def _race(db: Database, touch: Callable[[Session], None], other: Callable[[], object]) -> object:
    """The batch holds the head, the other writer starts, the batch touches its row and
    commits. The other writer's result; any error either met is raised."""
    errors: list[BaseException] = []
    result: list[object] = []
    batch_has_head = threading.Event()

    def batch() -> None:
        try:
            with db.transaction() as session:
                ledger.append(session, START, ledger.Event(action="correspondence"))
                batch_has_head.set()
                _wait_for_a_lock_wait(db)
                touch(session)
                session.flush()
                ledger.append(session, START, ledger.Event(action="check-reply"))
        except BaseException as exc:  # noqa: BLE001 - raised below
            errors.append(exc)

    def writer() -> None:
        batch_has_head.wait(5)
        try:
            result.append(other())
        except BaseException as exc:  # noqa: BLE001 - raised below
            errors.append(exc)

    threads = [threading.Thread(target=batch), threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if errors:
        raise errors[0]  # a deadlock's victim, on the old order
    return result[0]


@pytest.fixture
def world(fresh_postgres_url: str) -> Iterator[tuple[Database, Config, Letters, str]]:
    cfg = config(AGENCY)
    cfg = cfg.model_copy(
        update={"gateway": cfg.gateway.model_copy(update={"database": fresh_postgres_url})}
    )
    db = Database(fresh_postgres_url)
    db.upgrade()
    letters = Letters()
    with db.transaction() as session:
        draft = ContactDraft(START, "email", "school", {"children": []}, (), False, False, None)
        reference = store(session, draft, START, None, 2026).reference
        ledger.append(session, START, ledger.Event(action="contact-created"))
    yield db, cfg, letters, reference
    db.dispose()


def test_a_chase_waits_for_a_batch_recording_a_reply_to_its_check(
    world: tuple[Database, Config, Letters, str],
) -> None:
    db, cfg, letters, reference = world
    with db.transaction() as session:
        request_checks(session, cfg, letters, START, Request(
            reference, ("police",), "red", "why", requested_by="duty.manager@hackney.example",
            consent_override="Urgent concerns; telling the family may raise the risk.",
        ))
    clock = FrozenClock(START + timedelta(hours=4, minutes=1))

    def reply(session: Session) -> None:
        check = session.query(Check).one()
        check.replies += 1

    # chase_due logs a failed chase and goes on: a victim shows as nothing chased.
    assert _race(db, reply, lambda: chase_due(db, cfg, clock, letters)) == 1


def test_the_decision_clock_waits_for_a_batch_updating_its_contact(
    world: tuple[Database, Config, Letters, str],
) -> None:
    db, cfg, letters, _reference = world
    with db.transaction() as session:
        contact = session.query(Contact).one()
        contact.status = "csc-screening"
        contact.decision_due_at = START - timedelta(hours=1)
    clock = FrozenClock(START)

    def correspondence(session: Session) -> None:
        session.query(Contact).one().daily_meeting = True

    assert _race(db, correspondence, lambda: alert_overdue_decisions(db, cfg, clock, letters)) == 1


def test_a_decision_waits_for_a_batch_updating_its_contact(
    world: tuple[Database, Config, Letters, str],
) -> None:
    db, cfg, letters, reference = world

    def correspondence(session: Session) -> None:
        session.query(Contact).one().daily_meeting = True

    def decide() -> list[str]:
        with db.transaction() as session:
            return record(session, cfg, letters, START, DecisionRequest(
                reference=reference, decision="D", outcome=None, reason="Early help.",
                decided_by="duty.manager@hackney.example",
            ))

    assert _race(db, correspondence, decide)


def test_a_delivery_recorded_while_its_bounce_is_processed(
    fresh_postgres_url: str, make_config: MakeConfig, smtp_sink: RecordingSmtp
) -> None:
    config_, _ = make_config(db_url=fresh_postgres_url, dovecot=None, smtp=smtp_sink)
    daemon = Daemon(config_, FrozenClock(START))
    daemon.db.upgrade()
    db = daemon.db
    with db.transaction() as session:
        enqueue(session, config_, daemon.letters, notice("n1", ("o1@agency.example",)), START)
    with db.transaction() as session:
        (row,) = claim_due(session, START, daemon.owner, timedelta(minutes=2), 1, True)
        row_id, token = row.id, row.lease_token

    def bounce(session: Session) -> None:
        Applier._mark_bounced(session, None, MarkBounced(row_id, "5.1.1"), START)  # type: ignore[arg-type]

    def deliver() -> None:
        with db.transaction() as session:
            daemon.sender._record(session, row_id, token, Delivery("sent", "250 ok"),
                                  FlushResult())

    _race(db, bounce, deliver)
    with db.transaction() as session:
        # The bounce came first; the sender found the row no longer its own and left it.
        assert session.get(OutboxRow, row_id).state == "bounced"  # type: ignore[union-attr]
    db.dispose()
