"""Leases that cannot be lost mid-work: every claim carries a fencing token checked at commit.

On PostgreSQL, two instances share one database. A holder whose lease ran out while it worked
(a slow batch, a slow SMTP server) must not write over the instance that took the work over:
each message is processed once, and each mail is sent once, but for the one documented
ambiguous point (the SMTP server accepted it; the row changed hands before we recorded it).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gateway_dev.localworld.smtpsink import RecordingSmtp
from helpers import notice, plain_message
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from gateway.clock import FrozenClock
from gateway.config import Config, load_config
from gateway.daemon import Daemon
from gateway.inbound.handlers.spine import default_handlers
from gateway.inbound.ingest import Source, ingest
from gateway.inbound.pipeline import Decision, StepContext, Work
from gateway.outbound.outbox import enqueue
from gateway.outbound.sender import OutboxSender, lease_for
from gateway.outbound.smtp import Delivery
from gateway.store.models import Contact, Message, OutboxRow

MakeConfig = Callable[..., tuple[Config, Path]]
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


def _two(make_config: MakeConfig, url: str, smtp: RecordingSmtp | None) -> tuple[Daemon, Daemon]:
    _config, path = make_config(db_url=url, dovecot=None, smtp=smtp)
    text = path.read_text()
    one = load_config(path)
    path.write_text(text.replace("[gateway]\n", '[gateway]\ninstance = "mash-b"\n', 1))
    two = load_config(path)
    clock = FrozenClock(START)
    first = Daemon(one, clock)
    first.db.upgrade()
    return first, Daemon(two, clock)


def _referrals(daemon: Daemon, n: int) -> None:
    for i in range(n):
        raw = plain_message(
            i, sender=f"teacher{i}@school.example", subject="Referral", body=REFERRAL.format(n=i)
        )
        ingest(
            daemon.db,
            raw,
            Source(channel="smtp", mailbox="mash", session_id=f"s{i}"),
            received_at=START,
            now=START,
            role="front-door",
        )


def _contacts(daemon: Daemon) -> int:
    with daemon.db.transaction() as session:
        return int(session.execute(select(func.count()).select_from(Contact)).scalar_one())


def test_a_lapsed_claim_taken_over_is_never_processed_again(
    fresh_postgres_url: str, make_config: MakeConfig
) -> None:
    a, b = _two(make_config, fresh_postgres_url, None)
    _referrals(a, 6)
    claims = a.processor._claim(10)
    assert len(claims) == 6
    a.clock.advance(timedelta(minutes=2))  # past A's lease: A stalled after claiming

    assert b.processor.process_due() == 6  # B takes the work over and does it
    touched = a.processor._process_batch(claims)  # A wakes up with a stale token

    assert touched == [None] * 6
    assert _contacts(a) == 6
    with a.db.transaction() as session:
        owners = set(session.execute(select(Message.state)).scalars())
    assert owners == {"processed"}


def test_a_batch_slowed_past_its_lease_is_processed_once(
    fresh_postgres_url: str, make_config: MakeConfig
) -> None:
    """While A still works, its rows stay locked: B's claim skips them however late A is."""
    a, b = _two(make_config, fresh_postgres_url, None)
    _referrals(a, 4)
    handlers = default_handlers()
    referral = handlers["referral"]
    stolen: list[int] = []

    def slow_referral(work: Work, ctx: StepContext) -> Decision:
        if not stolen:
            a.clock.advance(timedelta(minutes=10))  # far past the 60 s lease
            other = threading.Thread(target=lambda: stolen.append(b.processor.process_due()))
            other.start()
            other.join(timeout=30)
            assert not other.is_alive(), "B blocked instead of skipping locked rows"
        return referral(work, ctx)

    a.processor.handlers = {**handlers, "referral": slow_referral}
    assert a.processor.process_due() == 4
    assert stolen == [0]
    assert _contacts(a) == 4


class _SlowFirstSend:
    """A transport whose first delivery is slow enough for the row's lease to lapse."""

    def __init__(self, sink: RecordingSmtp, daemon: Daemon, during: Callable[[], None]) -> None:
        self.inner = daemon.sender.transport
        self.daemon = daemon
        self.during = during
        self.calls = 0

    def send(self, envelope_from: str, recipients: list[str], raw: bytes) -> Delivery:
        self.calls += 1
        delivery = self.inner.send(envelope_from, recipients, raw)
        if self.calls == 1:
            self.daemon.clock.advance(lease_for(self.daemon.config) + timedelta(seconds=1))
            self.during()
        return delivery

    def close(self) -> None:
        self.inner.close()


def test_a_sender_whose_lease_lapsed_sends_nothing_more(
    fresh_postgres_url: str, make_config: MakeConfig, smtp_sink: RecordingSmtp
) -> None:
    a, b = _two(make_config, fresh_postgres_url, smtp_sink)
    with a.db.transaction() as session:
        for i in range(8):
            enqueue(
                session, a.config, a.letters, notice(f"n{i}", (f"o{i}@agency.example",)), START
            )
    other: list[int] = []
    slow = _SlowFirstSend(smtp_sink, a, lambda: other.append(b.sender.flush().sent))
    sender = OutboxSender(a.db, a.config, a.clock, slow, a.letters, a.owner)

    mine = sender.flush()

    received = collections.Counter(
        line.split(":", 1)[1].strip()
        for m in smtp_sink.messages
        for line in m.data.decode().splitlines()
        if line.lower().startswith("message-id:")
    )
    assert len(received) == 8, "every mail went out"
    duplicates = sum(n - 1 for n in received.values())
    # Only the row A was sending when its lease lapsed can go twice (accepted, not recorded).
    assert duplicates <= 1, received
    assert slow.calls == 1, "A sent nothing after its claim lapsed"
    assert mine.sent == 0 and other == [8]
    with a.db.transaction() as session:
        states = set(session.execute(select(OutboxRow.state)).scalars())
    assert states == {"sent"}


@pytest.mark.parametrize("attr", ["processor", "sender"])
def test_leases_are_short_so_a_dead_instance_is_taken_over_soon(
    attr: str, make_config: MakeConfig, sqlite_url: str
) -> None:

    config, _ = make_config(db_url=sqlite_url, dovecot=None, smtp=None)
    lease = config.gateway.takeover_after if attr == "processor" else lease_for(config)
    assert lease <= timedelta(minutes=3)


class _FailsFirstRecord(OutboxSender):
    """The first record of a delivery dies as a deadlock's victim would."""

    failed = 0

    def _record(self, session, row_id, token, delivery, result):  # type: ignore[no-untyped-def]
        if not self.failed:
            self.failed += 1
            raise OperationalError("UPDATE outbox", {}, Exception("deadlock detected"))
        super()._record(session, row_id, token, delivery, result)


def test_a_delivery_whose_record_fails_once_is_recorded_not_sent_again(
    db_url: str, make_config: MakeConfig, smtp_sink: RecordingSmtp
) -> None:
    """The server said 250; the transaction recording it was killed (a deadlock's victim). The
    record is tried again, so the message is not sent a second time."""
    config, _ = make_config(db_url=db_url, dovecot=None, smtp=smtp_sink)
    daemon = Daemon(config, FrozenClock(START))
    daemon.db.upgrade()
    with daemon.db.transaction() as session:
        enqueue(session, config, daemon.letters, notice("n1", ("o1@agency.example",)), START)
    sender = _FailsFirstRecord(
        daemon.db, config, daemon.clock, daemon.sender.transport, daemon.letters, daemon.owner
    )
    assert sender.flush().sent == 1 and sender.failed == 1
    assert sender.flush().sent == 0
    assert len(smtp_sink.messages) == 1
    with daemon.db.transaction() as session:
        assert set(session.execute(select(OutboxRow.state)).scalars()) == {"sent"}


def test_a_new_contact_takes_the_ledger_lock_before_its_reference(fresh_postgres_url: str) -> None:
    """Two transactions: one appends to the ledger, then makes a contact (a batch whose first
    message was correspondence); the other makes a contact first. Both take the ledger's head
    before the reference counter, so the second waits for the first instead of deadlocking."""
    from gateway.domain.contacts import allocate_reference
    from gateway.store import ledger
    from gateway.store.db import Database

    db = Database(fresh_postgres_url)
    db.upgrade()
    with db.transaction() as session:
        allocate_reference(session, 2026)  # the counter row and the ledger's head exist
        ledger.append(session, START, ledger.Event(action="contact-created"))
    order: list[str] = []
    first_has_head = threading.Event()

    def ledger_first() -> None:
        with db.transaction() as session:
            ledger.append(session, START, ledger.Event(action="correspondence"))
            first_has_head.set()
            threading.Event().wait(0.5)  # the other transaction starts meanwhile
            order.append(allocate_reference(session, 2026))

    def contact_first() -> None:
        first_has_head.wait(5)
        with db.transaction() as session:
            order.append(allocate_reference(session, 2026))
            ledger.append(session, START, ledger.Event(action="contact-created"))

    threads = [threading.Thread(target=ledger_first), threading.Thread(target=contact_first)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert order == ["MASH-2026-000002", "MASH-2026-000003"]  # no deadlock victim
    db.dispose()

