"""The outbox sender against a real (recording) SMTP server: retries, failures, TLS policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from helpers import notice
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.outbound.outbox import enqueue
from gateway.store.models import AuditEvent, OutboxRow

MakeConfig = Callable[..., tuple[Config, Path]]


def _queue(
    daemon: Daemon, purpose: str = "test-notice", to: tuple[str, ...] = ("ppd@police.example",)
) -> int:
    mail = notice("test", to, purpose, "MASH-2026-000001")
    with daemon.db.transaction() as session:
        return enqueue(session, daemon.config, daemon.letters, mail, daemon.clock.now()).id


def _row(daemon: Daemon, row_id: int) -> OutboxRow:
    with daemon.db.transaction() as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None
        return row


def _daemon(config: Config, clock: FrozenClock) -> Daemon:
    daemon = Daemon(config, clock)
    daemon.prepare()
    return daemon


def test_451_then_250_delivers_after_retry(
    db_url: str, smtp_sink: RecordingSmtp, make_config: MakeConfig, clock: FrozenClock
) -> None:
    config, _ = make_config(db_url=db_url, dovecot=None, smtp=smtp_sink)
    daemon = _daemon(config, clock)
    row_id = _queue(daemon)
    smtp_sink.script(["451 4.3.0 try later"])
    first = daemon.sender.flush()
    assert (first.sent, first.retried) == (0, 1)
    row = _row(daemon, row_id)
    assert row.state == "pending" and "451" in (row.last_error or "")
    assert daemon.sender.flush().touched == 0, "not due again before its backoff"
    clock.advance(timedelta(minutes=2))
    assert daemon.sender.flush().sent == 1
    row = _row(daemon, row_id)
    assert row.state == "sent" and row.attempts == 2
    (received,) = smtp_sink.messages
    assert received.message_id == row.header_message_id
    assert received.envelope_from == row.envelope_from
    assert received.envelope_from.startswith(f"mash+bounce-{row_id}-")
    assert b"Auto-Submitted: auto-generated" in received.data


def test_550_fails_and_alerts_managers(
    db_url: str, smtp_sink: RecordingSmtp, make_config: MakeConfig, clock: FrozenClock
) -> None:
    config, _ = make_config(db_url=db_url, dovecot=None, smtp=smtp_sink)
    daemon = _daemon(config, clock)
    row_id = _queue(daemon)
    smtp_sink.script(["550 5.1.1 no such user"])
    result = daemon.sender.flush()
    assert result.failed == 1
    assert _row(daemon, row_id).state == "failed"
    (alert,) = smtp_sink.messages
    assert alert.recipients == ("duty.manager@hackney.example",)
    assert b"could not be delivered" in alert.data and b"550 5.1.1" in alert.data
    with daemon.db.transaction() as session:
        actions = [e.action for e in session.execute(select(AuditEvent)).scalars()]
    assert actions.count("mail-failed") == 1 and actions.count("mail-sent") == 1


def test_failed_alert_does_not_alert_about_itself(
    sqlite_url: str, smtp_sink: RecordingSmtp, make_config: MakeConfig, clock: FrozenClock
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=None, smtp=smtp_sink)
    daemon = _daemon(config, clock)
    _queue(daemon, purpose="manager-alert", to=("duty.manager@hackney.example",))
    smtp_sink.default_answer = "550 5.7.1 refused"
    assert daemon.sender.flush().failed == 1
    assert daemon.sender.flush().touched == 0, "no alert loop"


def test_dropped_connection_retried(
    sqlite_url: str, smtp_sink: RecordingSmtp, make_config: MakeConfig, clock: FrozenClock
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=None, smtp=smtp_sink)
    daemon = _daemon(config, clock)
    row_id = _queue(daemon)
    smtp_sink.script(["drop"])
    assert daemon.sender.flush().retried == 1
    clock.advance(timedelta(minutes=5))
    assert daemon.sender.flush().sent == 1
    assert _row(daemon, row_id).state == "sent"
    assert len(smtp_sink.messages) == 1


def test_gives_up_after_max_attempts(
    sqlite_url: str, smtp_sink: RecordingSmtp, make_config: MakeConfig, clock: FrozenClock
) -> None:
    block = f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_sink.port}\ntls = "none"\nmax_attempts = 3\n'
    config, _ = make_config(db_url=sqlite_url, dovecot=None, smtp=smtp_sink, smtp_block=block)
    daemon = _daemon(config, clock)
    row_id = _queue(daemon)
    smtp_sink.default_answer = "421 4.4.2 busy"
    for _ in range(3):
        daemon.sender.flush()
        clock.advance(timedelta(hours=1))
    assert _row(daemon, row_id).state == "failed"


def test_untrusted_certificate_refused_never_sent_in_clear(
    sqlite_url: str, smtp_tls_sink: RecordingSmtp, make_config: MakeConfig, clock: FrozenClock
) -> None:
    block = (
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_tls_sink.port}\ntls = "starttls"\n'
        'timeout = "10 seconds"\n'
    )
    config, _ = make_config(db_url=sqlite_url, dovecot=None, smtp=smtp_tls_sink, smtp_block=block)
    daemon = _daemon(config, clock)
    row_id = _queue(daemon)
    assert daemon.sender.flush().retried == 1
    row = _row(daemon, row_id)
    assert row.state == "pending" and "CERTIFICATE_VERIFY_FAILED" in (row.last_error or "")
    assert smtp_tls_sink.messages == []


def test_trusted_private_ca_delivers_over_starttls(
    sqlite_url: str,
    smtp_tls_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
    ca_file: Path,
) -> None:
    block = (
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_tls_sink.port}\ntls = "starttls"\n'
        f'ca_file = "{ca_file}"\n'
    )
    config, _ = make_config(db_url=sqlite_url, dovecot=None, smtp=smtp_tls_sink, smtp_block=block)
    daemon = _daemon(config, clock)
    _queue(daemon)
    assert daemon.sender.flush().sent == 1
    assert len(smtp_tls_sink.messages) == 1


def test_server_without_starttls_refused(
    sqlite_url: str, smtp_sink: RecordingSmtp, make_config: MakeConfig, clock: FrozenClock
) -> None:
    # tls = "starttls" to a server that does not offer it: nothing is sent in clear.
    block = f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_sink.port}\ntls = "starttls"\n'
    config, _ = make_config(db_url=sqlite_url, dovecot=None, smtp=smtp_sink, smtp_block=block)
    daemon = _daemon(config, clock)
    row_id = _queue(daemon)
    assert daemon.sender.flush().retried == 1
    assert "STARTTLS" in (_row(daemon, row_id).last_error or "")
    assert smtp_sink.messages == []


def test_bounce_maps_back_to_row_through_verp(
    db_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=db_url, dovecot=dovecot, smtp=smtp_sink)
    daemon = _daemon(config, clock)
    row_id = _queue(daemon, to=("gone@agency.example",))
    daemon.sender.flush()
    (sent,) = smtp_sink.messages
    smtp_sink.clear()
    dsn = (Path(__file__).parent / "data" / "mail" / "dsn-postfix.eml").read_bytes()
    dsn = dsn.replace(b"mash+bounce-7-0123456789@hackney.example", sent.envelope_from.encode())
    dovecot.append("mash", dsn)
    forged = dsn.replace(
        sent.envelope_from.encode(), f"mash+bounce-{row_id}-aaaaaaaaaa@hackney.example".encode()
    ).replace(b"dsn-1@", b"dsn-2@")
    dovecot.append("mash", forged)
    daemon.run_once()
    assert _row(daemon, row_id).state == "bounced"
    alerts = [m for m in smtp_sink.messages if b"bounced" in m.data]
    assert len(alerts) == 1, "the forged VERP address (wrong check) matches nothing"
    assert alerts[0].recipients == ("duty.manager@hackney.example",)
    with daemon.db.transaction() as session:
        actions = [e.action for e in session.execute(select(AuditEvent)).scalars()]
    assert actions.count("mail-bounced") == 1 and actions.count("bounce-unmatched") == 1
