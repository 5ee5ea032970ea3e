"""The managers' digest: the right items, at the right slots, once, and never empty."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from helpers import config
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.domain.contacts import ContactDraft, store
from gateway.outbound.compose import Letters
from gateway.reports.digest import latest_slot, send_digest
from gateway.reports.meeting import send_meeting_agenda
from gateway.store.db import Database
from gateway.store.models import DigestRun, Message, OutboxRow
from gateway.timescales import BusinessCalendar

MONDAY_0830 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # London is on GMT in early March


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'digest.db'}")
    db.upgrade()
    return db


def _contact(db: Database, at: datetime, **kw) -> str:  # type: ignore[no-untyped-def]
    draft = ContactDraft(
        received_at=at,
        channel=kw.pop("channel", "email"),
        source="school",
        referral={"children": []},
        missing=kw.pop("missing", ()),
        out_of_hours=False,
        immediate_risk=False,
        reply_address="someone@example.org",
        **kw,
    )
    with db.transaction() as session:
        return store(session, draft, at, None, at.year).reference


def _digests(db: Database) -> list[OutboxRow]:
    with db.transaction() as session:
        rows = session.execute(select(OutboxRow).where(OutboxRow.purpose == "managers' digest"))
        return list(rows.scalars())


def _text(raw: bytes) -> str:
    message = message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    return f"{message['To']}\n{body.get_content()}"


def test_slots_are_working_day_times_and_missed_ones_collapse() -> None:
    cfg = config()
    calendar = BusinessCalendar.from_config(cfg)
    assert latest_slot(MONDAY_0830, cfg, calendar) == datetime(
        2026, 2, 27, 16, 0, tzinfo=calendar.zone
    )  # Friday 16:00: the weekend has no slots
    at_1300 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert latest_slot(at_1300, cfg, calendar) == at_1300
    # Good Friday and Easter Monday 2026 are bank holidays.
    easter_monday = datetime(2026, 4, 6, 17, 0, tzinfo=UTC)
    assert latest_slot(easter_monday, cfg, calendar) == datetime(
        2026, 4, 2, 16, 0, tzinfo=calendar.zone
    )
    assert latest_slot(MONDAY_0830, config("[digest]\ntimes = []\n"), calendar) is None


def test_digest_lists_incomplete_referrals_rfis_due_and_quarantine_once(tmp_path: Path) -> None:
    db = _db(tmp_path)
    cfg = config()
    letters = Letters()
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC))
    incomplete = _contact(db, clock.now() - timedelta(hours=20), missing=("address", "consent"))
    _contact(db, clock.now() - timedelta(hours=19))  # complete: not listed
    calendar = BusinessCalendar.from_config(cfg)
    overdue = _contact(db, clock.now(), channel="rfi", due_at=clock.now() - timedelta(hours=3))
    soon = _contact(
        db, clock.now(), channel="rfi", due_at=calendar.add_working_days(clock.now(), 2)
    )
    _contact(db, clock.now(), channel="rfi", due_at=calendar.add_working_days(clock.now(), 5))
    with db.transaction() as session:
        session.add(
            Message(
                sha256="0" * 64,
                raw=b"x",
                size=1,
                channel="imap",
                received_at=clock.now(),
                ingested_at=clock.now(),
                state="quarantined",
                quarantine_reason="unhandled-kind",
            )
        )

    assert send_digest(db, cfg, clock, letters) == 6
    assert send_digest(db, cfg, clock, letters) is None  # the slot is taken
    (row,) = _digests(db)
    text = _text(row.raw)
    assert "Incomplete referrals (1)" in text and f"{incomplete} " in text
    assert "Contacts waiting for a decision (2)" in text
    assert "missing address, consent" in text
    assert f"{overdue}: overdue by 3 hours" in text and f"{soon}: answer due in " in text
    assert "message 1: unhandled-kind" in text
    assert row.recipients == ["duty.manager@hackney.example"]
    # Managers read: times in words, what to do by email, the command line as a footnote.
    assert not re.search(r"\d{3,} minutes|\d+ seconds", text), text
    assert re.search(r"received \d+ (hours?|minutes?|days?)( \d+ minutes?)? ago", text), text
    assert "What to do: Reply with DECISION A, B, C or D" in text
    assert "For operators, the command-line equivalents:" in text
    assert re.search(r"\[\d\] mash-gateway decide REF --decision C", text), text
    assert str(row.raw).count("MASH digest") == 1

    # The next slot sends again, once.
    clock.set(datetime(2026, 3, 2, 13, 5, tzinfo=UTC))
    assert send_digest(db, cfg, clock, letters) == 6
    assert send_digest(db, cfg, clock, letters) is None
    assert len(_digests(db)) == 2


def test_a_pile_of_quarantined_mail_is_a_count_and_the_oldest_few(tmp_path: Path) -> None:
    db = _db(tmp_path)
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC))
    with db.transaction() as session:
        for n in range(25):
            session.add(
                Message(
                    sha256=f"{n:064d}",
                    raw=b"x",
                    size=1,
                    channel="imap",
                    received_at=clock.now() - timedelta(days=25 - n),
                    ingested_at=clock.now(),
                    state="quarantined",
                    quarantine_reason="unhandled-kind",
                )
            )
    assert send_digest(db, config(), clock, Letters()) == 10
    text = _text(_digests(db)[0].raw)
    assert "Quarantined messages waiting for a person: 25 in all, the oldest 10 listed" in text
    assert "message 1: unhandled-kind (received 25 days ago)" in text
    assert "message 10: " in text and "message 11: " not in text


def test_an_empty_digest_is_not_sent_but_its_slot_is_used(tmp_path: Path) -> None:
    db = _db(tmp_path)
    clock = FrozenClock(datetime(2026, 3, 2, 9, 1, tzinfo=UTC))
    assert send_digest(db, config(), clock, Letters()) == 0
    assert _digests(db) == []
    with db.transaction() as session:
        (run,) = session.execute(select(DigestRun)).scalars()
        assert run.items == 0 and run.kind == "managers"


def test_daily_meeting_agenda_lists_contacts_since_the_last_one_critical_first(
    tmp_path: Path,
) -> None:
    db = _db(tmp_path)
    cfg = config()
    letters = Letters()
    friday_evening = datetime(2026, 2, 27, 19, 0, tzinfo=UTC)
    _contact(db, friday_evening, channel="police-notification")  # source "school" in _contact
    urgent = ContactDraft(
        received_at=friday_evening + timedelta(hours=30),
        channel="email",
        source="police",
        referral={"children": []},
        missing=(),
        out_of_hours=True,
        immediate_risk=True,
        reply_address=None,
        daily_meeting=True,
    )
    with db.transaction() as session:
        critical = store(session, urgent, urgent.received_at, None, 2026).reference
    clock = FrozenClock(MONDAY_0830 + timedelta(minutes=1))
    assert send_meeting_agenda(db, cfg, clock, letters) == 2
    assert send_meeting_agenda(db, cfg, clock, letters) is None
    (row,) = [r for r in _all_outbox(db) if r.purpose == "daily MASH meeting agenda"]
    text = _text(row.raw)
    assert text.index("URGENT: possible immediate risk") < text.index("Police notifications")
    assert critical in text.split("Police notifications")[0]
    # Tuesday's agenda starts where Monday's ended: nothing new, nothing sent.
    clock.set(datetime(2026, 3, 3, 8, 45, tzinfo=UTC))
    assert send_meeting_agenda(db, cfg, clock, letters) == 0
    assert send_meeting_agenda(db, config("[meeting]\nenabled = false\n"), clock, letters) is None


def _all_outbox(db: Database) -> list[OutboxRow]:
    with db.transaction() as session:
        return list(session.execute(select(OutboxRow)).scalars())


def test_the_agenda_lets_partners_prepare_and_goes_only_to_the_meeting_list(
    tmp_path: Path,
) -> None:
    db = _db(tmp_path)
    cfg = config('[meeting]\nrecipients = ["dmm@hackney.example"]\n')
    sunday = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    draft = ContactDraft(
        received_at=sunday,
        channel="email",
        source="school",
        referral={
            "children": [
                {"given_name": "Amira", "family_name": "Okafor", "date_of_birth": "2019-04-03"},
                {"given_name": "Baby", "family_name": "Okafor", "unborn": True,
                 "expected_date": "2026-06-01"},
            ],
            "concern": "Amira arrived with bruising to her upper arm.\nShe told her teacher "
            "that her father grabbed her.",
        },
        missing=(),
        out_of_hours=True,
        immediate_risk=True,
        reply_address="someone@example.org",
    )
    with db.transaction() as session:
        contact = store(session, draft, sunday, None, 2026)
        contact.status = "csc-screening"
        contact.decision_due_at = MONDAY_0830 + timedelta(hours=3)
        reference = contact.reference
    clock = FrozenClock(MONDAY_0830 + timedelta(minutes=1))
    assert send_meeting_agenda(db, cfg, clock, Letters()) == 1
    (row,) = [r for r in _all_outbox(db) if r.purpose == "daily MASH meeting agenda"]
    assert row.recipients == ["dmm@hackney.example"]  # the meeting list, not every manager
    text = _text(row.raw)
    assert f"{reference}: A.O. (6), B.O. (unborn, due 2026-06-01)" in text
    assert "Amira" not in text  # initials, not names: the agenda travels further
    assert "Concern: A. arrived with bruising to her upper arm. She told" in text
    assert "Urgency: IMMEDIATE RISK, arrived out of hours" in text
    assert "Checks: none requested" in text
    assert "Decision due: statutory-response decision due in 2 hours 59 minutes" in text
