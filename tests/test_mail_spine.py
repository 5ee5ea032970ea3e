"""The mail spine end to end against real Dovecot and a recording SMTP server."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from harness import Running, counts, wait_until
from helpers import auto_reply, plain_message
from sqlalchemy import select

from gateway.clock import FrozenClock, SystemClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.inbound.handlers.spine import default_handlers
from gateway.inbound.pipeline import Decision, StepContext, Work
from gateway.inbound.quarantine import quarantine_release
from gateway.store.models import Message, MessageSource

MAIL = Path(__file__).parent / "data" / "mail"
MakeConfig = Callable[..., tuple[Config, Path]]


def _mixed_corpus(n: int, seed: int) -> list[bytes]:
    """Valid, duplicate, automatic and malformed messages, shuffled."""
    rng = random.Random(seed)
    corpus: list[bytes] = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.1 and corpus:
            corpus.append(rng.choice(corpus))  # an exact duplicate
        elif roll < 0.3:
            corpus.append(auto_reply(seed * 10000 + i))
        elif roll < 0.4:
            corpus.append(b"garbage without headers " + str(i).encode() + b"\x00\xff")
        elif roll < 0.45:
            corpus.append(
                (MAIL / "dsn-postfix.eml")
                .read_bytes()
                .replace(b"dsn-1@", f"dsn-{seed}-{i}@".encode())
            )
        else:
            corpus.append(plain_message(seed * 10000 + i, size=rng.randint(200, 4000)))
    return corpus


def test_500_messages_while_down_and_running(
    db_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    config, _ = make_config(db_url=db_url, dovecot=dovecot, smtp=smtp_sink)
    before = _mixed_corpus(250, seed=1)
    during = _mixed_corpus(250, seed=2)
    client = dovecot.client("mash")
    for raw in before:
        client.append("INBOX", raw)
    daemon = Daemon(config, SystemClock())
    with Running(daemon):
        for raw in during:
            client.append("INBOX", raw)
        wait_until(
            lambda: (
                counts(daemon)["sources"] == 500
                and counts(daemon)["states"].get("pending", 0) == 0
                and dovecot.count("mash") == 0
            ),
            timeout=120,
            what="all 500 ingested, finished and filed",
        )
    client.logout()
    result = counts(daemon)
    distinct = len(set(before + during))
    assert result["sources"] == 500, "every appended message ingested exactly once"
    assert result["messages"] == distinct, "duplicates recognised by content hash"
    assert set(result["states"]) <= {"processed", "quarantined"}
    with daemon.db.transaction() as session:
        held = session.execute(select(Message).where(Message.state == "quarantined")).scalars()
        assert all(m.quarantine_reason for m in held)
        states = session.execute(select(MessageSource.server_state)).scalars().all()
        assert set(states) == {"moved"}
    assert dovecot.count("mash") == 0
    assert dovecot.count("mash", "Processed") + dovecot.count("mash", "Quarantine") == 500
    # Automatic mail is never answered: nothing went out but alerts, and none exist here.
    assert smtp_sink.messages == []


def test_watcher_survives_dovecot_restart_during_idle(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    daemon = Daemon(config, SystemClock())
    with Running(daemon):
        dovecot.append("mash", auto_reply(1))
        wait_until(
            lambda: counts(daemon)["messages"] == 1 and dovecot.count("mash") == 0,
            what="first message in IDLE",
        )
        dovecot.stop()
        # Mail delivered while the IMAP service is down lands in the maildir.
        new = dovecot.maildir("mash") / "new"
        new.mkdir(parents=True, exist_ok=True)
        for i in range(3):
            (new / f"170000000{i}.M1P1.local").write_bytes(auto_reply(100 + i))
        for path in new.iterdir():
            path.chmod(0o666)
        dovecot.start()
        wait_until(
            lambda: counts(daemon)["messages"] == 4 and dovecot.count("mash") == 0,
            timeout=60,
            what="reconnect and catch-up",
        )
    assert counts(daemon)["states"] == {"processed": 4}


def test_uidvalidity_change_does_not_duplicate(
    db_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    config, _ = make_config(db_url=db_url, dovecot=dovecot, smtp=smtp_sink)
    daemon = Daemon(config, SystemClock())
    daemon.prepare()
    for i in range(5):
        dovecot.append("mash", auto_reply(i))
    watcher = daemon.watchers["front-door"]
    assert watcher.run_once() == 5  # ingested, not yet processed: still in INBOX
    old = watcher.uidvalidity
    dovecot.reset_uidvalidity("mash")
    dovecot.append("mash", auto_reply(99))
    report = daemon.run_once()
    assert watcher.uidvalidity != old
    assert report.mailbox_errors == {}
    result = counts(daemon)
    assert result["messages"] == 6, "the five already ingested are not ingested again"
    assert result["states"] == {"processed": 6}
    assert dovecot.count("mash") == 0 and dovecot.count("mash", "Processed") == 6
    alerts = [m for m in smtp_sink.messages if b"renumbered" in m.data]
    assert len(alerts) == 1 and alerts[0].recipients == ("duty.manager@hackney.example",)


def test_failing_step_retried_then_quarantined_on_server(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)

    def broken(work: Work, ctx: StepContext) -> Decision:
        raise RuntimeError("handler bug")

    handlers = {**default_handlers(), "auto_reply": broken}
    daemon = Daemon(config, clock, handlers=handlers)
    daemon.prepare()
    dovecot.append("mash", auto_reply(1))
    dovecot.append("mash", plain_message(2))
    for _attempt in range(3):
        daemon.run_once()
        clock.advance(timedelta(hours=1))
    daemon.run_once()
    with daemon.db.transaction() as session:
        rows = {m.kind: m for m in session.execute(select(Message)).scalars()}
    failed = next(m for m in rows.values() if m.quarantine_reason == "step-failed:handle")
    assert failed.attempts == 3 and "handler bug" in (failed.last_error or "")
    other = next(m for m in rows.values() if m is not failed)
    assert other.quarantine_reason == "unhandled-kind"
    assert dovecot.count("mash") == 0
    assert dovecot.count("mash", "Quarantine") == 2
    # The managers hear of it once, by message and step, never with the error's text.
    (alert,) = [m for m in smtp_sink.messages if b"could not be processed" in m.data]
    assert alert.recipients == ("duty.manager@hackney.example",)
    assert f"message {failed.id}".encode() in alert.data and b"handler bug" not in alert.data
    # Released and failing again three times: still the one alert for this message.
    quarantine_release(daemon.db, failed.id, clock.now(), "test")
    for _attempt in range(4):
        daemon.run_once()
        clock.advance(timedelta(hours=1))
    with daemon.db.transaction() as session:
        again = session.get(Message, failed.id)
        assert again is not None and again.quarantine_reason == "step-failed:handle"
    assert len([m for m in smtp_sink.messages if b"could not be processed" in m.data]) == 1


def test_mailbox_down_alerts_managers_once(
    sqlite_url: str,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
    dovecot: Dovecot,
) -> None:
    dovecot.stop()
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    daemon = Daemon(config, clock)
    daemon.prepare()
    first = daemon.run_once()
    assert "front-door" in first.mailbox_errors
    clock.advance(timedelta(minutes=9))
    daemon.run_once()
    assert smtp_sink.messages == []
    clock.advance(timedelta(minutes=2))
    daemon.run_once()
    clock.advance(timedelta(minutes=5))
    daemon.run_once()
    down = [m for m in smtp_sink.messages if b"unreachable" in m.data]
    assert len(down) == 1
    dovecot.start()
    assert daemon.run_once().mailbox_errors == {}
    from gateway.reports.status import status

    assert status(daemon.db, config, clock.now())["mailboxes"]["front-door"]["error"] is None


def test_server_without_idle_move_or_uidplus_polls_and_copies(
    sqlite_url: str, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    # A plain IMAP4rev1 server: the watcher polls, and files by COPY + \Deleted. Without
    # UIDPLUS it must not EXPUNGE at all (a bare EXPUNGE could remove others' deletions).
    plain = Dovecot(users={"mash": "mash-secret"}, capabilities="IMAP4rev1 LITERAL+")
    plain.start()
    try:
        config, _ = make_config(
            db_url=sqlite_url,
            dovecot=plain,
            smtp=smtp_sink,
            mailbox_extra='poll_interval = "1 seconds"',
        )
        daemon = Daemon(config, SystemClock())
        with Running(daemon):
            plain.append("mash", auto_reply(1))
            wait_until(
                lambda: counts(daemon)["states"].get("processed") == 1,
                what="first message by polling",
            )
            plain.append("mash", plain_message(2))
            wait_until(
                lambda: (
                    counts(daemon)["messages"] == 2
                    and counts(daemon)["states"].get("pending", 0) == 0
                ),
                what="second message by polling",
            )
            wait_until(lambda: plain.count("mash", "Quarantine") == 1, what="filed")
        assert plain.count("mash", "Processed") == 1
        client = plain.client("mash")
        client.select_folder("INBOX")
        # Still present, flagged \Deleted, and never expunged by us.
        assert len(client.search(["DELETED"])) == 2
        assert client.search(["NOT", "DELETED"]) == []
        client.logout()
        assert counts(daemon)["sources"] == 2, "a flagged copy is not ingested again"
    finally:
        plain.cleanup()


def test_a_message_over_the_cap_is_quarantined_from_its_header_alone(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(
        db_url=sqlite_url,
        dovecot=dovecot,
        smtp=smtp_sink,
        extra="[limits]\nmax_message_bytes = 200000\n",
    )
    big = plain_message(1).replace(b"\r\n\r\n", b"\r\n\r\n" + b"x" * 76 + b"\r\n", 1)
    big = big + (b"y" * 76 + b"\r\n") * 4000  # about 310 KB, over the 200 KB cap
    dovecot.append("mash", big)
    dovecot.append("mash", auto_reply(2))
    daemon = Daemon(config, clock)
    daemon.prepare()
    daemon.run_once()
    with daemon.db.transaction() as session:
        held, other = session.execute(select(Message).order_by(Message.id)).scalars()
        assert held.state == "quarantined" and held.quarantine_reason == "too-large"
        assert held.size > 300_000 and len(held.raw) < 2_000  # the header, never the body
        assert held.raw.startswith(b"From:") or b"\nFrom:" in held.raw
        assert b"yyyy" not in held.raw
        assert other.state == "processed"
    assert dovecot.count("mash", "Quarantine") == 1  # the whole message, there for a person
    assert dovecot.count("mash", "Processed") == 1
