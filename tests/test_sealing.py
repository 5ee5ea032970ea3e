"""Nothing in clear to a `pgp` agency or a keyed internal address, whatever the message's kind:
acknowledgement, outcome letter, withdrawal, reminder, section 47 referral and forwards.
Real gpg and throw-away keys; real Dovecot in, aiosmtpd out."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from pgp_world import Party
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import UnitSection
from gateway.daemon import Daemon
from gateway.domain.checks.request import Request, request_checks
from gateway.domain.decisions import DecisionRequest, record
from gateway.outbound.compose import OutgoingMail
from gateway.outbound.outbox import enqueue
from gateway.store.models import OutboxRow

REFERRALS = Path(__file__).parent / "data" / "referrals"
START = datetime.now(UTC).replace(microsecond=0)  # real time: gpg signs with the real clock
OFFICER = "pc.jones@met.example"
S47 = "s47-unit@hackney.example"
MANAGER = "duty.manager@hackney.example"


class Keys:
    def __init__(self, root: Path) -> None:
        self.mash = Party(root, "Hackney MASH", "mash@hackney.example")
        self.police = Party(root, "Police MASH desk", "police-mash@met.example")
        self.unit = Party(root, "Section 47 unit", S47)
        self.home = root / "gateway"
        from gateway.crypto.keyring import Keyring

        self.keyring = Keyring(self.home, signing_key=self.mash.fingerprint)
        self.keyring.import_keys(self.mash.secret())
        for party in (self.police, self.unit):
            self.keyring.import_keys(party.public())
            party.learn(self.mash.public())
        self.parties = [self.mash, self.police, self.unit]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    k = Keys(tmp_path_factory.mktemp("sealing"))
    yield k
    for home in [*(p.home for p in k.parties), k.home]:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def _config(keys: Keys, make_config: Any, **kw: Any) -> tuple[Any, Path]:
    police_key = kw.pop("police_key", keys.police.fingerprint)
    extra = f"""
[clocks]
section47_address = "{S47}"
section47_key = "{keys.unit.fingerprint}"

[[agency]]
id = "police"
dsa_signed = 2025-01-15
dsa_reference = "London MASH DSA Jan21"
name = "Police"
check_address = "police-mash@met.example"
reply_from = ["*@met.example"]
security = "pgp"
key = "{police_key}"
"""
    return make_config(
        gateway_extra=f'gnupg_home = "{keys.home}"\nsigning_key = "{keys.mash.fingerprint}"\n',
        extra=extra,
        **kw,
    )


def _armored(raw: bytes) -> bytes:
    block = re.search(rb"-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", raw, re.S)
    assert block is not None, raw[:400]
    return block.group(0)


def _officers_referral() -> bytes:
    raw = (REFERRALS / "plain-school.eml").read_bytes()
    raw = raw.replace(b"sam.teacher@stjohns-school.example", OFFICER.encode())
    return raw.replace(b"Role: Designated Safeguarding Lead", b"Role: Police constable")


def test_every_message_to_a_pgp_agency_is_sealed_whatever_its_kind(
    keys: Keys,
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: Any,
) -> None:
    cfg, _ = _config(keys, make_config, db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    clock = FrozenClock(START)
    daemon = Daemon(cfg, clock)
    daemon.prepare()
    # An officer of the pgp agency refers: the acknowledgement names the reference only
    # inside the seal.
    dovecot.append("mash", _officers_referral(), arrived=START)
    daemon.run_once()
    with daemon.db.transaction() as session:
        request_checks(
            session,
            cfg,
            daemon.letters,
            START,
            Request("MASH-2026-000001", ("police",), "red", "Bruising; is the household known?"),
        )
    daemon.run_once()
    clock.advance(timedelta(hours=4, minutes=1))  # the RED check is due: its reminder goes
    daemon.run_once()
    with daemon.db.transaction() as session:
        record(
            session,
            cfg,
            daemon.letters,
            clock.now(),
            DecisionRequest(
                "MASH-2026-000001", "Police and school satisfied.", "Duty Manager",
                decision="A", outcome="no-further-action",
            ),
        )
    daemon.run_once()
    to_police = [
        m for m in smtp_sink.messages if any(r.endswith("@met.example") for r in m.recipients)
    ]
    with daemon.db.transaction() as session:
        purposes = [
            row.purpose
            for row in session.execute(select(OutboxRow).order_by(OutboxRow.id)).scalars()
            if any(r.endswith("@met.example") for r in row.recipients)
        ]
    assert any("acknowledgement" in p for p in purposes), purposes
    assert any("outcome letter" in p for p in purposes), purposes
    assert any("withdrawn" in p for p in purposes), purposes
    assert any("reminder" in p or "chase" in p for p in purposes), purposes
    assert len(to_police) == len(purposes) >= 4
    for sent in to_police:
        assert b"MASH-2026-000001" not in sent.data.split(b"\r\n\r\n", 1)[1], sent.data[:600]
        assert b"Amira" not in sent.data and b"no further action" not in sent.data
        inner = keys.police.decrypt(_armored(sent.data))  # the agency's key opens each one
        assert b"MASH-2026-000001" in inner
    letters = [m for m in to_police if OFFICER in m.recipients]
    opened = [keys.police.decrypt(_armored(m.data)) for m in letters]
    assert any(b"referral received" in o for o in opened)
    assert any(b"no further action is needed" in o for o in opened)


def test_the_section_47_referral_is_sealed_with_its_attachment(
    keys: Keys,
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: Any,
) -> None:
    cfg, _ = _config(keys, make_config, db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    dovecot.append("mash", (REFERRALS / "plain-school.eml").read_bytes(), arrived=START)
    daemon.run_once()
    with daemon.db.transaction() as session:
        record(
            session,
            cfg,
            daemon.letters,
            START,
            DecisionRequest(
                "MASH-2026-000001", "Disclosure of harm by a parent.", "Duty Manager",
                decision="B", section="47",
            ),
        )
    daemon.run_once()
    (sent,) = [m for m in smtp_sink.messages if S47 in m.recipients]
    assert b"Amira" not in sent.data and b"grabbed" not in sent.data
    inner = keys.unit.decrypt(_armored(sent.data))
    assert b"section 47 enquiries" in inner
    assert b"message/rfc822" in inner and b"grabbed her" in inner  # the referral, inside


def test_no_key_no_mixing_held_and_the_managers_told(
    keys: Keys,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: Any,
) -> None:
    missing = Party(tmp_path_factory.mktemp("newpolice"), "New police key", "ppd@met.example")
    keys.parties.append(missing)
    cfg, _ = _config(
        keys,
        make_config,
        db_url=sqlite_url,
        dovecot=dovecot,
        smtp=smtp_sink,
        police_key=missing.fingerprint,  # pinned, never imported
    )
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    dovecot.append("mash", _officers_referral(), arrived=START)
    daemon.run_once()
    with daemon.db.transaction() as session:
        # One message for a keyed and an unkeyed recipient cannot be both sealed and clear.
        enqueue(
            session,
            cfg,
            daemon.letters,
            OutgoingMail(
                template="pgp_notice",
                values={"problem": "a test"},
                recipients=(S47, "someone@elsewhere.example"),
                purpose="mixed recipients",
            ),
            START,
        )
    daemon.run_once()
    to_officer = [m for m in smtp_sink.messages if OFFICER in m.recipients]
    (notice,) = to_officer  # the content-free notice only; the acknowledgement is held
    assert b"MASH-2026" not in notice.data and b"secure message" in notice.data
    alerts = [m for m in smtp_sink.messages if MANAGER in m.recipients]
    assert any(b"cannot be encrypted" in m.data for m in alerts)
    with daemon.db.transaction() as session:
        held = session.execute(select(OutboxRow).where(OutboxRow.state == "held")).scalars()
        reasons = {row.purpose: row.last_error or "" for row in held}
    assert "not in the keyring" in reasons["referral acknowledgement"]
    assert "one message cannot be sealed for some recipients" in reasons["mixed recipients"]
    # Only the content-free notice reaches either recipient of the mixed message.
    mixed = [m for m in smtp_sink.messages if "someone@elsewhere.example" in m.recipients]
    assert mixed and all(b"a test" not in m.data for m in mixed)
    assert all(b"missing, expired or revoked" in m.data for m in mixed)


def test_a_forward_to_a_keyed_unit_is_sealed(
    keys: Keys,
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: Any,
) -> None:
    from gateway.domain.cases import parse_csv, replace_register

    unit = "cin-unit4@hackney.example"
    cfg, _ = _config(keys, make_config, db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    cfg = cfg.model_copy(
        update={"unit": (UnitSection(name="Unit 4", address=unit, key=keys.unit.fingerprint),)}
    )
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    register = (
        "nhs_number,given_name,family_name,date_of_birth,unit,unit_email,status,closed_on\n"
        f"9434765919,Amira,Okafor,03/04/2019,Unit 4,{unit},open,\n"
    )
    with daemon.db.transaction() as session:
        replace_register(session, parse_csv(register), START)
    dovecot.append("mash", (REFERRALS / "plain-school.eml").read_bytes(), arrived=START)
    daemon.run_once()
    (sent,) = [m for m in smtp_sink.messages if unit in m.recipients]
    assert b"Amira" not in sent.data and b"grabbed" not in sent.data
    inner = keys.unit.decrypt(_armored(sent.data))
    assert b"message/rfc822" in inner and b"grabbed her" in inner
