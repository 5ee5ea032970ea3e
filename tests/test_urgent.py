"""Nothing urgent waits: the Emergency Duty Team out of hours, one urgency screen for every
message, alerts acknowledged or escalated. Real Dovecot, aiosmtpd and an injected clock."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import Received, RecordingSmtp
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.store.alert_models import Alert
from gateway.store.models import Contact

REFERRALS = Path(__file__).parent / "data" / "referrals"
LONDON = ZoneInfo("Europe/London")
MakeConfig = Callable[..., tuple[Config, Path]]
SATURDAY_NIGHT = datetime(2026, 3, 7, 23, 40, tzinfo=LONDON)
MANAGER = "duty.manager@hackney.example"
EDT = "edt@hackney.example"
HEAD = "head.of.service@hackney.example"
EXTRA = f"""
[hours]
edt_address = "{EDT}"
[alerts]
acknowledge_within = "30 minutes"
escalations = 2
escalate_to = ["{HEAD}"]
"""


def urgent_referral(n: int = 1) -> bytes:
    """The school's form, on a Saturday night: immediate risk, and the worry in its words."""
    raw = (REFERRALS / "plain-school.eml").read_bytes()
    return (
        raw.replace(b"Immediate risk: No", b"Immediate risk: Yes")
        .replace(
            b"Concern: Amira arrived with bruising to her upper arm.",
            b"Concern: Amira's father has come back drunk and is smashing things; "
            b"she rang her teacher, frightened.",
        )
        .replace(b"ref-plain-1@", f"ref-urgent-{n}@".encode())
    )


def _mail(received: Received) -> EmailMessage:
    message = message_from_bytes(received.data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def _text(received: Received) -> str:
    message = _mail(received)
    body = message.get_body(("plain",))
    assert body is not None
    return f"{message['Subject']}\n{body.get_content()}"


def reply_to(received: Received, sender: str, body: str, n: int) -> bytes:
    original = _mail(received)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "mash@hackney.example"
    msg["Subject"] = f"RE: {original['Subject']}"
    msg["Message-ID"] = f"<answer-{n}@example.org>"
    msg["In-Reply-To"] = str(original["Message-ID"])
    msg.set_content(body)
    return msg.as_bytes()


class Mash:
    def __init__(
        self,
        dovecot: Dovecot,
        smtp: RecordingSmtp,
        make_config: MakeConfig,
        db_url: str,
        start: datetime,
        extra: str = EXTRA,
        **kwargs: Any,
    ) -> None:
        self.cfg, self.path = make_config(
            db_url=db_url, dovecot=dovecot, smtp=smtp, extra=extra, **kwargs
        )
        self.dovecot, self.smtp = dovecot, smtp
        self.clock = FrozenClock(start)
        self.daemon = Daemon(self.cfg, self.clock)
        self.daemon.prepare()

    def arrive(self, *raws: bytes) -> None:
        for raw in raws:
            self.dovecot.append("mash", raw, arrived=self.clock.now())
        self.run()

    def run(self) -> None:
        assert self.daemon.run_once().mailbox_errors == {}

    def later(self, delta: timedelta) -> None:
        self.clock.set(self.clock.now() + delta)
        self.run()

    def cli(self, *args: str, code: int = 0) -> str:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway",
                "-c",
                str(self.path),
                "--now",
                self.clock.now().isoformat(),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == code, done.stdout + done.stderr
        return done.stdout + (done.stderr if code else "")

    def to(self, address: str) -> list[Received]:
        return [m for m in self.smtp.messages if address in m.recipients]

    def contact(self, ref: str = "MASH-2026-000001") -> Contact:
        with self.daemon.db.transaction() as session:
            return session.execute(select(Contact).where(Contact.reference == ref)).scalar_one()

    def alerts(self) -> list[Alert]:
        with self.daemon.db.transaction() as session:
            return list(session.execute(select(Alert).order_by(Alert.id)).scalars())


@pytest.fixture
def mash(db_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig) -> Mash:
    """Saturday night, on SQLite and (where configured) PostgreSQL."""
    return Mash(dovecot, smtp_sink, make_config, db_url, SATURDAY_NIGHT)


def test_a_saturday_night_immediate_risk_referral_reaches_the_edt_and_the_managers(
    mash: Mash,
) -> None:
    mash.arrive(urgent_referral())
    contact = mash.contact()
    assert contact.urgent and contact.out_of_hours
    # The alerts go ahead of the referrer's acknowledgement queued with them.
    first, second, ack = mash.smtp.messages
    assert {first.recipients, second.recipients} == {(MANAGER,), (EDT,)}
    assert ack.recipients == ("sam.teacher@stjohns-school.example",)
    (alert,) = mash.alerts()
    assert alert.edt and alert.out_of_hours and alert.acknowledged_at is None
    (edt,) = mash.to(EDT)
    text = _text(edt)
    # What the EDT needs to act: who, where, the worry, and whom to call back.
    for needed in (
        "MASH-2026-000001",
        f"[ALERT #{alert.token}]",
        "Amira Okafor",
        "12 Mare Street, London, E8 1AA",
        "smashing things",
        "Sam Teacher",
        "020 7946 0000",
        "sam.teacher@stjohns-school.example",
    ):
        assert needed in text, needed
    assert str(_mail(edt)["Message-ID"]).startswith(f"<alert.{alert.token}.")
    (manager,) = mash.to(MANAGER)
    assert "The form says immediate risk" in _text(manager)
    assert "Emergency Duty Team" in _text(manager)

    (row,) = json.loads(mash.cli("contacts", "list", "--json"))
    assert row["urgent"] is True
    assert row["urgent_reasons"][0]["matched"] == "immediate risk: yes"
    assert row["urgent_reasons"][0]["message"] == contact.message_id
    shown = json.loads(mash.cli("contacts", "show", "MASH-2026-000001", "--json"))
    assert shown["urgent"] is True and shown["urgent_reasons"] == row["urgent_reasons"]
    (listed,) = json.loads(mash.cli("alerts", "list", "--open", "--json"))
    assert listed["state"] == "open" and listed["edt"] is True

    # The EDT answers from its own address: that acknowledges it (out of hours, it was sent).
    mash.clock.set(SATURDAY_NIGHT + timedelta(minutes=12))
    mash.arrive(reply_to(edt, EDT, "EDT social worker on the way; police informed.", 1))
    (alert,) = mash.alerts()
    assert alert.acknowledged_by == f"Emergency Duty Team <{EDT}>"
    assert alert.acknowledged_at == SATURDAY_NIGHT + timedelta(minutes=12)
    assert json.loads(mash.cli("alerts", "list", "--open", "--json")) == []
    # Acknowledged: an hour on, nothing is sent again.
    sent = len(mash.smtp.messages)
    mash.later(timedelta(hours=1))
    assert len(mash.smtp.messages) == sent
    print(mash.cli("audit", "show", "MASH-2026-000001"))  # the closing note quotes this


def test_a_reply_to_a_public_acknowledgement_is_screened_too(mash: Mash) -> None:
    mash.clock.set(SATURDAY_NIGHT - timedelta(hours=3))
    mash.arrive((REFERRALS / "missing-fields.eml").read_bytes())
    (ack,) = mash.smtp.messages
    assert not mash.contact().urgent
    sender = str(_mail(ack)["To"])
    # The quoted acknowledgement says "If a child is in immediate danger, call 999": that
    # line is ours, never a worry; "no immediate danger" is not urgent either.
    calm = reply_to(ack, sender, "Update: there is no immediate danger now, he has left.", 1)
    calm += b"\n> If a child is in immediate danger, call 999.\n"
    mash.arrive(calm)
    assert len(mash.smtp.messages) == 1 and not mash.contact().urgent
    mash.clock.set(SATURDAY_NIGHT)
    mash.arrive(
        reply_to(ack, sender, "He has come back. The children are in immediate danger.", 2)
    )
    contact = mash.contact()
    assert contact.urgent
    assert {m.recipients for m in mash.smtp.messages[1:]} == {(MANAGER,), (EDT,)}
    assert "The children are in immediate danger" in _text(mash.to(EDT)[0])
    (row,) = json.loads(mash.cli("contacts", "list", "--json"))
    (reason,) = row["urgent_reasons"]
    assert reason["matched"] == "immediate danger" and reason["message"] != contact.message_id


def test_an_alert_nobody_acknowledges_is_escalated_once_per_rung(mash: Mash) -> None:
    mash.arrive(urgent_referral())
    assert len(mash.to(HEAD)) == 0
    mash.later(timedelta(minutes=29))
    assert len(mash.to(MANAGER)) == 1  # not yet
    mash.later(timedelta(minutes=1))
    assert len(mash.to(MANAGER)) == 2 and len(mash.to(HEAD)) == 1 and len(mash.to(EDT)) == 2
    assert "NOT ACKNOWLEDGED (1)" in _text(mash.to(HEAD)[0])
    # Two more sweeps at the same moment (another instance, a restart) send nothing more.
    mash.daemon.sweep()
    mash.run()
    assert len(mash.to(HEAD)) == 1
    (alert,) = mash.alerts()
    assert alert.rung == 1
    # The second rung, then no more (escalations = 2).
    mash.later(timedelta(minutes=30))
    mash.later(timedelta(hours=3))
    assert len(mash.to(HEAD)) == 2
    (alert,) = mash.alerts()
    assert alert.rung == 2 and alert.next_escalation_at is None
    with mash.daemon.db.transaction() as session:
        from gateway.store.models import AuditEvent

        steps = session.execute(
            select(AuditEvent.detail).where(AuditEvent.action == "alert-escalated")
        ).scalars()
        assert [json.loads(d)["rung"] for d in steps] == [1, 2]
    # Someone who is not a manager cannot acknowledge it, by command or by mail.
    refused = mash.cli("alerts", "ack", str(alert.id), "--by", "Eve", code=2)
    assert "is not a configured [[manager]]" in refused
    mash.arrive(reply_to(mash.to(MANAGER)[0], "eve@example.org", "ok", 9))
    assert mash.alerts()[0].acknowledged_at is None
    assert "acknowledged by Duty Manager" in mash.cli(
        "alerts", "ack", str(alert.id), "--by", "duty.manager@HACKNEY.example"
    )
    assert mash.alerts()[0].acknowledged_by == f"Duty Manager <{MANAGER}>"


def test_an_alert_acknowledged_by_a_managers_reply_is_not_escalated(mash: Mash) -> None:
    mash.arrive(urgent_referral())
    (alert_mail,) = mash.to(MANAGER)
    mash.clock.set(SATURDAY_NIGHT + timedelta(minutes=5))
    mash.arrive(reply_to(alert_mail, MANAGER, "Seen; phoning the EDT now.", 1))
    (alert,) = mash.alerts()
    assert alert.acknowledged_by == f"Duty Manager <{MANAGER}>"
    mash.later(timedelta(hours=2))
    assert len(mash.to(MANAGER)) == 1 and mash.to(HEAD) == []


def test_in_hours_an_urgent_alert_goes_to_the_managers_only(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    tuesday = datetime(2026, 3, 3, 10, 30, tzinfo=LONDON)
    mash = Mash(dovecot, smtp_sink, make_config, sqlite_url, tuesday)
    mash.arrive(urgent_referral())
    assert len(mash.to(MANAGER)) == 1 and mash.to(EDT) == []
    (alert,) = mash.alerts()
    assert not alert.edt and not alert.out_of_hours
    # The EDT was not sent it, so the EDT's word does not acknowledge it.
    mash.arrive(reply_to(mash.to(MANAGER)[0], EDT, "noted", 1))
    assert mash.alerts()[0].acknowledged_at is None


def test_an_in_hours_alert_escalated_into_the_evening_reaches_the_edt_whose_answer_counts(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    """Raised at 16:50, unanswered: the rung at 17:20 is out of hours, so the EDT has it, and
    from then on the EDT's reply acknowledges it."""
    evening = datetime(2026, 3, 3, 16, 50, tzinfo=LONDON)
    mash = Mash(dovecot, smtp_sink, make_config, sqlite_url, evening)
    mash.arrive(urgent_referral())
    assert mash.to(EDT) == [] and not mash.alerts()[0].edt
    mash.later(timedelta(minutes=30))
    (copy,) = mash.to(EDT)
    (alert,) = mash.alerts()
    assert alert.rung == 1 and alert.edt
    mash.arrive(reply_to(copy, EDT, "We have it; a social worker is on the way.", 2))
    (alert,) = mash.alerts()
    assert alert.acknowledged_at is not None and alert.next_escalation_at is None


def test_a_forged_acknowledgement_is_held_the_managers_told_and_the_alert_still_escalates(
    sqlite_url: str, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig
) -> None:
    """A reply with the alert's token and a manager's From:, which our boundary server saw
    fail DMARC: it acknowledges nothing (that would stop the ladder), and a person is told."""
    mash = Mash(
        dovecot, smtp_sink, make_config, sqlite_url, SATURDAY_NIGHT,
        gateway_extra='authserv_id = "mx.hackney.example"\n',
    )  # fmt: skip
    mash.arrive(urgent_referral())
    (alert_mail,) = mash.to(MANAGER)
    forged = (
        b"Authentication-Results: mx.hackney.example; dmarc=fail header.from=hackney.example\r\n"
        + reply_to(alert_mail, MANAGER, "Seen, all in hand.", 5)
    )
    mash.arrive(forged)
    (alert,) = mash.alerts()
    assert alert.acknowledged_at is None
    (note,) = [m for m in mash.to(MANAGER) if "a reply to an urgent alert needs" in _text(m)]
    assert "DMARC failed" in _text(note)
    mash.later(timedelta(minutes=30))
    assert mash.alerts()[0].rung == 1  # still sent again
    # The manager's own reply (no DMARC failure) still acknowledges it.
    mash.arrive(reply_to(alert_mail, MANAGER, "Seen; calling the school.", 6))
    assert mash.alerts()[0].acknowledged_at is not None


def test_the_edts_copy_is_sealed_to_its_pinned_key(
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from pgp_world import Party

    short = tmp_path_factory.mktemp("edt")  # gpg-agent's socket path has a length limit
    mash_party = Party(short, "Hackney MASH", "mash@hackney.example")
    edt_party = Party(short, "Emergency Duty Team", EDT)
    home = short / "gateway"
    try:
        mash = Mash(
            dovecot,
            smtp_sink,
            make_config,
            sqlite_url,
            SATURDAY_NIGHT,
            extra=EXTRA.replace(
                f'edt_address = "{EDT}"',
                f'edt_address = "{EDT}"\nedt_key = "{edt_party.fingerprint}"',
            ),
            gateway_extra=f'gnupg_home = "{home}"\nsigning_key = "{mash_party.fingerprint}"',
        )
        keyring = mash.daemon.keyring
        assert keyring is not None
        keyring.import_keys(mash_party.secret())
        keyring.import_keys(edt_party.public())
        mash.arrive(urgent_referral())
        (sealed,) = mash.to(EDT)
        outer = _mail(sealed)
        assert outer.get_content_type() == "multipart/encrypted"
        assert b"Amira" not in sealed.data and b"Mare Street" not in sealed.data
        (alert,) = mash.alerts()
        assert f"[ALERT #{alert.token}]" in str(outer["Subject"])
        inner = edt_party.decrypt(sealed.data)
        assert b"Amira Okafor" in inner and b"12 Mare Street" in inner
        # The managers' copy is not encrypted (they have no pinned key here).
        assert b"The form says immediate risk" in mash.to(MANAGER)[0].data
    finally:
        for party_home in (mash_party.home, edt_party.home, home):
            subprocess.run(["gpgconf", "--homedir", str(party_home), "--kill", "all"], check=False)


def test_escalation_rungs_are_sent_once_across_two_instances(db_url: str) -> None:
    """Thirty unacknowledged alerts, two instances sweeping at once, three times: each rung once."""
    from concurrent.futures import ThreadPoolExecutor

    from helpers import config

    from gateway.domain.alert_ladder import escalate_due
    from gateway.domain.alerts import raise_alert
    from gateway.domain.urgency import Reason
    from gateway.outbound.compose import Letters
    from gateway.store.db import Database
    from gateway.store.models import AuditEvent, OutboxRow

    cfg = config(EXTRA)
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"database": db_url})})
    letters = Letters()
    databases = [Database(db_url), Database(db_url)]
    databases[0].upgrade()
    reason = Reason("immediate-risk", "immediate risk: yes", "the form says immediate risk")
    with databases[0].transaction() as session:
        for n in range(30):
            raise_alert(
                session,
                cfg,
                letters,
                SATURDAY_NIGHT,
                title="urgent",
                reasons=(reason,),
                contact=None,
                reference=f"MASH-2026-{n:06d}",
                message_id=None,
                what="a test",
            )
    clock = FrozenClock(SATURDAY_NIGHT + timedelta(minutes=31))
    for _round in range(3):
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda db: escalate_due(db, cfg, clock, letters), databases))
    with databases[0].transaction() as session:
        from sqlalchemy import func

        escalated = session.execute(
            select(func.count()).where(AuditEvent.action == "alert-escalated")
        ).scalar_one()
        repeats = session.execute(
            select(func.count()).where(OutboxRow.purpose == "urgent-alert escalation 1")
        ).scalar_one()
    assert escalated == 30 and repeats == 30
    for db in databases:
        db.dispose()
