"""An information request answered: in the request's thread, to the agency that asked, the
10-working-day clock stopped, and refused where data-sharing rules do not allow it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.daemon import Daemon
from gateway.store.models import AuditEvent, Contact

REFERRALS = Path(__file__).parent / "data" / "referrals"
START = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)
OFFICER = "pat.officer@probation.example"


def _cli(path: Path, now: datetime, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "-c", str(path), "--now", now.isoformat(), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_information_request_is_answered_in_its_thread_and_its_clock_stops(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: Any,
    tmp_path: Path,
) -> None:
    cfg, path = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    dovecot.append("mash", (REFERRALS / "rfi-probation.eml").read_bytes(), arrived=START)
    stranger = (REFERRALS / "rfi-probation.eml").read_bytes()
    stranger = stranger.replace(OFFICER.encode(), b"someone@mail.example")
    stranger = stranger.replace(b"<rfi-1@probation.example>", b"<rfi-2@mail.example>")
    dovecot.append("mash", stranger, arrived=START)
    daemon.run_once()
    (ack,) = [m for m in smtp_sink.messages if OFFICER in m.recipients]
    acked = message_from_bytes(ack.data, policy=default)
    assert str(acked["Subject"]).startswith("MASH information request received")
    body = acked.get_body(("plain",))
    assert body is not None and "request for information" in body.get_content()
    assert "Thank you for your referral" not in body.get_content()
    later = START + timedelta(days=3)
    due = _cli(path, START + timedelta(days=14), "digest", "--dry-run")
    assert "Information requests due" in due.stdout and "MASH-2026-000001" in due.stdout

    answer = tmp_path / "answer.txt"
    answer.write_text("Kai is not known to children's social care in Hackney.\n", "utf-8")
    refused = _cli(path, later, "rfi", "answer", "MASH-2026-000002", "--file", str(answer),
                   "--by", "Duty Manager")
    assert refused.returncode == 1 and "vouch for" in refused.stderr  # data-sharing rules
    nobody = _cli(path, later, "rfi", "answer", "MASH-2026-000001", "--file", str(answer),
                  "--by", "Someone")
    assert nobody.returncode == 2 and "Duty Manager" in nobody.stderr
    done = _cli(path, later, "rfi", "answer", "MASH-2026-000001", "--file", str(answer),
                "--by", "Duty Manager")
    assert done.returncode == 0, done.stderr
    assert "clock is stopped" in done.stdout
    daemon.clock.set(later)  # type: ignore[attr-defined]
    daemon.run_once()
    sent = [m for m in smtp_sink.messages if OFFICER in m.recipients][-1]
    parsed = message_from_bytes(sent.data, policy=default)
    assert parsed["In-Reply-To"] == "<rfi-1@probation.example>"  # the request's own thread
    text = parsed.get_body(("plain",))
    assert text is not None and "Kai is not known" in text.get_content()
    assert "Data Sharing Agreement" in text.get_content()
    with daemon.db.transaction() as session:
        contact = session.execute(
            select(Contact).where(Contact.reference == "MASH-2026-000001")
        ).scalar_one()
        assert contact.status == "answered" and contact.rfi_answered_at == later
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "rfi-answered")
        ).scalar_one()
        assert event.actor == "Duty Manager <duty.manager@hackney.example>"
        assert json.loads(event.detail or "{}")["late"] is False
    again = _cli(path, later, "rfi", "answer", "MASH-2026-000001", "--file", str(answer),
                 "--by", "Duty Manager")
    assert again.returncode == 1 and "already answered" in again.stderr
    after = _cli(path, START + timedelta(days=14), "digest", "--dry-run")
    assert "MASH-2026-000001" not in after.stdout.split("Information requests due")[-1]


def test_an_information_request_answered_by_a_managers_email(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: Any
) -> None:
    from helpers import plain_message

    cfg, _ = make_config(
        db_url=sqlite_url,
        dovecot=dovecot,
        smtp=smtp_sink,
        gateway_extra='authserv_id = "mx.hackney.example"\n',
    )
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    dovecot.append("mash", (REFERRALS / "rfi-probation.eml").read_bytes(), arrived=START)
    daemon.run_once()
    command = plain_message(
        5,
        sender="duty.manager@hackney.example",
        subject="Re: MASH-2026-000001",
        body="ANSWER\nKai is known to early help only (2024, closed).\n",
        headers={"Authentication-Results": "mx.hackney.example; dmarc=pass "
                 "header.from=hackney.example"},
    )
    dovecot.append("mash", command, arrived=START)
    daemon.run_once()
    sent = [m for m in smtp_sink.messages if OFFICER in m.recipients][-1]
    parsed = message_from_bytes(sent.data, policy=default)
    assert parsed["In-Reply-To"] == "<rfi-1@probation.example>"
    body = parsed.get_body(("plain",))
    assert body is not None and "known to early help only" in body.get_content()
    with daemon.db.transaction() as session:
        contact = session.execute(select(Contact)).scalar_one()
        assert contact.status == "answered"
