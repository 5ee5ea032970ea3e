"""Two instances on one PostgreSQL database: no message processed twice, no row sent twice."""

from __future__ import annotations

import collections
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from harness import Running, counts, wait_until
from helpers import auto_reply, config, notice, plain_message
from sqlalchemy import func, select

from gateway.clock import FrozenClock, SystemClock
from gateway.config import Config, load_config
from gateway.daemon import Daemon
from gateway.domain.checks.chase import chase_due
from gateway.domain.checks.request import Request, request_checks
from gateway.domain.contacts import ContactDraft, store
from gateway.outbound.compose import Letters
from gateway.outbound.outbox import claim_due, enqueue
from gateway.reports.digest import send_digest
from gateway.reports.status import status
from gateway.store.db import Database
from gateway.store.models import AuditEvent, Message, MessageSource, OutboxRow

MakeConfig = Callable[..., tuple[Config, Path]]


def test_two_instances_share_the_work(
    fresh_postgres_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
) -> None:
    _config, path = make_config(db_url=fresh_postgres_url, dovecot=dovecot, smtp=smtp_sink)
    text = path.read_text()
    one = load_config(path)
    path.write_text(text.replace("[gateway]\n", '[gateway]\ninstance = "mash-b"\n', 1))
    two = load_config(path)
    first, second = Daemon(one, SystemClock()), Daemon(two, SystemClock())
    first.db.upgrade()
    with first.db.transaction() as session:
        for i in range(40):
            enqueue(
                session,
                one,
                first.letters,
                notice(f"n{i}", (f"officer{i}@agency.example",)),
                first.clock.now(),
            )
    client = dovecot.client("mash")
    for i in range(150):
        client.append("INBOX", auto_reply(i) if i % 2 else plain_message(i))
    client.logout()
    with Running(first), Running(second):
        wait_until(
            lambda: (
                counts(first)["sources"] == 150
                and counts(first)["states"].get("pending", 0) == 0
                and counts(first)["outbox"].get("pending", 0) == 0
                and dovecot.count("mash") == 0
            ),
            timeout=120,
            what="both instances idle",
        )
    with first.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(Message)).scalar_one() == 150
        assert (
            session.execute(
                select(func.count(func.distinct(MessageSource.source_key)))
            ).scalar_one()
            == 150
        )
        quarantines = (
            session.execute(
                select(AuditEvent.actor).where(AuditEvent.action == "message-quarantined")
            )
            .scalars()
            .all()
        )
        senders = (
            session.execute(select(AuditEvent.actor).where(AuditEvent.action == "mail-sent"))
            .scalars()
            .all()
        )
        rows = list(session.execute(select(OutboxRow)).scalars())
    assert len(quarantines) == 75, "each unhandled message quarantined once, by one instance"
    # Which instance did which share depends on timing; whatever it was, it is on the record.
    assert set(quarantines) | set(senders) <= {"mash-gateway", "mash-b"}
    assert {r.state for r in rows} == {"sent"}
    received = collections.Counter(m.message_id for m in smtp_sink.messages)
    assert len(received) == 40 and set(received.values()) == {1}, "no row sent twice"
    # Both instances changed states and folded the counts at once: status still counts exactly.
    full, snapshot = counts(first), status(first.db, one, first.clock.now())
    assert snapshot["messages"]["ingested"] == full["messages"] == 150
    assert snapshot["messages"]["quarantined"] == full["states"]["quarantined"] == 75
    assert snapshot["outbox"]["sent"] == full["outbox"]["sent"] == len(rows)


def test_concurrent_claims_are_disjoint(
    fresh_postgres_url: str, make_config: MakeConfig, clock: FrozenClock
) -> None:
    """Two transactions claiming at once get different rows (FOR UPDATE SKIP LOCKED)."""
    config, _ = make_config(db_url=fresh_postgres_url, dovecot=None, smtp=None)
    daemon = Daemon(config, clock)
    daemon.db.upgrade()
    with daemon.db.transaction() as session:
        for i in range(10):
            enqueue(
                session,
                config,
                daemon.letters,
                notice(f"n{i}", ("x@agency.example",)),
                clock.now(),
            )
    lease = timedelta(minutes=10)
    with daemon.db.transaction() as a, daemon.db.transaction() as b:
        first = {r.id for r in claim_due(a, clock.now(), "mash-a", lease, 5, True)}
        second = {r.id for r in claim_due(b, clock.now(), "mash-b", lease, 5, True)}
    assert len(first) == len(second) == 5 and not first & second
    with daemon.db.transaction() as session:
        assert claim_due(session, clock.now(), "mash-c", lease, 5, True) == []


def test_chase_and_digest_sweeps_on_two_instances_send_once(fresh_postgres_url: str) -> None:
    cfg = config(
        '\n[digest]\ntimes = ["09:00"]\n'
        '[[agency]]\nid = "police"\ndsa_signed = 2025-01-15\nname = "Police"\n'
        'check_address = "p@met.example"\n'
        'reply_from = ["p@met.example"]\nsecurity = "tls"\n'
    )
    cfg = cfg.model_copy(
        update={"gateway": cfg.gateway.model_copy(update={"database": fresh_postgres_url})}
    )
    start = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    letters = Letters()
    databases = [Database(fresh_postgres_url), Database(fresh_postgres_url)]
    databases[0].upgrade()
    with databases[0].transaction() as session:
        draft = ContactDraft(start, "email", "school", {"children": []}, (), False, False, None)
        reference = store(session, draft, start, None, 2026).reference
        for _ in range(30):
            request_checks(
                session, cfg, letters, start, Request(
                    reference, ("police",), "red", "why",
                    requested_by="duty.manager@hackney.example",
                    consent_override="Urgent concerns; telling the family may raise the risk.",
                )
            )
    clock = FrozenClock(start + timedelta(hours=4, minutes=1))

    def sweep(db: Database) -> tuple[int, int | None]:
        return chase_due(db, cfg, clock, letters), send_digest(db, cfg, clock, letters)

    for _round in range(3):
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(sweep, databases))
    with databases[0].transaction() as session:
        chased = session.execute(
            select(func.count()).where(AuditEvent.action == "check-chased")
        ).scalar_one()
        reminders = session.execute(
            select(func.count()).where(OutboxRow.purpose.like("RED check reminder%"))
        ).scalar_one()
        digests = session.execute(
            select(func.count()).where(OutboxRow.purpose == "managers' digest")
        ).scalar_one()
    assert chased == 30 and reminders == 30, results
    assert digests == 1
    for db in databases:
        db.dispose()
