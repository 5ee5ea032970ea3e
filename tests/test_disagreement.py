"""A professional's disagreement by reply: recorded with its words, sent at once to the
managers and the service manager, acknowledged with the route, in the digest, resolved.
Real Dovecot in, aiosmtpd out, the CLI as an operator runs it."""

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
from gateway_dev.localworld.smtpsink import Received, RecordingSmtp
from helpers import plain_message
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.daemon import Daemon
from gateway.domain.decisions import DecisionRequest, record
from gateway.store.models import AuditEvent

REFERRALS = Path(__file__).parent / "data" / "referrals"
MAIL = Path(__file__).parent / "data" / "mail"
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # a Tuesday
TEACHER = "sam.teacher@stjohns-school.example"
SERVICE_MANAGER = "mash.service.manager@hackney.example"
MANAGER = "duty.manager@hackney.example"
EXTRA = f"""
[disagreement]
service_manager = "{SERVICE_MANAGER}"
escalation_policy_url = "https://www.chscp.org.uk/escalation-policy"
respond_within_days = 3
"""


def _text(received: Received) -> str:
    parsed = message_from_bytes(received.data, policy=default)
    body = parsed.get_body(("plain",))
    return f"{parsed['Subject']}\n{body.get_content() if body else ''}"


class Mash:
    def __init__(self, dovecot: Dovecot, smtp: RecordingSmtp, make_config: Any, db: str) -> None:
        self.cfg, self.path = make_config(
            db_url=db,
            dovecot=dovecot,
            smtp=smtp,
            extra=EXTRA,
            gateway_extra='authserv_id = "mx.hackney.example"\n',
        )
        self.dovecot, self.smtp = dovecot, smtp
        self.clock = FrozenClock(START)
        self.daemon = Daemon(self.cfg, self.clock)
        self.daemon.prepare()

    def arrive(self, raw: bytes) -> None:
        self.dovecot.append("mash", raw, arrived=self.clock.now())
        self.daemon.run_once()

    def outcome(self, reference: str) -> None:
        with self.daemon.db.transaction() as session:
            record(
                session,
                self.cfg,
                self.daemon.letters,
                self.clock.now(),
                DecisionRequest(reference, "No role for social care.", "Duty Manager",
                                decision="A", outcome="no-further-action"),
            )
        self.daemon.run_once()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", "-c", str(self.path),
             "--now", self.clock.now().isoformat(), *args],
            capture_output=True, text=True, timeout=120,
        )

    def to(self, address: str) -> list[Received]:
        return [m for m in self.smtp.messages if address in m.recipients]


def _reply_to(letter: Received, sender: str, body: str, number: int) -> bytes:
    parsed = message_from_bytes(letter.data, policy=default)
    return plain_message(
        number,
        sender=sender,
        subject=f"RE: {parsed['Subject']}",
        body=body,
        headers={"In-Reply-To": str(parsed["Message-ID"])},
    )


def test_a_professionals_disagreement_reaches_the_service_manager_and_is_resolved(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: Any
) -> None:
    mash = Mash(dovecot, smtp_sink, make_config, sqlite_url)
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    mash.outcome("MASH-2026-000001")
    letter = mash.to(TEACHER)[-1]
    assert "If you disagree with this decision" in _text(letter)
    mash.clock.advance(timedelta(hours=2))
    words = "I disagree with this decision. Amira told us again today that her father hit her."
    mash.arrive(_reply_to(letter, TEACHER, f"{words}\n\nSam Teacher\n", 90))

    with mash.daemon.db.transaction() as session:
        raised = session.execute(
            select(AuditEvent).where(AuditEvent.action == "disagreement-raised")
        ).scalar_one()
        assert raised.subject_ref == "MASH-2026-000001" and raised.actor == TEACHER
        assert words in json.loads(raised.detail or "{}")["text"]
    (to_reviewers,) = mash.to(SERVICE_MANAGER)
    assert MANAGER in to_reviewers.recipients  # the managers and the service manager, at once
    assert words in _text(to_reviewers) and "RESOLVE" in _text(to_reviewers)
    ack = mash.to(TEACHER)[-1]
    acked = _text(ack)
    assert "We have recorded that you disagree" in acked
    assert "reply to you by Friday 06 March 2026" in acked  # 3 working days
    assert "escalation-policy" in acked and "designated safeguarding lead" in acked
    parsed = message_from_bytes(ack.data, policy=default)
    assert parsed["In-Reply-To"] == "<msg-90@example.org>"  # in the thread of their reply

    digest = mash.cli("digest", "--dry-run")
    assert "Professional disagreements open (1)" in digest.stdout, digest.stdout
    assert "the answer is due in 3 days" in digest.stdout
    listed = json.loads(mash.cli("disagreements", "list", "--open", "--json").stdout)
    assert [(d["reference"], d["raised_by"], d["status"]) for d in listed] == [
        ("MASH-2026-000001", TEACHER, "open")
    ]
    refused = mash.cli("disagreements", "resolve", "MASH-2026-000001", "--outcome", "upheld",
                       "--reason", "x", "--by", "someone else")
    assert refused.returncode == 2 and "Duty Manager" in refused.stderr
    done = mash.cli("disagreements", "resolve", "MASH-2026-000001", "--outcome", "upheld",
                    "--reason", "The new disclosure changes the picture: we will screen again.",
                    "--by", "Duty Manager")
    assert done.returncode == 0, done.stderr
    mash.daemon.run_once()
    told = _text(mash.to(TEACHER)[-1])
    assert "Your disagreement is upheld" in told and "screen again" in told
    assert mash.cli("disagreements", "list", "--open").stdout.strip() == "no disagreements"
    with mash.daemon.db.transaction() as session:
        actions = [e.action for e in session.execute(select(AuditEvent)).scalars()]
    assert "disagreement-resolved" in actions
    assert "Professional disagreements" not in mash.cli("digest", "--dry-run").stdout


def test_explicit_disagree_and_what_is_not_a_disagreement(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: Any
) -> None:
    mash = Mash(dovecot, smtp_sink, make_config, sqlite_url)
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    mash.arrive((MAIL / "person-plain.eml").read_bytes())
    mash.outcome("MASH-2026-000001")
    mash.outcome("MASH-2026-000002")
    school = mash.to(TEACHER)[-1]
    public = [m for m in smtp_sink.messages if "alex.parent@mail.example" in m.recipients][-1]
    # Thanks with a negation: correspondence only.
    mash.arrive(_reply_to(school, TEACHER, "Thanks, noted. No need to escalate.\n", 91))
    # A member of the public disagreeing is not a professional disagreement (their route is
    # the complaints team); it stays correspondence for the digest.
    mash.arrive(_reply_to(public, "alex.parent@mail.example", "I disagree with you.\n", 92))
    assert not mash.to(SERVICE_MANAGER)
    # DISAGREE on the first line, quoting the reference in the subject only.
    mash.arrive(
        plain_message(
            93,
            sender=TEACHER,
            subject="MASH-2026-000001",
            body="DISAGREE\nThe bruising was the third this term.\n",
        )
    )
    (raised,) = mash.to(SERVICE_MANAGER)
    assert "The bruising was the third this term." in _text(raised)


def _command(number: int, reference: str, body: str) -> bytes:
    return plain_message(
        number,
        sender=MANAGER,
        subject=f"Re: {reference}",
        body=body,
        headers={"Authentication-Results": "mx.hackney.example; dmarc=pass "
                 "header.from=hackney.example"},
    )


def test_managers_act_by_email_show_referrer_resolve_answer(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: Any
) -> None:
    mash = Mash(dovecot, smtp_sink, make_config, sqlite_url)
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    mash.arrive(_command(80, "MASH-2026-000001", "SHOW\n"))
    (summary,) = [m for m in mash.to(MANAGER) if "MASH contact summary" in _text(m)]
    shown = _text(summary)
    assert "Children: Amira Okafor (6)" in shown and "Checks" in shown
    assert str(message_from_bytes(summary.data, policy=default)["Subject"]).count(
        "MASH-2026-000001"
    ) == 1
    mash.arrive(_command(81, "MASH-2026-000001", "REFERRER public\n"))
    done = [m for m in mash.to(MANAGER) if "was carried out" in _text(m)]
    assert any("the referrer is public (was professional)" in _text(m) for m in done)
    mash.arrive(_command(82, "MASH-2026-000001", "REFERRER professional\n"))
    mash.outcome("MASH-2026-000001")
    letter = mash.to(TEACHER)[-1]
    mash.arrive(_reply_to(letter, TEACHER, "DISAGREE\nPlease review the decision.\n", 83))
    mash.arrive(_command(84, "MASH-2026-000001", "RESOLVE not-upheld\n"))
    refused = [m for m in mash.to(MANAGER) if "was refused" in _text(m)]
    assert any("Reason:" in _text(m) for m in refused)
    mash.arrive(
        _command(85, "MASH-2026-000001", "RESOLVE not-upheld\nReason: Police know nothing.\n")
    )
    told = _text(mash.to(TEACHER)[-1])
    assert "not upheld" in told and "Police know nothing." in told
    # A stranger's SHOW is not a command at all: never answered with a summary.
    mash.arrive(plain_message(86, sender="someone@elsewhere.example",
                              subject="Re: MASH-2026-000001", body="SHOW\n"))
    assert not [m for m in smtp_sink.messages if "someone@elsewhere.example" in m.recipients]
