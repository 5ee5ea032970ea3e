"""What PostgreSQL refuses is made storable before storage: a partner's reply with a
quoted-printable `=00` is recorded (on SQLite and PostgreSQL), never retried into quarantine."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.daemon import Daemon
from gateway.domain.checks.request import Request, request_checks
from gateway.store import ledger
from gateway.store.models import CheckReply, Message
from gateway.store.storable import REPLACEMENT, clean, clean_parameters, storable

REFERRALS = Path(__file__).parent / "data" / "referrals"
MakeConfig = Callable[..., tuple[Config, Path]]
POLICE = """
[[agency]]
id = "police"
dsa_signed = 2025-01-15
name = "Police Public Protection Desk"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "tls"
"""


def test_nul_and_lone_surrogates_become_the_replacement_character() -> None:
    assert storable("a\x00b\udcff") == f"a{REPLACEMENT}b{REPLACEMENT}"
    assert clean({"k\x00": ["v\x00", ("w\x00",)]}) == {
        f"k{REPLACEMENT}": [f"v{REPLACEMENT}", (f"w{REPLACEMENT}",)]
    }
    assert clean_parameters([{"a": "\x00", "b": b"\x00"}]) == [{"a": REPLACEMENT, "b": b"\x00"}]
    assert clean_parameters(("x\x00", 1)) == (f"x{REPLACEMENT}", 1)


def test_a_reply_with_a_quoted_printable_nul_is_stored(
    db_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: MakeConfig,
    clock: FrozenClock,
) -> None:
    config, _ = make_config(db_url=db_url, dovecot=dovecot, smtp=smtp_sink, extra=POLICE)
    daemon = Daemon(config, clock)
    daemon.prepare()
    dovecot.append("mash", (REFERRALS / "plain-school.eml").read_bytes(), arrived=clock.now())
    daemon.run_once()
    with daemon.db.transaction() as session:
        request_checks(
            session,
            config,
            daemon.letters,
            clock.now(),
            Request(
                "MASH-2026-000001",
                ("police",),
                "amber",
                "Is the household known?",
                (),
                requested_by="duty.manager@hackney.example",
            ),
        )
    daemon.run_once()
    (sent,) = [m for m in smtp_sink.messages if "police-mash@met.example" in m.recipients]
    request = message_from_bytes(sent.data, policy=default)
    reply = (
        f"From: police-mash@met.example\r\nTo: {request['Reply-To']}\r\n"
        f"Subject: RE: {request['Subject']}\r\nMessage-ID: <nul-reply@met.example>\r\n"
        f"In-Reply-To: {request['Message-ID']}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Known to us: one call-out in January.=00 No further=00 concerns.\r\n"
    ).encode()
    dovecot.append("mash", reply, arrived=clock.now())
    daemon.run_once()
    with daemon.db.transaction() as session:
        message = session.execute(
            select(Message).where(Message.header_message_id == "<nul-reply@met.example>")
        ).scalar_one()
        assert message.state == "processed" and message.attempts == 0, message.last_error
        (stored,) = session.execute(select(CheckReply)).scalars()
        assert "\x00" not in stored.text and REPLACEMENT in stored.text
        assert "one call-out in January" in stored.text
        assert ledger.verify(session) == []
