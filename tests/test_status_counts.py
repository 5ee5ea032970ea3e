"""`status` and the metrics read counts kept by triggers, not a count of every row: the counts
stay equal to a full COUNT(*) through every way a state changes, and reading them touches no
row of the history (gateway/store/counts.py says why this design).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from gateway_dev.localworld.smtpsink import RecordingSmtp
from helpers import auto_reply, notice, plain_message
from sqlalchemy import delete, event, func, select, text, update

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.inbound.handlers.spine import default_handlers
from gateway.inbound.ingest import Source, ingest
from gateway.inbound.pipeline import Decision, StepContext, Work
from gateway.inbound.quarantine import quarantine_release
from gateway.outbound.outbox import enqueue
from gateway.reports.status import status
from gateway.store import counts
from gateway.store.db import MIGRATIONS, Database
from gateway.store.models import Message, OutboxRow

MakeConfig = Callable[..., tuple[Config, Path]]
MAIL = Path(__file__).parent / "data" / "mail"
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
REFERRAL = """Child's name: Test Child {n}
Date of birth: 01/02/2015
Address: {n} Mare Street, London E8 1AA
Concern: She said she was hit at home.
Referrer name: A Teacher
Referrer email: teacher{n}@school.example
Referrer role: Designated safeguarding lead
Agency: Hackney Primary
"""


def _ingest(daemon: Daemon, raw: bytes, n: int) -> None:
    ingest(
        daemon.db,
        raw,
        Source(channel="smtp", mailbox="mash", session_id=f"s{n}"),
        received_at=daemon.clock.now(),
        now=daemon.clock.now(),
        role="front-door",
    )


def _full_count(db: Database) -> dict[str, Any]:
    """What status used to compute: every row counted."""
    with db.transaction() as session:
        states = dict(
            session.execute(select(Message.state, func.count()).group_by(Message.state)).all()
        )
        reasons = dict(
            session.execute(
                select(Message.quarantine_reason, func.count())
                .where(Message.state == "quarantined")
                .group_by(Message.quarantine_reason)
            ).all()
        )
        outbox = dict(
            session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state)).all()
        )
    return {
        "messages": states,
        "reasons": {str(k): v for k, v in reasons.items()},
        "outbox": outbox,
    }


def _assert_counts_exact(daemon: Daemon) -> dict[str, Any]:
    full = _full_count(daemon.db)
    got = status(daemon.db, daemon.config, daemon.clock.now())
    states, outbox = full["messages"], full["outbox"]
    assert got["messages"] == {
        "ingested": sum(states.values()),
        "processed": states.get("processed", 0),
        "quarantined": states.get("quarantined", 0),
        "pending": states.get("pending", 0),
    }
    assert got["quarantine_reasons"] == full["reasons"]
    for state in ("sent", "failed", "bounced", "held", "cancelled"):
        assert got["outbox"][state] == outbox.get(state, 0), state
    assert got["outbox"]["pending"] == outbox.get("pending", 0) + outbox.get("sending", 0)
    with daemon.db.transaction() as session:
        kept = counts.current(session)
    assert counts.by_state(kept, "messages") == states
    assert counts.by_state(kept, "outbox") == outbox
    return full


def _failing_handlers() -> dict[str, Any]:
    """The real handlers, but a message saying "fail-me" raises in every one, every time."""

    def wrap(handler: Any) -> Any:
        def handle(work: Work, ctx: StepContext) -> Decision:
            if b"fail-me" in work.raw:
                raise RuntimeError("a handler that keeps failing")
            return handler(work, ctx)  # type: ignore[no-any-return]

        return handle

    return {name: wrap(handler) for name, handler in default_handlers().items()}


def test_counts_equal_a_full_count_through_a_mixed_workload(
    db_url: str, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    config, _ = make_config(db_url=db_url, dovecot=None, smtp=smtp_sink)
    clock = FrozenClock(START)
    daemon = Daemon(config, clock)
    daemon.db.upgrade()
    daemon.prepare()
    daemon.processor.handlers = _failing_handlers()
    _assert_counts_exact(daemon)  # empty

    for i in range(6):
        body = REFERRAL.format(n=i)
        _ingest(daemon, plain_message(i, sender=f"teacher{i}@school.example", body=body), i)
    for i in range(3):
        _ingest(daemon, auto_reply(100 + i), 100 + i)
    _ingest(daemon, (MAIL / "garbage.eml").read_bytes(), 200)
    failing = REFERRAL.format(n=300) + "fail-me\n"
    _ingest(daemon, plain_message(300, sender="teacher300@school.example", body=failing), 300)
    _ingest(
        daemon, plain_message(0, sender="teacher0@school.example", body=REFERRAL.format(n=0)), 0
    )
    _assert_counts_exact(daemon)

    # An instance claims a batch and dies: its claim lapses, the work is done on the next pass,
    # and the dead holder's stale claim, if it wakes, writes nothing.
    stale = daemon.processor._claim(4)
    clock.advance(timedelta(minutes=2))
    daemon.processor.process_due()
    assert daemon.processor._process_batch(stale) == [None] * len(stale)
    _assert_counts_exact(daemon)
    # The failing message is retried with backoff, then quarantined.
    for _ in range(config.gateway.processing_attempts):
        clock.advance(timedelta(hours=2))
        daemon.processor.process_due()
    full = _assert_counts_exact(daemon)
    assert "step-failed:handle" in full["reasons"]

    # Deliveries: one deferred then sent, one refused for good, the rest sent.
    with daemon.db.transaction() as session:
        for i in range(3):
            enqueue(
                session,
                config,
                daemon.letters,
                notice(f"n{i}", (f"o{i}@agency.example",)),
                clock.now(),
            )
    smtp_sink.script(["451 4.3.0 try later", "550 5.1.1 no such user"])
    daemon.sender.flush()
    _assert_counts_exact(daemon)
    counts_folded = daemon.run_jobs()  # the fold-counts sweep among them
    assert counts_folded["fold-counts"] is None
    clock.advance(timedelta(hours=1))
    daemon.sender.flush()
    full = _assert_counts_exact(daemon)
    assert full["outbox"].get("failed") and full["outbox"].get("sent")

    # A bounce for a sent message turns its row to bounced.
    with daemon.db.transaction() as session:
        envelope = session.execute(
            select(OutboxRow.envelope_from).where(OutboxRow.state == "sent").limit(1)
        ).scalar_one()
    dsn = (MAIL / "dsn-postfix.eml").read_bytes()
    _ingest(
        daemon, dsn.replace(b"mash+bounce-7-0123456789@hackney.example", envelope.encode()), 400
    )
    daemon.processor.process_due()
    full = _assert_counts_exact(daemon)
    assert full["outbox"].get("bounced") == 1

    # Released from quarantine: pending again, then processed (or quarantined again).
    with daemon.db.transaction() as session:
        held = (
            session.execute(
                select(Message.id).where(Message.state == "quarantined").order_by(Message.id)
            )
            .scalars()
            .first()
        )
    assert held is not None
    quarantine_release(daemon.db, held, clock.now(), "duty.manager@hackney.example")
    _assert_counts_exact(daemon)
    daemon.processor.process_due()
    _assert_counts_exact(daemon)

    # A transaction that rolls back leaves the counts as they were.
    with pytest.raises(RuntimeError), daemon.db.transaction() as session:
        session.execute(update(Message).values(state="processed"))
        session.execute(update(OutboxRow).values(state="sent"))
        raise RuntimeError("crash before commit")
    _assert_counts_exact(daemon)
    # Whatever code or SQL changes a row is counted: a reason rewritten, a row deleted.
    with daemon.db.transaction() as session:
        session.execute(
            update(Message).where(Message.state == "quarantined").values(quarantine_reason="other")
        )
        session.execute(delete(OutboxRow).where(OutboxRow.state == "failed"))
    _assert_counts_exact(daemon)
    with daemon.db.transaction() as session:
        assert counts.fold(session) > 0
        assert counts.fold(session) == 0
        left = session.execute(text("SELECT count(*) FROM state_count_deltas")).scalar_one()
    assert left == 0
    _assert_counts_exact(daemon)


def test_the_counts_of_an_existing_database_are_taken_when_it_is_migrated(
    db_url: str, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    config, _ = make_config(db_url=db_url, dovecot=None, smtp=smtp_sink)
    daemon = Daemon(config, FrozenClock(START))
    daemon.db.upgrade()
    for i in range(4):
        _ingest(daemon, auto_reply(i), i)
    _ingest(daemon, (MAIL / "garbage.eml").read_bytes(), 9)
    daemon.processor.process_due()
    with daemon.db.engine.begin() as connection:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0019")
    with daemon.db.engine.begin() as connection:  # history written without the triggers
        connection.execute(text("UPDATE messages SET state = 'pending' WHERE id = 1"))
    daemon.db.upgrade()
    full = _assert_counts_exact(daemon)
    assert full["messages"]["pending"] == 1


@contextmanager
def _statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _m: bool) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def test_status_reads_no_row_of_the_history(db_url: str, make_config: MakeConfig) -> None:
    """Every statement status runs is planned without a scan of messages or outbox."""
    config, _ = make_config(db_url=db_url, dovecot=None, smtp=None)
    db = Database(db_url)
    db.upgrade()
    with _statements(db) as seen:
        status(db, config, START)
    assert seen
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.connect() as connection:
        if postgres:
            connection.execute(text("SET enable_seqscan = off"))
        for statement, parameters in seen:
            if "messages" not in statement and "outbox" not in statement:
                continue
            prefix = "EXPLAIN (FORMAT JSON) " if postgres else "EXPLAIN QUERY PLAN "
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            if postgres:
                plan = rows[0][0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                for node in _nodes(plan[0]["Plan"]):
                    if node.get("Relation Name") in ("messages", "outbox"):
                        # An index range, read directly or through a bitmap; never a Seq Scan.
                        assert "Index Cond" in node or "Recheck Cond" in node, (statement, node)
            else:
                detail = " | ".join(str(row[-1]) for row in rows)
                assert "SCAN messages" not in detail and "SCAN outbox" not in detail, (
                    statement,
                    detail,
                )
    db.dispose()
