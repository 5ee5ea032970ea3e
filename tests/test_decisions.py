"""Decisions and outcome letters end to end: Dovecot in, `decide` on the command line,
aiosmtpd out, and every step on the record."""

from __future__ import annotations

import csv
import io
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
from gateway_dev.localworld.smtpsink import Received, RecordingSmtp
from helpers import plain_message
from sqlalchemy import select, update

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.outbound.compose import Letters
from gateway.outbound.samples import SAMPLES
from gateway.store.models import AuditEvent, Contact, Decision, OutboxRow

REFERRALS = Path(__file__).parent / "data" / "referrals"
MAIL = Path(__file__).parent / "data" / "mail"
MakeConfig = Callable[..., tuple[Config, Path]]
START = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
SW_UNIT = "s47-unit@hackney.example"
TEACHER = "sam.teacher@stjohns-school.example"
REGISTER = """nhs_number,given_name,family_name,date_of_birth,unit,unit_email,status,closed_on
,Zoë,Brontë-Smith,20/11/2015,Unit 7,unit7@hackney.example,closed,15/01/2026
"""


def test_every_template_renders_with_its_sample_under_strict_undefined() -> None:
    letters = Letters()
    assert set(letters.names()) == set(SAMPLES), "a template without a sample, or the reverse"
    for name in letters.names():
        subject, text, html = letters.render(name, SAMPLES[name])
        assert subject and text.strip() and "<html" in html, name
    outcomes = [n for n in letters.names() if n.startswith("outcome_")]
    assert len(outcomes) == 6
    public = letters.render(
        "outcome_early_help", {**SAMPLES["outcome_early_help"], "public": True}
    )[1]
    assert "Amira" not in public  # a member of the public is told no third-party detail


def test_templates_preview_command() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "templates",
            "preview",
            "outcome_no_further_action",
            "--html",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "<strong>MASH-2026-000123</strong>" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "gateway", "templates", "preview", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0 and "no template" in missing.stderr


class Mash:
    def __init__(
        self, dovecot: Dovecot, smtp: RecordingSmtp, make_config: MakeConfig, db_url: str
    ) -> None:
        self.cfg, self.path = make_config(
            db_url=db_url,
            dovecot=dovecot,
            smtp=smtp,
            extra=f'[clocks]\nsection47_address = "{SW_UNIT}"\n',
            gateway_extra='authserv_id = "mx.hackney.example"\n',
        )
        self.dovecot, self.smtp = dovecot, smtp
        self.now = START
        self.daemon = Daemon(self.cfg, FrozenClock(START))
        self.daemon.prepare()

    def arrive(self, *raws: bytes) -> None:
        for raw in raws:
            self.dovecot.append("mash", raw, arrived=self.now)
        self.run()

    def run(self) -> None:
        self.daemon.clock.set(self.now)  # type: ignore[attr-defined]
        assert self.daemon.run_once().mailbox_errors == {}

    def cli(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway",
                "-c",
                str(self.path),
                "--now",
                self.now.isoformat(),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (done.returncode == 0) is ok, done.stdout + done.stderr
        return done

    def decide(self, ref: str, *args: str, ok: bool = True) -> str:
        done = self.cli("decide", ref, "--by", "Duty Manager", *args, ok=ok)
        self.run()
        return done.stdout + done.stderr

    def to(self, address: str) -> list[Received]:
        return [m for m in self.smtp.messages if address in m.recipients]

    def contact(self, ref: str) -> Contact:
        with self.daemon.db.transaction() as session:
            return session.execute(select(Contact).where(Contact.reference == ref)).scalar_one()


def _text(received: Received) -> str:
    message = message_from_bytes(received.data, policy=default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    return f"{message['Subject']}\n{body.get_content()}"


@pytest.fixture
def mash(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> Mash:
    return Mash(dovecot, smtp_sink, make_config, sqlite_url)


def test_a_no_further_action_and_its_letter(mash: Mash) -> None:
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    out = mash.decide(
        "MASH-2026-000001",
        "--decision",
        "A",
        "--reason",
        "Explained injury; school satisfied after meeting the mother.",
    )
    assert "outcome letter sent" in out
    assert mash.contact("MASH-2026-000001").status == "closed"
    (_ack, letter) = mash.to(TEACHER)
    text = _text(letter)
    assert "no further action is needed" in text and "MASH-2026-000001" in text
    again = mash.decide("MASH-2026-000001", "--decision", "C", "--reason", "x", ok=False)
    assert "already closed" in again


def test_b_section_47_goes_to_the_social_work_unit_at_once(mash: Mash) -> None:
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    mash.decide(
        "MASH-2026-000001",
        "--decision",
        "B",
        "--section",
        "47",
        "--reason",
        "Disclosure of physical harm by a parent",
    )
    (s47,) = mash.to(SW_UNIT)
    assert "Section 47" in _text(s47)
    parsed = message_from_bytes(s47.data, policy=default)
    attached = [p for p in parsed.walk() if p.get_content_type() == "message/rfc822"]
    assert attached, "the contact travels as it arrived"
    letter = mash.to(TEACHER)[-1]
    assert "section 47 of the Children Act 1989" in _text(letter)
    assert "significant harm" in _text(letter) and "needs" not in _text(letter)


def test_b_for_a_child_known_in_the_last_three_months_goes_back_to_that_unit(
    mash: Mash, tmp_path: Path
) -> None:
    # Registered after the contact arrived (the front door would have routed it already).
    mash.arrive((REFERRALS / "html-form.eml").read_bytes())
    (tmp_path / "cases.csv").write_text(REGISTER, encoding="utf-8")
    mash.cli("cases", "import", str(tmp_path / "cases.csv"))
    out = mash.decide("MASH-2026-000001", "--decision", "B", "--reason", "Neglect; S17 needed")
    assert "re-referred to Unit 7" in out
    assert mash.to("unit7@hackney.example")


def test_c_has_a_24_hour_clock_that_alerts_when_overdue(mash: Mash) -> None:
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    out = mash.decide("MASH-2026-000001", "--decision", "C", "--reason", "Needs screening")
    assert "a decision on a statutory response is due by Wednesday 04 March 10:00" in out
    dry = mash.cli("digest", "--dry-run")
    assert "MASH-2026-000001: statutory-response decision due" in dry.stdout
    mash.now = START + timedelta(hours=24, minutes=5)
    mash.run()
    mash.run()  # alerts once
    alerts = [
        m
        for m in mash.to("duty.manager@hackney.example")
        if "screening decision overdue" in _text(m)
    ]
    assert len(alerts) == 1
    mash.decide("MASH-2026-000001", "--outcome", "early-help", "--reason", "Family consents")
    assert "offered early help" in _text(mash.to(TEACHER)[-1])
    assert mash.contact("MASH-2026-000001").decision_due_at is None


def test_d_then_an_outcome_with_the_letter_withheld(mash: Mash) -> None:
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    mash.decide("MASH-2026-000001", "--decision", "D", "--reason", "Early help screening")
    assert mash.contact("MASH-2026-000001").status == "early-help-screening"
    letters_before = len(mash.to(TEACHER))
    out = mash.decide(
        "MASH-2026-000001",
        "--outcome",
        "community-service",
        "--reason",
        "Telling the school would alert the father",
        "--no-letter",
        "--letter-category",
        "risk-to-child",
    )
    assert "letter withheld" in out
    assert len(mash.to(TEACHER)) == letters_before
    with mash.daemon.db.transaction() as session:
        outcome = session.execute(select(Decision).where(Decision.kind == "outcome")).scalar_one()
        assert outcome.letter == "withheld"
        assert outcome.letter_withheld_reason == "Telling the school would alert the father"
        assert outcome.letter_withheld_category == "risk-to-child"
    shown = json.loads(mash.cli("audit", "show", "MASH-2026-000001", "--json").stdout)
    withheld = [r for r in shown["timeline"] if r["action"] == "letter-withheld"]
    assert withheld and withheld[0]["purpose"] == "Telling the school would alert the father"
    assert withheld[0]["detail"] == {"category": "risk-to-child"}


def test_a_member_of_the_public_is_told_the_outcome_without_third_party_detail(
    mash: Mash,
) -> None:
    mash.arrive((MAIL / "person-plain.eml").read_bytes())
    mash.decide(
        "MASH-2026-000001",
        *("--decision", "D", "--outcome", "advice-and-guidance", "--reason", "Advice"),
    )
    letter = mash.to("alex.parent@mail.example")[-1]
    assert "we have acted on it" in _text(letter) and "MASH-2026-000001" in _text(letter)
    # Only that the MASH acted: not what it decided, nor a claim that the family was advised.
    assert "advice" not in _text(letter).lower() and "children.complaints@" in _text(letter)


def test_decisions_by_a_managers_command_email(mash: Mash) -> None:
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    mash.arrive(
        plain_message(
            70,
            sender="duty.manager@hackney.example",
            subject="Re: MASH-2026-000001",
            body="DECISION C\nReason: Bruising and a disclosure; screen in the MASH.\n",
            # How a manager without a pinned key authenticates: our boundary's dmarc=pass.
            headers={"Authentication-Results": "mx.hackney.example; dmarc=pass header.from="
                     "hackney.example"},
        )
    )
    assert mash.contact("MASH-2026-000001").status == "csc-screening"
    (done,) = [m for m in mash.to("duty.manager@hackney.example") if "your command" in _text(m)]
    assert "was carried out" in _text(done) and "decision C" in _text(done)
    with mash.daemon.db.transaction() as session:
        row = session.execute(select(Decision)).scalar_one()
        assert row.decided_by == "Duty Manager <duty.manager@hackney.example>"


def test_the_record_lists_every_share_and_detects_tampering(mash: Mash, tmp_path: Path) -> None:
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    mash.decide(
        "MASH-2026-000001",
        "--decision",
        "B",
        "--section",
        "47",
        "--reason",
        "Disclosure of physical harm by a parent",
    )
    shown = json.loads(mash.cli("audit", "show", "MASH-2026-000001", "--json").stdout)
    with mash.daemon.db.transaction() as session:
        outbox = (
            session.execute(select(OutboxRow.id).where(OutboxRow.subject_ref == "MASH-2026-000001"))
            .scalars()
            .all()
        )
    queued = [r["detail"]["outbox_id"] for r in shown["timeline"] if r["action"] == "mail-queued"]
    sent = [r for r in shown["timeline"] if r["action"] == "mail-sent"]
    assert sorted(queued) == sorted(outbox) and len(sent) == len(outbox) == 3
    assert {r["kind"] for r in shown["timeline"]} >= {"message in", "share", "decision"}
    text = mash.cli("audit", "show", "MASH-2026-000001").stdout
    print(text)  # the closing note quotes this
    assert "decision-recorded" in text and "Disclosure of physical harm" in text
    export = mash.cli("audit", "export", "--from", "2026-03-03", "--to", "2026-03-03").stdout
    rows = list(csv.DictReader(io.StringIO(export)))
    assert {r["action"] for r in rows} >= {"contact-created", "decision-recorded", "mail-sent"}
    with mash.daemon.db.transaction() as session:
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.action == "decision-recorded")
            .values(purpose="Nothing happened")
        )
    tampered = mash.cli("audit", "show", "MASH-2026-000001")
    assert "TAMPERED" in tampered.stdout
    assert mash.cli("audit", "verify", ok=False).returncode == 1
