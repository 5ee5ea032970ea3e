"""Referrals through Dovecot become contacts; referrers are acknowledged; urgency alerts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from zoneinfo import ZoneInfo

from forms import DOCX_MIME, docx_form, with_attachment
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import Received, RecordingSmtp
from helpers import plain_message
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.store.models import AuditEvent, Contact

REFERRALS = Path(__file__).parent / "data" / "referrals"
MAIL = Path(__file__).parent / "data" / "mail"
LONDON = ZoneInfo("Europe/London")
MakeConfig = Callable[..., tuple[Config, Path]]


def _text(received: Received) -> str:
    message = message_from_bytes(received.data, policy=default)
    body = message.get_body(("plain",))
    assert body is not None
    return str(message["Subject"]) + "\n" + body.get_content()


def _run(
    dovecot: Dovecot, config: Config, clock: FrozenClock, arrivals: list[tuple[str, datetime]]
) -> Daemon:
    for name, arrived in arrivals:
        dovecot.append("mash", (REFERRALS / name).read_bytes(), arrived=arrived)
    daemon = Daemon(config, clock)
    daemon.prepare()
    report = daemon.run_once()
    assert report.mailbox_errors == {}
    return daemon


def test_referral_in_hours_becomes_contact_and_is_acknowledged(
    db_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, path = make_config(db_url=db_url, dovecot=dovecot, smtp=smtp_sink)
    tuesday = datetime(2026, 3, 3, 10, 12, tzinfo=LONDON)
    daemon = _run(dovecot, config, clock, [("plain-school.eml", tuesday)])
    with daemon.db.transaction() as session:
        (contact,) = session.execute(select(Contact)).scalars()
        assert contact.reference == "MASH-2026-000001"
        assert contact.source == "school" and not contact.out_of_hours
        assert not contact.incomplete and contact.received_at == tuesday
    (ack,) = smtp_sink.messages
    assert ack.recipients == ("sam.teacher@stjohns-school.example",)
    text = _text(ack)
    assert "MASH-2026-000001" in text and "Emergency Duty Team" not in text
    assert dovecot.count("mash", "Processed") == 1
    listed = subprocess.run(
        [sys.executable, "-m", "gateway", "-c", str(path), "contacts", "list", "--json"],
        capture_output=True,
        text=True,
    )
    (row,) = json.loads(listed.stdout)
    assert row["reference"] == "MASH-2026-000001" and row["incomplete"] is False
    assert row["children"] == [
        {
            "given_name": "Amira",
            "family_name": "Okafor",
            "date_of_birth": "2019-04-03",
            "nhs_number": "9434765919",
        }
    ]
    assert row["referrer"]["name"] == "Sam Teacher"
    shown = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway",
                "-c",
                str(path),
                "contacts",
                "show",
                "MASH-2026-000001",
                "--json",
            ],
            capture_output=True,
            text=True,
        ).stdout
    )
    assert [e["action"] for e in shown["timeline"]] == [
        "contact-created",
        "mail-queued",
        "mail-sent",
    ]


def test_public_referral_out_of_hours_is_incomplete_and_told_the_edt_number(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    evening = datetime(2026, 3, 3, 21, 30, tzinfo=LONDON)
    daemon = _run(dovecot, config, clock, [("missing-fields.eml", evening)])
    with daemon.db.transaction() as session:
        (contact,) = session.execute(select(Contact)).scalars()
        assert contact.incomplete and contact.out_of_hours and contact.source == "individual"
        assert "address" in contact.missing
    (ack,) = smtp_sink.messages
    text = _text(ack)
    assert "0208 356 2710" in text and "call 999" in text
    assert "address" in text  # asks for what is missing
    assert "Tom" not in text and "crying" not in text  # no case detail to the public


def test_immediate_risk_alerts_managers_and_references_are_sequential(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    sunday = datetime(2026, 3, 1, 3, 0, tzinfo=LONDON)
    daemon = _run(
        dovecot, config, clock, [("two-children-unborn.eml", sunday), ("plain-school.eml", sunday)]
    )
    with daemon.db.transaction() as session:
        refs = sorted(c.reference for c in session.execute(select(Contact)).scalars())
    assert refs == ["MASH-2026-000001", "MASH-2026-000002"]
    alerts = [m for m in smtp_sink.messages if m.recipients == ("duty.manager@hackney.example",)]
    assert len(alerts) == 1
    assert "immediate risk" in _text(alerts[0]).lower()
    acks = [m for m in smtp_sink.messages if m not in alerts]
    assert {m.recipients for m in acks} == {
        ("pc.jones@met.police.example",),
        ("sam.teacher@stjohns-school.example",),
    }


def test_automatic_mail_and_hostile_referrals(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    dovecot.append("mash", (MAIL / "ooo-outlook.eml").read_bytes())
    daemon = _run(
        dovecot, config, clock, [("hostile.eml", datetime(2026, 3, 3, 11, 0, tzinfo=LONDON))]
    )
    (ack,) = smtp_sink.messages  # the hostile referral is acknowledged, the auto-reply never
    text = _text(ack)
    assert "{{" not in text and "49" not in text
    assert ack.recipients == ("someone@mail.example",)
    with daemon.db.transaction() as session:
        (contact,) = session.execute(select(Contact)).scalars()
        assert contact.referral["concern"].startswith("{{ 7*7 }}")


def test_information_request_is_due_in_ten_working_days(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    received = datetime(2026, 3, 31, 11, 0, tzinfo=LONDON)  # Good Friday, Easter Monday ahead
    daemon = _run(dovecot, config, clock, [("rfi-probation.eml", received)])
    with daemon.db.transaction() as session:
        (contact,) = session.execute(select(Contact)).scalars()
        assert contact.channel == "rfi" and contact.status == "open"
        assert contact.due_at == datetime(2026, 4, 16, 17, 0, tzinfo=LONDON)
        assert contact.missing == [] and not contact.incomplete
    (ack,) = smtp_sink.messages
    text = _text(ack)
    assert "information request received" in text and "Thursday 16 April 2026" in text


def test_police_notification_out_of_hours_goes_to_the_daily_meeting(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    overnight = datetime(2026, 3, 1, 2, 40, tzinfo=LONDON)
    daytime = datetime(2026, 3, 3, 11, 0, tzinfo=LONDON)
    merlin = (REFERRALS / "police-merlin.eml").read_bytes()
    dovecot.append("mash", merlin, arrived=overnight)
    dovecot.append("mash", merlin.replace(b"merlin-1@", b"merlin-2@"), arrived=daytime)
    daemon = Daemon(config, clock)
    daemon.prepare()
    daemon.run_once()
    with daemon.db.transaction() as session:
        contacts = list(session.execute(select(Contact).order_by(Contact.id)).scalars())
    assert [c.channel for c in contacts] == ["police-notification"] * 2
    assert [c.source for c in contacts] == ["police", "police"]
    # Every notification goes on the Daily MASH Meeting's agenda, overnight or not (protocol 6).
    assert [c.daily_meeting for c in contacts] == [True, True]
    assert [c.missing for c in contacts] == [[], []]


def test_history_links_earlier_contacts_and_flags_re_referrals(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    original = (REFERRALS / "plain-school.eml").read_bytes()
    # The same child: no NHS number, family name first in capitals, a hyphen, an accent.
    again = (
        original.replace(b"Child's name: Amira Okafor", b"Child's name: OKAFOR, Am\xc3\xadra")
        .replace(b"NHS number: 943 476 5919\n", b"")
        .replace(b"ref-plain-1@", b"ref-2@")
    )
    other = (
        original.replace(b"Amira Okafor", b"Amina Okoro")
        .replace(b"ref-plain-1@", b"r3@")
        .replace(b"NHS number: 943 476 5919\n", b"")
    )
    later = original.replace(b"ref-plain-1@", b"ref-4@")
    arrivals = [
        (original, datetime(2025, 1, 10, 10, 0, tzinfo=LONDON)),
        (again, datetime(2026, 3, 3, 10, 0, tzinfo=LONDON)),  # 14 months on: linked only
        (other, datetime(2026, 3, 4, 10, 0, tzinfo=LONDON)),  # another child
        (later, datetime(2026, 5, 1, 10, 0, tzinfo=LONDON)),  # within 12 months of the 2nd
    ]
    for raw, arrived in arrivals:
        dovecot.append("mash", raw, arrived=arrived)
    daemon = Daemon(config, clock)
    daemon.prepare()
    daemon.run_once()
    with daemon.db.transaction() as session:
        rows = [
            (c.reference, c.linked, c.re_referral)
            for c in session.execute(select(Contact).order_by(Contact.received_at)).scalars()
        ]
    first, second, third, fourth = rows
    assert first[1:] == ([], False)
    assert second[1:] == ([first[0]], False)
    assert third[1:] == ([], False)
    assert fourth[1:] == ([first[0], second[0]], True)


def test_attached_word_form_forwarded_referral_and_a_reply_about_a_contact(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    tuesday = datetime(2026, 3, 3, 10, 30, tzinfo=LONDON)
    word = with_attachment(docx_form(), "referral.docx", DOCX_MIME, subject="Referral")
    dovecot.append("mash", word, arrived=tuesday)
    _run(dovecot, config, clock, [("forwarded-quoted.eml", tuesday)])
    acks = {m.recipients: _text(m) for m in smtp_sink.messages}
    assert set(acks) == {
        ("hana.visitor@nhs.example",),
        ("priya.head@stjohns-school.example",),  # the colleague who forwarded it
    }
    assert "recorded them as the referrer" in acks[("priya.head@stjohns-school.example",)]
    assert "MASH-2026-000001" in acks[("hana.visitor@nhs.example",)]

    # The health visitor answers the acknowledgement: filed on the contact, not a new one.
    ack = next(m for m in smtp_sink.messages if m.recipients == ("hana.visitor@nhs.example",))
    our_id = str(message_from_bytes(ack.data, policy=default)["Message-ID"])
    reply = plain_message(
        90,
        sender="hana.visitor@nhs.example",
        subject="Re: MASH referral received",
        body="The family moved last week; new address to follow.\n",
        headers={"In-Reply-To": our_id},
    )
    # A member of the public writing in their own words, no form at all.
    worried = plain_message(
        91,
        sender="Pat Neighbour <pat@example.org>",
        subject="worried about the little boy next door",
        body="I keep hearing a child screaming at night and he is often left alone.\n",
    )
    daemon = _run_raw(dovecot, config, clock, [reply, worried])
    with daemon.db.transaction() as session:
        contacts = session.execute(select(Contact).order_by(Contact.id)).scalars().all()
        assert [c.reference for c in contacts] == [f"MASH-2026-00000{n}" for n in (1, 2, 3)]
        free = contacts[2]
        assert free.incomplete and free.source == "individual"
        assert "child name" in free.missing and "concern" not in free.missing
        assert free.referral["form"] == "free text"
        assert free.referral["referrer"]["name"] == "Pat Neighbour"
        (event,) = session.execute(
            select(AuditEvent).where(AuditEvent.action == "correspondence")
        ).scalars()
        assert event.subject_ref == "MASH-2026-000001"
    # The public referral's ack, none for the reply; "left alone" is urgent: an alert too.
    assert len(smtp_sink.messages) == 4
    assert sorted(m.recipients for m in smtp_sink.messages[-2:]) == [
        ("duty.manager@hackney.example",),
        ("pat@example.org",),
    ]


def _run_raw(dovecot: Dovecot, config: Config, clock: FrozenClock, messages: list[bytes]) -> Daemon:
    for raw in messages:
        dovecot.append("mash", raw)
    daemon = Daemon(config, clock)
    daemon.prepare()
    assert daemon.run_once().mailbox_errors == {}
    return daemon
