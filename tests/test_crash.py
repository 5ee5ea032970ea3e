"""Crash injection: SIGKILL the daemon at random moments; nothing is lost or done twice."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from helpers import auto_reply, notice, plain_message
from sqlalchemy import func, select

from gateway.clock import SystemClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.outbound.outbox import enqueue
from gateway.reports.status import status
from gateway.store import ledger
from gateway.store.models import Message, MessageSource, OutboxRow

MAIL = Path(__file__).parent / "data" / "mail"
MakeConfig = Callable[..., tuple[Config, Path]]
SEEDED = 60
TOTAL = 300
KILLS = 5


def _seed_sent_rows(daemon: Daemon, sink: RecordingSmtp) -> list[str]:
    """Rows sent before the run, so that bounces in the run have something to map to."""
    with daemon.db.transaction() as session:
        for i in range(SEEDED):
            enqueue(
                session,
                daemon.config,
                daemon.letters,
                notice(f"notice {i}", (f"officer{i}@agency.example",)),
                daemon.clock.now(),
            )
    assert daemon.sender.flush().sent == SEEDED
    envelopes = [m.envelope_from for m in sink.messages]
    sink.clear()
    return envelopes


def _corpus(envelopes: list[str], rng: random.Random) -> list[bytes]:
    dsn = (MAIL / "dsn-postfix.eml").read_bytes()
    corpus = [
        dsn.replace(b"mash+bounce-7-0123456789@hackney.example", env.encode()).replace(
            b"<dsn-1@", f"<dsn-crash-{i}@".encode()
        )
        for i, env in enumerate(envelopes)
    ]
    for i in range(TOTAL - len(corpus)):
        roll = rng.random()
        if roll < 0.4:
            corpus.append(auto_reply(50_000 + i))
        elif roll < 0.5 and corpus:
            corpus.append(rng.choice(corpus))
        else:
            corpus.append(plain_message(60_000 + i, size=rng.randint(200, 3000)))
    rng.shuffle(corpus)
    return corpus


def _gateway(path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gateway", "-c", str(path), "--log-level", "warning", *args]


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(
    db_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("MASH_CRASH_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    print(f"crash seed {seed} (MASH_CRASH_SEED to replay)")
    config, path = make_config(db_url=db_url, dovecot=dovecot, smtp=smtp_sink)
    daemon = Daemon(config, SystemClock())
    daemon.prepare()
    corpus = _corpus(_seed_sent_rows(daemon, smtp_sink), rng)
    # One delivery is accepted and then the connection dies before the reply is read: the
    # second ambiguous point, which must re-send with the same Message-ID.
    smtp_sink.script(["250 2.0.0 OK"] * rng.randint(0, 20) + ["accept-then-drop"])
    client = dovecot.client("mash")
    log = (tmp_path / "daemon.log").open("ab")
    appended = 0
    for _kill in range(KILLS):
        process = subprocess.Popen(_gateway(path, "run"), stdout=log, stderr=log)
        # Mail keeps arriving through every life of the daemon, so kills land mid-work.
        quota = min(TOTAL, appended + TOTAL // KILLS)
        deadline = time.monotonic() + rng.uniform(1.0, 3.0)
        while time.monotonic() < deadline:
            batch = corpus[appended : min(quota, appended + 3)]
            for raw in batch:
                client.append("INBOX", raw)
            appended += len(batch)
            time.sleep(0.04)
        process.send_signal(signal.SIGKILL)
        process.wait()
        print("after kill", _progress(daemon))
    for raw in corpus[appended:]:
        client.append("INBOX", raw)
    client.logout()
    for attempt in range(5):
        # Later passes run an hour on, so that retries deferred by backoff are due.
        later = (datetime.now(UTC) + timedelta(hours=attempt)).isoformat()
        done = subprocess.run(
            _gateway(path, "--now", later, "run", "--once"), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        if _idle(daemon) and dovecot.count("mash") == 0:
            break
    log.close()

    with daemon.db.transaction() as session:
        sources = session.execute(select(func.count()).select_from(MessageSource)).scalar_one()
        states = dict(
            session.execute(select(Message.state, func.count()).group_by(Message.state)).all()
        )
        unreasoned = session.execute(
            select(func.count())
            .select_from(Message)
            .where(Message.state == "quarantined", Message.quarantine_reason.is_(None))
        ).scalar_one()
        rows = list(session.execute(select(OutboxRow)).scalars())
        problems = ledger.verify(session)
    assert sources == TOTAL, "every appended message ingested exactly once"
    assert sum(states.values()) == len(set(corpus))
    assert set(states) <= {"processed", "quarantined"} and unreasoned == 0
    assert dovecot.count("mash") == 0
    assert dovecot.count("mash", "Processed") + dovecot.count("mash", "Quarantine") == TOTAL
    alerts = [r for r in rows if r.purpose == "manager-alert"]
    assert len(alerts) == SEEDED, "each bounce handled once: one alert each, never two"
    assert all(r.state in ("sent", "bounced") for r in rows), [
        (r.id, r.state, r.last_error) for r in rows if r.state not in ("sent", "bounced")
    ]
    received = collections.Counter(m.message_id for m in smtp_sink.messages)
    for row in alerts:
        assert received[row.header_message_id] >= 1, "every outbox row delivered"
    duplicates = {mid: n for mid, n in received.items() if n > 1}
    # Only the two ambiguous points re-send: a kill between the server's 250 and our record
    # (at most one row per kill) and the accepted-then-dropped delivery.
    assert sum(n - 1 for n in duplicates.values()) <= KILLS + 1, duplicates
    assert problems == []
    # Killed mid-transaction five times: the status counts kept by triggers are still exact.
    snapshot = status(daemon.db, config, daemon.clock.now())
    assert snapshot["messages"]["ingested"] == sum(states.values())
    assert snapshot["messages"]["processed"] == states.get("processed", 0)
    assert snapshot["messages"]["quarantined"] == states.get("quarantined", 0)
    outbox = collections.Counter(r.state for r in rows)
    assert (snapshot["outbox"]["sent"], snapshot["outbox"]["bounced"]) == (
        outbox["sent"],
        outbox["bounced"],
    )


def _idle(daemon: Daemon) -> bool:
    with daemon.db.transaction() as session:
        pending = session.execute(
            select(func.count()).select_from(Message).where(Message.state == "pending")
        ).scalar_one()
        outbox = session.execute(
            select(func.count())
            .select_from(OutboxRow)
            .where(OutboxRow.state.in_(("pending", "sending")))
        ).scalar_one()
    return pending == 0 and outbox == 0


def _progress(daemon: Daemon) -> tuple[int, int, int]:
    with daemon.db.transaction() as session:
        ingested = session.execute(select(func.count()).select_from(MessageSource)).scalar_one()
        finished = session.execute(
            select(func.count()).select_from(Message).where(Message.state != "pending")
        ).scalar_one()
        sent = session.execute(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "sent")
        ).scalar_one()
    return ingested, finished, sent
