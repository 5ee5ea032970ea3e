"""Retention end to end: the raw mail of a contact closed longer than
`[retention] raw_messages_after` is deleted, by the command and by the daily sweep; the
record and the ledger stay, and the ledger still verifies."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.store.models import CheckReply, Contact, Message, OutboxRow, ReplyAttachment

REFERRALS = Path(__file__).parent / "data" / "referrals"
MakeConfig = Callable[..., tuple[Config, Path]]
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
BASE = (sys.executable, "-m", "gateway", "-c")
EXTRA = """
[retention]
raw_messages_after = "30 days"

[[agency]]
id = "police"
name = "Police"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "tls"
dsa_signed = 2025-01-15
"""


def _reply_with_attachment(request: EmailMessage) -> bytes:
    msg = EmailMessage()
    msg["From"] = "police-mash@met.example"
    msg["To"] = str(request["Reply-To"])
    msg["Subject"] = f"RE: {request['Subject']}"
    msg["Message-ID"] = "<reply-1@met.example>"
    msg["In-Reply-To"] = str(request["Message-ID"])
    msg.set_content("Known: one call-out in 2025. Log attached.\n")
    msg.add_attachment(b"call-out log " * 100, maintype="text", subtype="plain", filename="log.txt")
    return msg.as_bytes()


def _second_referral() -> bytes:
    raw = (REFERRALS / "html-form.eml").read_bytes()
    return raw


@pytest.fixture
def world(
    db_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> tuple[Daemon, Path, Dovecot, RecordingSmtp]:
    cfg, path = make_config(db_url=db_url, dovecot=dovecot, smtp=smtp_sink, extra=EXTRA)
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    return daemon, path, dovecot, smtp_sink


def test_retention_deletes_raw_mail_of_old_closed_contacts_and_the_ledger_verifies(
    world: tuple[Daemon, Path, Dovecot, RecordingSmtp],
) -> None:
    daemon, path, dovecot, smtp = world
    clock = daemon.clock
    assert isinstance(clock, FrozenClock)

    def cli(*args: str, at: datetime, code: int = 0) -> str:
        done = subprocess.run(
            [*BASE, str(path), "--now", at.isoformat(), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == code, done.stdout + done.stderr
        return done.stdout

    def run(*arrivals: bytes) -> None:
        for raw in arrivals:
            dovecot.append("mash", raw, arrived=clock.now())
        assert daemon.run_once().mailbox_errors == {}

    # One at a time: the second form looks urgent, and urgent mail is processed first.
    run((REFERRALS / "plain-school.eml").read_bytes())
    run(_second_referral())
    cli(
        "checks", "request", "MASH-2026-000001", "--agency", "police", "--rag", "amber",
        "--context", "Is the household known?", "--by", "Duty Manager", at=START,
    )  # fmt: skip
    run()
    request = message_from_bytes(smtp.messages[-1].data, policy=default)
    assert isinstance(request, EmailMessage) and "MASH check" in str(request["Subject"])
    clock.advance(timedelta(hours=1))
    run(_reply_with_attachment(request))
    cli(
        "decide", "MASH-2026-000001", "--decision", "A", "--by", "Duty Manager",
        "--reason", "Police and school satisfied", at=clock.now(),
    )  # fmt: skip
    closed_at = clock.now()
    run()

    # Within the period nothing goes; a dry run past it says what would, and changes nothing.
    assert "0 contact(s)" in cli("retention", "run", at=closed_at + timedelta(days=29))
    later = closed_at + timedelta(days=31)
    dry = json.loads(cli("retention", "run", "--dry-run", "--json", at=later))
    assert [p["reference"] for p in dry] == ["MASH-2026-000001"]
    assert dry[0]["messages"] == 2 and dry[0]["attachments"] == 1 and dry[0]["sent_mail"] >= 3
    with daemon.db.transaction() as session:
        assert all(m.raw for m in session.execute(select(Message)).scalars())

    done = cli("retention", "run", at=later)
    assert "MASH-2026-000001" in done and "deleted 2 message(s), 1 attachment(s)" in done
    with daemon.db.transaction() as session:
        first, second = session.execute(select(Contact).order_by(Contact.id)).scalars()
        referral = session.get(Message, first.message_id)
        assert referral is not None and referral.raw == b"" and referral.purged_at == later
        assert len(referral.sha256) == 64 and referral.size > 0  # what it was stays
        reply = session.execute(select(CheckReply)).scalar_one()
        assert "one call-out in 2025" in reply.text  # the structured record stays
        attachment = session.execute(select(ReplyAttachment)).scalar_one()
        assert attachment.data == b"" and attachment.size == 1300
        sent = session.execute(
            select(OutboxRow.raw).where(OutboxRow.subject_ref == "MASH-2026-000001")
        ).scalars()
        assert all(raw == b"" for raw in sent)
        # The other contact is open: its mail stays.
        other = session.get(Message, second.message_id)
        assert other is not None and other.raw and first.referral["children"]
        assert first.raw_purged_at == later and second.raw_purged_at is None
    assert "0 contact(s)" in cli("retention", "run", at=later)  # nothing twice
    shown = json.loads(cli("audit", "show", "MASH-2026-000001", "--json", at=later))
    (purge,) = [r for r in shown["timeline"] if r["action"] == "raw-purged"]
    assert purge["kind"] == "retention" and purge["detail"]["attachments"] == 1
    assert {m["sha256"] for m in purge["detail"]["messages"]} >= {referral.sha256}
    assert shown["ledger_intact"] is True
    assert "intact" in cli("audit", "verify", at=later)

    # The daily sweep does the same for the second contact once its period has passed, once.
    cli(
        "decide", "MASH-2026-000002", "--decision", "A", "--by", "Duty Manager",
        "--reason", "No further concern", at=later,
    )  # fmt: skip
    clock.set(later + timedelta(days=31))
    run()
    run()
    with daemon.db.transaction() as session:
        second = session.execute(
            select(Contact).where(Contact.reference == "MASH-2026-000002")
        ).scalar_one()
        assert second.raw_purged_at == clock.now()
        message = session.get(Message, second.message_id)
        assert message is not None and message.raw == b""
    shown = json.loads(cli("audit", "show", "MASH-2026-000002", "--json", at=clock.now()))
    assert [r["action"] for r in shown["timeline"]].count("raw-purged") == 1
    assert "intact" in cli("audit", "verify", at=clock.now())


def test_retention_is_off_unless_configured(sqlite_url: str, make_config: MakeConfig) -> None:
    _cfg, path = make_config(db_url=sqlite_url, dovecot=None, smtp=None)
    done = subprocess.run(
        [*BASE, str(path), "retention", "run"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "retention is off" in done.stdout
