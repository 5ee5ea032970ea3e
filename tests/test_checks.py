"""MASH checks end to end through Dovecot and aiosmtpd: requests, replies, chasing, digests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from gateway_dev.demo import _dsn
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import Received, RecordingSmtp
from harness import Running, wait_until
from helpers import config, plain_message
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.domain.checks.request import CheckError, Request, request_checks
from gateway.reports.digest import send_digest
from gateway.store.alert_models import Alert
from gateway.store.models import Check, CheckReply, Message, OutboxRow, ReplyAttachment

REFERRALS = Path(__file__).parent / "data" / "referrals"
MakeConfig = Callable[..., tuple[Config, Path]]
AGENCIES = """
[[agency]]
id = "police"
dsa_signed = 2025-01-15
name = "Police Public Protection Desk"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
escalation_address = "ppd-inspector@met.example"
security = "tls"

[[agency]]
id = "health"
dsa_signed = 2025-01-15
name = "Health MASH team"
check_address = "health-mash@nhs.example"
reply_from = ["*@nhs.example"]
security = "tls"
"""
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # a Tuesday, in hours


def _mail(received: Received) -> EmailMessage:
    message = message_from_bytes(received.data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def _text(received: Received) -> str:
    body = _mail(received).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _reply(
    request: EmailMessage, sender: str, body: str, *, subject: str | None = None, n: int
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = str(request["Reply-To"])
    msg["Subject"] = subject or f"RE: {request['Subject']}"
    msg["Message-ID"] = f"<reply-{n}@partner.example>"
    msg["In-Reply-To"] = str(request["Message-ID"])
    msg.set_content(body)
    return msg.as_bytes()


class World:
    def __init__(self, dovecot: Dovecot, smtp: RecordingSmtp, cfg: Config) -> None:
        self.dovecot, self.smtp = dovecot, smtp
        self.clock = FrozenClock(START)
        self.daemon = Daemon(cfg, self.clock)
        self.daemon.prepare()

    def run(self, *arrivals: bytes) -> None:
        for raw in arrivals:
            self.dovecot.append("mash", raw, arrived=self.clock.now())
        assert self.daemon.run_once().mailbox_errors == {}

    def sent(self, to: str) -> list[Received]:
        return [m for m in self.smtp.messages if to in m.recipients]


@pytest.fixture
def world(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> World:
    cfg, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink, extra=AGENCIES)
    w = World(dovecot, smtp_sink, cfg)
    w.run((REFERRALS / "plain-school.eml").read_bytes())  # MASH-2026-000001
    return w


def _request(world: World, rag: str, *agencies: str) -> list[int]:
    with world.daemon.db.transaction() as session:
        made = request_checks(
            session,
            world.daemon.config,
            world.daemon.letters,
            world.clock.now(),
            Request(
                "MASH-2026-000001",
                agencies,
                rag,
                "Bruising reported by school; is the household known for domestic abuse?",
                ("Any call-outs to the address in the last 12 months?",),
                requested_by="duty.manager@hackney.example",
            ),
        )
        ids = [c.id for c in made]
    world.run()
    return ids


def test_requests_carry_token_context_and_only_identifying_details(world: World) -> None:
    (check_id,) = _request(world, "red", "police")
    (sent,) = world.sent("police-mash@met.example")
    request = _mail(sent)
    with world.daemon.db.transaction() as session:
        check = session.get(Check, check_id)
        assert check is not None
        token = check.token
        assert check.due_at == START + timedelta(hours=4)
    assert str(request["Subject"]) == f"[RED] MASH check MASH-2026-000001 [#{token}]"
    assert str(request["Reply-To"]) == f"mash+{token}@hackney.example"
    assert str(request["Message-ID"]).startswith(f"<check.{token}.")
    text = _text(sent)
    assert "Amira Okafor" in text and "2019-04-03" in text and "9434765919" in text
    assert "is the household known for domestic abuse" in text
    assert "father grabbed her" not in text  # the referral's narrative stays in the MASH


def test_context_is_mandatory_and_agencies_must_exist(world: World) -> None:
    with world.daemon.db.transaction() as session:
        for request, message in (
            (Request("MASH-2026-000001", ("police",), "red", "  "), "why the information"),
            (Request("MASH-2026-000001", ("fire",), "red", "x"), "unknown agency fire"),
            (Request("MASH-2026-000999", ("police",), "red", "x"), "no contact"),
        ):
            with pytest.raises(CheckError, match=message):
                request_checks(session, world.daemon.config, world.daemon.letters, START, request)


def test_replies_are_matched_split_verified_by_sender_and_complete_the_checks(
    world: World,
) -> None:
    police_id, health_id = _request(world, "amber", "police", "health")
    police_req = _mail(world.sent("police-mash@met.example")[0])
    health_req = _mail(world.sent("health-mash@nhs.example")[0])
    world.clock.advance(timedelta(hours=1))

    # A spoofed display name from another address: held for a manager, not attached.
    spoof = _reply(police_req, '"police-mash@met.example" <evil@example.org>', "Nothing.", n=1)
    # Outlook top-posting with the request quoted below.
    outlook = _reply(
        police_req,
        "police-mash@met.example",
        "One call-out in 2025, domestic incident.\n\nPC Officer\n\n"
        "-----Original Message-----\nFrom: mash@hackney.example\nSent: 03 March 2026\n"
        "Subject: request\n\nWhy we need this information: ...\n",
        n=2,
    )
    world.run(spoof, outlook)
    with world.daemon.db.transaction() as session:
        police = session.get(Check, police_id)
        assert police is not None and police.status == "answered" and not police.late
        (reply,) = session.execute(select(CheckReply)).scalars()
        assert reply.text == "One call-out in 2025, domestic incident.\n\nPC Officer"
        assert reply.matched_by == "message-id" and reply.verified is False
        (held,) = session.execute(select(Message).where(Message.state == "quarantined")).scalars()
        assert held.quarantine_reason == "triage:sender"
    alerts = [_mail(m) for m in world.sent("duty.manager@hackney.example")]
    assert any("needs a person" in str(a["Subject"]) for a in alerts)

    # Health: an out-of-office first (recorded, not an answer), then a late reply by subject
    # tag only from another address at the NHS domain, flagging increased risk, with a file.
    ooo = plain_message(
        3,
        sender="health-mash@nhs.example",
        subject=f"Automatic reply: {health_req['Subject']}",
        headers={"Auto-Submitted": "auto-replied"},
    )
    world.run(ooo)
    world.clock.advance(timedelta(hours=30))  # past AMBER's 24 hours
    late = EmailMessage()
    late["From"] = "nurse.lee@nhs.example"
    late["To"] = "mash@hackney.example"
    tag = re.search(r"\[#\w+\]", str(health_req["Subject"]))
    assert tag is not None
    late["Subject"] = f"answer {tag.group(0)}"
    late.set_content("RISK: INCREASED\nMother disclosed a new partner with a DV history.\n")
    late.add_attachment(
        b"%PDF-1.4 chronology", maintype="application", subtype="pdf", filename="chronology.pdf"
    )
    world.run(late.as_bytes())
    with world.daemon.db.transaction() as session:
        health = session.get(Check, health_id)
        assert health is not None and health.status == "answered" and health.late
        assert health.out_of_office_at is not None
        reply = session.execute(
            select(CheckReply).where(CheckReply.check_id == health_id)
        ).scalar_one()
        assert reply.increased_risk and reply.matched_by == "subject tag"
        (attachment,) = session.execute(select(ReplyAttachment)).scalars()
        assert attachment.filename == "chronology.pdf" and attachment.data.startswith(b"%PDF")
    subjects = [str(_mail(m)["Subject"]) for m in world.sent("duty.manager@hackney.example")]
    assert any("increased risk reported on MASH-2026-000001" in s for s in subjects)
    assert any("checks complete for MASH-2026-000001" in s for s in subjects)


def test_red_out_of_office_alerts_and_a_bounce_marks_the_check_undeliverable(
    world: World,
) -> None:
    (check_id,) = _request(world, "red", "police")
    request = _mail(world.sent("police-mash@met.example")[0])
    ooo = _reply(request, "police-mash@met.example", "I am out of the office until Monday.", n=7)
    ooo = ooo.replace(b"From:", b"Auto-Submitted: auto-replied\nFrom:", 1)
    world.run(ooo)
    (alert,) = world.sent("duty.manager@hackney.example")
    assert "automatic reply" in str(_mail(alert)["Subject"])
    assert "out of the office until Monday" in _text(alert)
    with world.daemon.db.transaction() as session:
        check = session.get(Check, check_id)
        assert check is not None and check.status == "pending" and check.out_of_office_at

    # The request then bounces (a DSN to its VERP address): undeliverable, managers told.
    world.run(_dsn(world.sent("police-mash@met.example")[0], "police-mash@met.example"))
    with world.daemon.db.transaction() as session:
        check = session.get(Check, check_id)
        assert check is not None and check.status == "undeliverable"
        assert check.next_chase_at is None  # nothing left to chase
    subjects = [str(_mail(m)["Subject"]) for m in world.sent("duty.manager@hackney.example")]
    assert any("bounced" in s for s in subjects)


def test_a_delayed_or_unclassifiable_return_never_marks_the_check_undeliverable(
    world: World,
) -> None:
    (check_id,) = _request(world, "amber", "police")
    request = world.sent("police-mash@met.example")[0]
    delayed = _dsn(request, "police-mash@met.example").replace(
        b"Action: failed\r\nStatus: 5.1.1", b"Action: delayed\r\nStatus: 4.4.1"
    )
    world.run(delayed)
    # A report that names no recipient and no status: a person is told, nothing is guessed.
    returned = (
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.met.example\r\n"
        f"To: {request.envelope_from}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <returned-1@mx.met.example>\r\n\r\n"
        "This is the mail system. Your message was returned.\r\n\r\n"
        f"Message-ID: {request.message_id}\r\n"
    ).encode()
    world.run(returned)
    with world.daemon.db.transaction() as session:
        check = session.get(Check, check_id)
        assert check is not None and check.status == "pending" and check.next_chase_at
        row = session.execute(
            select(OutboxRow).where(OutboxRow.header_message_id == request.message_id)
        ).scalar_one()
        assert row.state != "bounced"
    subjects = [str(_mail(m)["Subject"]) for m in world.sent("duty.manager@hackney.example")]
    assert any("permanence unknown" in s for s in subjects)
    assert not any("bounced" in s for s in subjects)


def test_a_reply_naming_two_checks_goes_to_a_manager(world: World) -> None:
    police_id, health_id = _request(world, "green", "police", "health")
    with world.daemon.db.transaction() as session:
        tokens = [session.get(Check, i).token for i in (police_id, health_id)]  # type: ignore[union-attr]
    both = plain_message(
        8,
        sender="police-mash@met.example",
        subject=f"answers [#{tokens[0]}] [#{tokens[1]}]",
        body="Nothing known.\n",
    )
    world.run(both)
    with world.daemon.db.transaction() as session:
        held = session.execute(select(Message).where(Message.state == "quarantined")).scalar_one()
        assert held.quarantine_reason == "triage:ambiguous"
        assert session.execute(select(CheckReply)).first() is None
        assert session.execute(select(Alert)).first() is None  # nothing urgent in it
    # The same, reporting increased risk: still held, and an urgent alert goes, naming no
    # contact (which child it is about is the question).
    risky = plain_message(
        9,
        sender="police-mash@met.example",
        subject=f"answers [#{tokens[0]}] [#{tokens[1]}]",
        body="RISK: INCREASED\nThe father was released from custody today.\n",
    )
    world.run(risky)
    with world.daemon.db.transaction() as session:
        (alert,) = session.execute(select(Alert)).scalars()
        assert alert.reference is None and alert.contact_id is None
        assert "NOT VERIFIED" in " ".join(alert.lines)
        assert session.execute(select(CheckReply)).first() is None


def test_chasing_climbs_the_ladder_once_and_digests_list_overdue_checks(world: World) -> None:
    (check_id,) = _request(world, "amber", "police")
    to_police = "police-mash@met.example"
    world.clock.advance(timedelta(hours=23))
    world.run()
    assert len(world.sent(to_police)) == 1  # not yet due

    world.clock.advance(timedelta(hours=1, minutes=1))  # Wednesday 10:01: due + 1 minute
    world.run()
    world.run()  # a second sweep sends nothing more
    reminders = world.sent(to_police)[1:]
    assert len(reminders) == 1
    reminder = _mail(reminders[0])
    assert str(reminder["Subject"]).startswith("[AMBER] MASH check reminder MASH-2026-000001")
    assert "Amira" not in _text(reminders[0])  # only the reference and the RAG
    assert not world.sent("ppd-inspector@met.example")

    world.clock.advance(timedelta(hours=12))  # due + half of 24 hours: 22:01, out of hours
    world.run()
    assert len(world.sent(to_police)) == 2  # AMBER chases wait for opening time
    world.clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=UTC))  # Thursday 09:00, open
    world.run()
    assert len(world.sent(to_police)) == 3
    assert len(world.sent("ppd-inspector@met.example")) == 1  # escalated, copied
    subjects = [str(_mail(m)["Subject"]) for m in world.sent("duty.manager@hackney.example")]
    assert any("AMBER check to police overdue" in s for s in subjects)
    with world.daemon.db.transaction() as session:
        check = session.get(Check, check_id)
        assert check is not None and check.chase_level == 2 and check.next_chase_at is None

    digest_cfg = world.daemon.config.model_copy(
        update={"digest": config("[digest]\ntimes = ['09:00']\n").digest}
    )
    assert send_digest(world.daemon.db, digest_cfg, world.clock, world.daemon.letters)
    world.run()
    digest = next(
        m
        for m in world.sent("duty.manager@hackney.example")
        if "MASH digest" in str(_mail(m)["Subject"])
    )
    assert "AMBER police: MASH-2026-000001 overdue by 23 hours" in _text(digest)


def test_a_red_check_chases_around_the_clock_and_alerts_at_once(world: World) -> None:
    world.clock.set(datetime(2026, 3, 3, 20, 0, tzinfo=UTC))  # Tuesday evening
    _request(world, "red", "police")
    world.clock.advance(timedelta(hours=4, minutes=1))
    world.run()
    assert len(world.sent("police-mash@met.example")) == 2
    subjects = [str(_mail(m)["Subject"]) for m in world.sent("duty.manager@hackney.example")]
    assert any("RED check to police overdue" in s for s in subjects)


def test_checks_request_and_list_on_the_command_line(
    world: World,
    make_config: MakeConfig,
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
) -> None:
    _, path = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink, extra=AGENCIES)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", "-c", str(path), "--now", START.isoformat(), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = cli(
        "checks",
        "request",
        "MASH-2026-000001",
        "--agency",
        "police",
        "--rag",
        "red",
        "--context",
        "",
        "--by",
        "Duty Manager",
    )
    assert refused.returncode != 0 and "why the information is needed" in refused.stderr
    made = cli(
        "checks",
        "request",
        "MASH-2026-000001",
        "--agency",
        "police",
        "--agency",
        "health",
        "--rag",
        "green",
        "--context",
        "School concern",
        "--by",
        "Duty Manager",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    rows = json.loads(made.stdout)
    assert [r["agency"] for r in rows] == ["police", "health"]
    assert {r["due_at"] for r in rows} == {(START + timedelta(hours=72)).isoformat()}
    listed = cli("checks", "list", "--reference", "MASH-2026-000001")
    assert listed.returncode == 0 and listed.stdout.count("GREEN") == 2
    later = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "-c",
            str(path),
            "--now",
            (START + timedelta(days=4)).isoformat(),
            "checks",
            "list",
            "--overdue",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert [r["overdue"] for r in json.loads(later.stdout)] == [True, True]


# Our boundary server's verdict on a manager's own mail: how a manager without a key
# authenticates (gateway.authserv_id names the boundary).
BOUNDARY = 'authserv_id = "mx.hackney.example"\n'
PASSED = "mx.hackney.example; dmarc=pass header.from=hackney.example"


def _command(
    sender: str,
    body: str,
    *,
    subject: str = "Re: MASH-2026-000001",
    n: int,
    in_reply_to: str | None = None,
) -> bytes:
    headers = {"Authentication-Results": PASSED}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    return plain_message(n, sender=sender, subject=subject, body=body, headers=headers)


def test_manager_command_emails_request_checks_and_are_answered(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    manager = "duty.manager@hackney.example"
    cfg, _ = make_config(
        db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink, extra=AGENCIES, gateway_extra=BOUNDARY
    )
    world = World(dovecot, smtp_sink, cfg)
    world.run((REFERRALS / "plain-school.eml").read_bytes())  # MASH-2026-000001
    ack = world.sent("sam.teacher@stjohns-school.example")[0]
    world.run(
        _command(
            manager,
            "CHECKS RED police health\nContext: School reports bruising; is the household known?\n",
            subject="Re: MASH referral received",
            in_reply_to=str(_mail(ack)["Message-ID"]),  # a reply to gateway mail about the REF
            n=20,
        ),
        _command(manager, "CHECKS GREEN police\n", n=21),  # no context
        _command(manager, "CHECKS AMBER fire\nContext: x\n", n=22),  # unknown agency
        # Not a manager: never read for commands, whatever its lines say (a reply about
        # the contact, filed as correspondence).
        _command("someone@example.org", "CHECKS RED police\nContext: let me in\n", n=23),
    )
    (request,) = world.sent("police-mash@met.example")
    assert str(_mail(request)["Subject"]).startswith("[RED] MASH check MASH-2026-000001")
    assert len(world.sent("health-mash@nhs.example")) == 1
    answers = [
        (str(_mail(m)["Subject"]), _text(m))
        for m in world.sent(manager)
        if "your command" in str(_mail(m)["Subject"])
    ]
    (done,) = [
        t
        for s, t in answers
        if s == "MASH gateway: your command was carried out for MASH-2026-000001"
    ]
    assert "RED check to police, due" in done and "RED check to health, due" in done
    refusals = [t for s, t in answers if "refused" in s]
    assert len(refusals) == 2
    assert any("add a 'Context:' paragraph" in t for t in refusals)
    assert any("unknown agency fire" in t for t in refusals)
    with world.daemon.db.transaction() as session:
        checks = session.execute(select(Check)).scalars().all()
        assert {(c.agency, c.rag, c.requested_by) for c in checks} == {
            ("police", "red", manager),
            ("health", "red", manager),
        }
        kinds = sorted(m.kind for m in session.execute(select(Message)).scalars())
        assert kinds == ["correspondence", *["manager_command"] * 3, "referral"]
        held = select(Message).where(Message.state == "quarantined")
        assert session.execute(held).first() is None
    assert not world.sent("someone@example.org")


def test_a_manager_with_a_pinned_key_is_refused_unsigned_commands(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    keyed = AGENCIES + (
        '\n[[manager]]\nname = "Keyed Manager"\naddress = "keyed@hackney.example"\n'
        'key = "0123456789ABCDEF0123456789ABCDEF01234567"\n'
    )
    cfg, _ = make_config(
        db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink, extra=keyed, gateway_extra=BOUNDARY
    )
    w = World(dovecot, smtp_sink, cfg)
    w.run((REFERRALS / "plain-school.eml").read_bytes())
    # DMARC passed, but this manager's key is pinned: only mail signed with it counts.
    w.run(_command("keyed@hackney.example", "CHECKS RED police\nContext: urgent\n", n=30))
    assert not w.sent("police-mash@met.example")
    (refusal,) = w.sent("keyed@hackney.example")  # the managers' alert, not an answer
    assert "only mail signed with it counts" in _text(refusal)
    assert "duty.manager@hackney.example" in refusal.recipients


def test_a_chase_missed_while_the_daemon_was_down_is_sent_when_it_starts(
    world: World, smtp_sink: RecordingSmtp
) -> None:
    _request(world, "red", "police")
    world.daemon.db.dispose()
    later = FrozenClock(START + timedelta(hours=6))  # the gateway was down past the due time
    restarted = Daemon(world.daemon.config, later)
    with Running(restarted):
        # Well before the 30-second sweep interval: the start-up sweep sent it.
        wait_until(
            lambda: len(world.sent("police-mash@met.example")) == 2,
            timeout=10,
            what="the missed reminder",
        )
    reminder = _mail(world.sent("police-mash@met.example")[1])
    assert "reminder (second)" in str(reminder["Subject"])  # the highest rung due, once


def test_a_checks_life_stepped_with_run_once_now(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    tmp_path: Path,
) -> None:
    _, path = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink, extra=AGENCIES)

    def cli(now: datetime, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "-c", str(path), "--now", now.isoformat(), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done

    police = "police-mash@met.example"
    dovecot.append("mash", (REFERRALS / "plain-school.eml").read_bytes(), arrived=START)
    cli(START, "run", "--once")
    cli(
        START,
        "checks",
        "request",
        "MASH-2026-000001",
        "--agency",
        "police",
        "--rag",
        "amber",
        "--context",
        "Bruising reported; is the household known?",
        "--by",
        "Duty Manager",
    )
    cli(START, "run", "--once")
    (request,) = [_mail(m) for m in smtp_sink.messages if police in m.recipients]

    cli(START + timedelta(hours=23), "run", "--once")  # not yet due
    assert len([m for m in smtp_sink.messages if police in m.recipients]) == 1
    cli(START + timedelta(hours=24, minutes=1), "run", "--once")  # due: first reminder
    assert len([m for m in smtp_sink.messages if police in m.recipients]) == 2
    thursday = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # due + half the window has passed
    cli(thursday, "run", "--once")
    assert [m for m in smtp_sink.messages if "ppd-inspector@met.example" in m.recipients]
    listed = json.loads(cli(thursday, "checks", "list", "--json").stdout)
    assert listed[0]["status"] == "overdue" and listed[0]["chases"] == 2

    # An Outlook-style answer: matched by In-Reply-To, the quoted request dropped.
    reply = _reply(
        request,
        police,
        "Known: one domestic call-out in 2025.\n\n-----Original Message-----\n"
        f"From: mash@hackney.example\nSent: 03 March 2026 10:00\nSubject: {request['Subject']}\n",
        n=40,
    )
    reply_file = tmp_path / "reply.eml"
    reply_file.write_bytes(reply)
    seen = json.loads(cli(thursday, "inspect", str(reply_file), "--json").stdout)
    assert seen["check"] == {
        "id": 1,
        "method": "message-id",
        "mismatch": None,
        "agency": "police",
        "reference": "MASH-2026-000001",
        "sender_allowed": True,
        "verified": False,
        "late": True,
    }
    assert seen["reply_text"] == "Known: one domestic call-out in 2025."
    dovecot.append("mash", reply, arrived=thursday + timedelta(minutes=30))
    cli(thursday + timedelta(minutes=30), "run", "--once")
    shown = json.loads(cli(thursday, "checks", "show", "1", "--json").stdout)
    assert shown["status"] == "answered" and shown["late"] is True
    assert shown["replies"][0]["text"] == "Known: one domestic call-out in 2025."
    assert "check-chased" in [e["action"] for e in shown["timeline"]]

    cli(datetime(2026, 3, 6, 12, 0, tzinfo=UTC), "run", "--once")  # chasing has stopped
    assert len([m for m in smtp_sink.messages if police in m.recipients]) == 3
    dry = cli(datetime(2026, 3, 6, 12, 0, tzinfo=UTC), "digest", "--dry-run", "--json")
    titles = [section["title"] for section in json.loads(dry.stdout)]
    assert "Overdue checks" not in titles and "Contacts waiting for a decision" in titles


def test_a_reply_from_an_unregistered_address_holds_the_check_and_chasing_goes_on(
    world: World,
) -> None:
    (check_id,) = _request(world, "red", "police")
    request = _mail(world.sent("police-mash@met.example")[0])
    world.run(_reply(request, "police-mash@met-police.example", "All clear, stop asking.", n=50))
    with world.daemon.db.transaction() as session:
        check = session.get(Check, check_id)
        assert check is not None and check.status == "held" and check.answered_at is None
    world.clock.advance(timedelta(hours=4, minutes=1))
    world.run()
    assert len(world.sent("police-mash@met.example")) == 2  # a spoof does not silence the chase


PROBATION_NO_KEY = """
[[agency]]
id = "probation"
dsa_signed = 2025-01-15
name = "Probation"
check_address = "duty@probation.example"
reply_from = ["duty@probation.example"]
security = "pgp"
key = "0123456789ABCDEF0123456789ABCDEF01234567"
"""


@pytest.fixture
def keyring_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "gnupg"
    yield home
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def test_an_outcome_withdraws_the_open_checks(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    keyring_home: Path,
) -> None:
    # Probation's key is not in the (empty) keyring: its request is held, never sent.
    cfg, path = make_config(
        db_url=sqlite_url,
        dovecot=dovecot,
        smtp=smtp_sink,
        extra=AGENCIES + PROBATION_NO_KEY,
        gateway_extra=f'gnupg_home = "{keyring_home}"',
    )
    world = World(dovecot, smtp_sink, cfg)
    world.run((REFERRALS / "plain-school.eml").read_bytes())
    police_id, health_id, probation_id = _request(world, "amber", "police", "health", "probation")
    police_req = _mail(world.sent("police-mash@met.example")[0])
    health_req = _mail(world.sent("health-mash@nhs.example")[0])
    world.clock.advance(timedelta(hours=1))
    world.run(_reply(police_req, "police-mash@met.example", "Not known to police.", n=1))

    decided = subprocess.run(
        [
            *(sys.executable, "-m", "gateway", "-c", str(path)),
            *("--now", world.clock.now().isoformat()),
            *("decide", "MASH-2026-000001", "--decision", "D", "--outcome", "early-help"),
            *("--by", "Duty Manager"),
            *("--reason", "Family accepts early help; no statutory threshold."),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert decided.returncode == 0, decided.stderr
    assert "AMBER check to health withdrawn: the agency was told" in decided.stdout
    assert "AMBER check to probation withdrawn: its request was still held" in decided.stdout
    assert "police withdrawn" not in decided.stdout  # answered already
    world.run()

    with world.daemon.db.transaction() as session:
        statuses = {c.agency: c.status for c in session.execute(select(Check)).scalars()}
        assert statuses == {"police": "answered", "health": "withdrawn", "probation": "withdrawn"}
        held = session.execute(select(OutboxRow).where(OutboxRow.state == "held")).all()
        assert held == [], "probation's request is cancelled, never sent"
    (notice,) = world.sent("health-mash@nhs.example")[1:]
    mail = _mail(notice)
    assert str(mail["In-Reply-To"]) == str(health_req["Message-ID"])
    assert str(mail["Subject"]).startswith("[AMBER] MASH check no longer needed MASH-2026-000001")
    assert "Amira" not in _text(notice)
    assert len(world.sent("police-mash@met.example")) == 1, "nothing more to police"
    assert not [m for m in world.sent("duty@probation.example") if "no longer" in _text(m)]

    # Past the due time and the whole ladder: no reminder for a withdrawn check.
    world.clock.advance(timedelta(days=3))
    world.run()
    assert len(world.sent("health-mash@nhs.example")) == 2
    # A reply that comes anyway is kept with the check, which stays withdrawn; increased
    # risk still reaches the managers.
    world.run(
        _reply(health_req, "health-mash@nhs.example", "RISK: INCREASED\nNew partner, DV.", n=2)
    )
    with world.daemon.db.transaction() as session:
        health = session.get(Check, health_id)
        assert health is not None and health.status == "withdrawn" and health.replies == 1
        probation = session.get(Check, probation_id)
        assert probation is not None and probation.next_chase_at is None
        police = session.get(Check, police_id)
        assert police is not None and police.status == "answered"
    subjects = [str(_mail(m)["Subject"]) for m in world.sent("duty.manager@hackney.example")]
    assert any("increased risk reported on MASH-2026-000001" in s for s in subjects)
    listing = subprocess.run(
        [sys.executable, "-m", "gateway", "-c", str(path), "checks", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert {c["agency"]: c["status"] for c in json.loads(listing.stdout)} == statuses


def test_a_statutory_assessment_keeps_the_checks_open_and_chased(
    world: World, tmp_path: Path
) -> None:
    (check_id,) = _request(world, "amber", "health")
    path = tmp_path / "mailboxes.toml"  # the world fixture's configuration
    decided = subprocess.run(
        [
            *(sys.executable, "-m", "gateway", "-c", str(path)),
            *("--now", world.clock.now().isoformat()),
            *("decide", "MASH-2026-000001", "--decision", "B", "--by", "Duty Manager"),
            *("--reason", "Disclosure of harm; a Section 17 assessment."),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert decided.returncode == 0, decided.stderr
    assert "1 check(s) still open and chased (health)" in decided.stdout
    world.clock.advance(timedelta(hours=24, minutes=1))
    world.run()
    with world.daemon.db.transaction() as session:
        check = session.get(Check, check_id)
        assert check is not None and check.status == "pending" and check.chase_level == 1
    assert len(world.sent("health-mash@nhs.example")) == 2  # the request, then a reminder
