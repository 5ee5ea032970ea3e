"""Nothing goes quiet: partners' increased risk marks the contact, mail that cannot be delivered
is told and listed, police notifications are notifications, forwarded contacts are truthful,
"checks complete" accounts for every check. Real Dovecot, aiosmtpd and an injected clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import select
from test_urgent import (
    EDT,
    EXTRA,
    HEAD,
    LONDON,
    MANAGER,
    REFERRALS,
    SATURDAY_NIGHT,
    MakeConfig,
    Mash,
    _mail,
    _text,
    urgent_referral,
)

from gateway.domain.cases import parse_csv, replace_register
from gateway.domain.checks.request import Request, request_checks
from gateway.reports.digest import send_digest
from gateway.store.models import Check, OutboxRow

TUESDAY = datetime(2026, 3, 3, 10, 0, tzinfo=LONDON)
AGENCIES = """
[[agency]]
id = "police"
name = "Police Public Protection Desk"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "tls"
dsa_signed = 2025-01-15

[[agency]]
id = "housing"
name = "Hackney Housing"
check_address = "housing@hackney.example"
reply_from = ["housing@hackney.example"]
security = "tls"
dsa_signed = 2025-01-15
"""
DIGEST = '[digest]\ntimes = ["09:00", "13:00"]\n[meeting]\nenabled = false\n'


@pytest.fixture
def tuesday(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> Mash:
    return Mash(
        dovecot,
        smtp_sink,
        make_config,
        sqlite_url,
        TUESDAY,
        extra=EXTRA + AGENCIES,
        digest_block=DIGEST,
    )


def _digest(mash: Mash) -> str:
    send_digest(mash.daemon.db, mash.cfg, mash.clock, mash.daemon.letters)
    mash.run()
    return _text(mash.to(MANAGER)[-1])


def _check(mash: Mash, *agencies: str) -> None:
    with mash.daemon.db.transaction() as session:
        request_checks(
            session,
            mash.cfg,
            mash.daemon.letters,
            mash.clock.now(),
            Request(
                "MASH-2026-000001",
                agencies,
                "red",
                "Bruising reported by school; is the household known?",
                requested_by=MANAGER,
            ),
        )
    mash.run()


def _answer(request: EmailMessage, sender: str, body: str, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = str(request["Reply-To"])
    msg["Subject"] = f"RE: {request['Subject']}"
    msg["Message-ID"] = f"<partner-{n}@example.org>"
    msg["In-Reply-To"] = str(request["Message-ID"])
    msg.set_content(body)
    return msg.as_bytes()


def test_risk_increased_marks_the_contact_urgent_and_the_digest_lists_it_first(
    tuesday: Mash,
) -> None:
    mash = tuesday
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    mash.arrive(
        (REFERRALS / "plain-school.eml")
        .read_bytes()
        .replace(b"Amira Okafor", b"Kofi Mensah")
        .replace(b"ref-plain-1@", b"ref-kofi@")
        .replace(b"NHS number: 943 476 5919\n", b"")
    )
    assert not mash.contact().urgent
    _check(mash, "police")
    (request,) = mash.to("police-mash@met.example")
    mash.clock.set(TUESDAY + timedelta(hours=1))
    mash.arrive(
        _answer(
            _mail(request),
            "police-mash@met.example",
            "RISK: INCREASED\nFather released from custody yesterday; bail conditions breached.",
            1,
        )
    )
    assert mash.contact().urgent
    (alert,) = mash.alerts()
    assert alert.reference == "MASH-2026-000001" and not alert.edt
    (urgent,) = [m for m in mash.to(MANAGER) if "MASH URGENT" in _text(m)]
    assert "RISK: INCREASED" in _text(urgent)
    mash.clock.set(TUESDAY.replace(hour=13, minute=1))
    digest = _digest(mash)
    sections = [line for line in digest.splitlines() if line and not line.startswith(" ")]
    assert sections[2].startswith("URGENT contacts (1)"), sections  # after the greeting
    urgent_part = digest.split("URGENT contacts (1)")[1].split("\n\n")[0]
    assert "MASH-2026-000001" in urgent_part and "NOT ACKNOWLEDGED" in urgent_part
    waiting = digest.split("Contacts waiting for a decision")[1].split("\n\n")[0]
    assert "MASH-2026-000002" in waiting and "MASH-2026-000001" not in waiting


def test_a_5xx_on_an_acknowledgement_alerts_the_managers_and_shows_in_the_digest(
    tuesday: Mash,
) -> None:
    mash = tuesday
    mash.smtp.script(["550 5.1.1 <sam.teacher@stjohns-school.example>: no such user"])
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    (alert,) = [m for m in mash.to(MANAGER) if "could not be delivered" in _text(m)]
    assert "550 5.1.1" in _text(alert) and "outbox retry" in _text(alert)
    (failed,) = json.loads(mash.cli("outbox", "list", "--failed", "--json"))
    assert failed["purpose"] == "referral acknowledgement" and "550" in failed["reason"]
    mash.clock.set(TUESDAY.replace(hour=13, minute=0))
    digest = _digest(mash)
    listed = digest.split("Messages that could not be delivered (1)")[1].split("\n\n")[0]
    assert f"outbox {failed['id']}" in listed and "no such user" in listed
    assert "is not a configured [[manager]]" in mash.cli(
        "outbox", "retry", str(failed["id"]), "--by", "Someone", code=2
    )
    mash.cli("outbox", "retry", str(failed["id"]), "--by", "Duty Manager")
    mash.run()
    assert len(mash.to("sam.teacher@stjohns-school.example")) == 1
    assert json.loads(mash.cli("outbox", "list", "--failed", "--json")) == []


def test_an_alert_that_cannot_be_delivered_goes_to_escalate_to_and_never_loops(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    mash = Mash(dovecot, smtp_sink, make_config, sqlite_url, SATURDAY_NIGHT)
    # Alerts go first: the managers' (refused), the EDT's, then the alert about the refused
    # one (to escalate_to, refused too), and only then the referrer's acknowledgement.
    smtp_sink.script(["550 5.2.1 mailbox disabled", "250 OK", "550 5.2.1 again", "250 OK"])
    mash.arrive(urgent_referral())
    with mash.daemon.db.transaction() as session:
        rows = session.execute(select(OutboxRow).order_by(OutboxRow.id)).scalars().all()
        states = {r.purpose: r.state for r in rows}
    assert states["urgent-alert"] == "failed"
    assert states["alert-about-an-alert"] == "failed"
    assert states["referral acknowledgement"] == "sent"
    assert len(rows) == 4  # alert, EDT alert, acknowledgement, the alert about the alert
    assert mash.to(EDT) and not mash.to(HEAD)
    assert [m.recipients for m in smtp_sink.messages] == [
        (EDT,),
        ("sam.teacher@stjohns-school.example",),
    ]


def test_an_overnight_merlin_notification_is_acknowledged_without_form_questions(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    sunday = datetime(2026, 3, 1, 2, 40, tzinfo=LONDON)
    mash = Mash(
        dovecot,
        smtp_sink,
        make_config,
        sqlite_url,
        sunday,
        digest_block='[digest]\ntimes = []\n[meeting]\nat = "08:30"\n',
    )
    merlin = (REFERRALS / "police-merlin.eml").read_bytes()
    mash.arrive(merlin)
    contact = mash.contact()
    assert contact.channel == "police-notification" and contact.missing == []
    assert contact.daily_meeting and not contact.urgent
    (ack,) = mash.to("cebcu.ppd@met.police.example")
    text = _text(ack)
    assert "MASH-2026-000001" in text and "Daily MASH Meeting" in text
    assert "referrer name" not in text and "missing" not in text
    # A notification with urgent content alerts like anything else.
    mash.arrive(
        merlin.replace(b"merlin-1@", b"merlin-2@").replace(
            b"Ruby was present and upset.", b"the suspect threatened to kill the children."
        )
    )
    assert mash.contact("MASH-2026-000002").urgent and len(mash.to(EDT)) == 1
    mash.later(timedelta(hours=29, minutes=51))  # Monday 08:31: the agenda
    (agenda,) = [m for m in mash.to(MANAGER) if "meeting agenda" in _text(m)]
    text = _text(agenda)
    assert text.index("URGENT") < text.index("MASH-2026-000002") < text.index("Police notif")
    assert "MASH-2026-000001: " in text.split("Police notifications")[1]


def test_a_forwarded_contact_is_told_the_truth_and_can_still_be_closed(tuesday: Mash) -> None:
    mash = tuesday
    register = (
        "nhs_number,given_name,family_name,date_of_birth,unit,unit_email,status,closed_on\n"
        "943 476 5919,Amira,Okafor,03/04/2019,Unit 4,unit4@hackney.example,open,\n"
    )
    with mash.daemon.db.transaction() as session:
        replace_register(session, parse_csv(register), mash.clock.now())
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    assert mash.contact().status == "forwarded"
    (ack,) = mash.to("sam.teacher@stjohns-school.example")
    assert "known to a social work unit" in _text(ack)
    assert "a MASH manager will screen" not in _text(ack)
    assert "received by the unit" in mash.cli(
        "contacts", "received", "MASH-2026-000001", "--by", "Unit 4 duty worker"
    )
    mash.cli(
        "decide",
        "MASH-2026-000001",
        "--by",
        "Duty Manager",
        "--outcome",
        "forwarded-to-unit",
        "--reason",
        "Unit 4 holds the case and has the referral.",
    )
    contact = mash.contact()
    assert contact.received_by_unit == "Unit 4 duty worker" and contact.status == "forwarded"
    again = mash.cli(
        "decide",
        "MASH-2026-000001",
        "--by",
        "Duty Manager",
        "--outcome",
        "no-further-action",
        "--reason",
        "twice",
        code=1,
    )
    assert "already forwarded" in again


def test_checks_complete_names_the_undeliverable_one_which_stays_in_the_digest(
    tuesday: Mash,
) -> None:
    mash = tuesday
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    mash.smtp.script(["250 OK", "550 5.1.1 housing: no such mailbox"])
    _check(mash, "police", "housing")
    with mash.daemon.db.transaction() as session:
        statuses = dict(session.execute(select(Check.agency, Check.status)).all())
    (request,) = mash.to("police-mash@met.example")
    # Refused outright (as a bounce would): no answer will come, so no chasing either.
    assert statuses == {"police": "pending", "housing": "undeliverable"}
    mash.arrive(_answer(_mail(request), "police-mash@met.example", "Nothing known.", 1))
    complete = [m for m in mash.to(MANAGER) if "checks complete" in _text(m)]
    (done,) = complete
    assert "RED police: answered" in _text(done)
    assert "RED housing: UNDELIVERABLE" in _text(done)
    mash.clock.set(TUESDAY.replace(hour=13, minute=0))
    digest = _digest(mash)
    assert "Checks that could not be delivered (1)" in digest
    # A manager acts: the outcome settles it, and it leaves the digest.
    mash.cli(
        "decide",
        "MASH-2026-000001",
        "--by",
        "Duty Manager",
        "--decision",
        "D",
        "--outcome",
        "early-help",
        "--reason",
        "Family accepts support.",
    )
    mash.clock.set(TUESDAY.replace(hour=13, minute=0) + timedelta(days=1))
    assert "Checks that could not be delivered" not in _digest(mash)


def test_an_unverified_reply_reporting_increased_risk_is_held_and_still_alerts_the_edt(
    tuesday: Mash,
) -> None:
    """A reply from an address the agency never registered cannot answer the check, but the
    risk it reports may be real: held for a person, and an urgent alert says it is unverified
    (out of hours to the EDT too). Without the risk, only the managers' triage note goes."""
    mash = tuesday
    mash.arrive((REFERRALS / "plain-school.eml").read_bytes())
    _check(mash, "police", "housing")
    (police,) = mash.to("police-mash@met.example")
    (housing,) = mash.to("housing@hackney.example")
    friday_night = datetime(2026, 3, 6, 22, 30, tzinfo=LONDON)
    mash.clock.set(friday_night)
    mash.arrive(
        _answer(
            _mail(police),
            "duty.sergeant@gmail.example",
            "RISK: INCREASED\nFather released from custody; he has threatened to kill the mother.",
            1,
        )
    )
    mash.arrive(_answer(_mail(housing), "someone@gmail.example", "Not known to housing.", 2))
    (alert,) = mash.alerts()
    assert alert.reference == "MASH-2026-000001" and alert.edt and alert.out_of_hours
    assert "NOT VERIFIED" in " ".join(alert.lines)
    assert mash.contact().urgent
    (edt,) = mash.to(EDT)
    assert "NOT VERIFIED" in _text(edt) and "threatened to kill" in _text(edt)
    with mash.daemon.db.transaction() as session:
        statuses = {c.agency: c.status for c in session.execute(select(Check)).scalars()}
    assert statuses == {"police": "held", "housing": "held"}  # neither counts as an answer
    triage = [m for m in mash.to(MANAGER) if "a check reply needs a person" in _text(m)]
    assert len(triage) == 2


def test_an_edt_copy_refused_at_night_tells_the_managers_even_with_no_escalate_to(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    """The managers' own alert arrived; the EDT's copy was refused. Telling the managers is
    no loop, so they are told (at night, so that someone phones the EDT)."""
    no_escalation = EXTRA.replace(f'escalate_to = ["{HEAD}"]\n', "")
    mash = Mash(dovecot, smtp_sink, make_config, sqlite_url, SATURDAY_NIGHT, extra=no_escalation)
    smtp_sink.script(["250 2.0.0 OK", "550 5.1.1 <edt@hackney.example>: no such user"])
    mash.arrive(urgent_referral())
    told = [m for m in mash.to(MANAGER) if "could not be delivered" in _text(m)]
    assert len(told) == 1 and "edt@hackney.example" in _text(told[0])
    assert "Phone them now" in _text(told[0])
