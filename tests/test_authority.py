"""Issue 11's attacks, end to end: Dovecot in, the real daemon, real gpg, aiosmtpd out, on
SQLite and PostgreSQL. Each test is one attack from the issue and the verdict it now gets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import Received, RecordingSmtp
from pgp_world import Party, crlf, encrypted_entity, message, signed_entity
from sqlalchemy import select

from gateway.clock import FrozenClock
from gateway.config import Config
from gateway.crypto.keyring import Keyring
from gateway.daemon import Daemon
from gateway.domain.checks.request import Request, request_checks
from gateway.store.models import AuditEvent, Check, CheckReply, Contact, Message
from gateway.store.models import Decision as DecisionRow

REFERRALS = Path(__file__).parent / "data" / "referrals"
MakeConfig = Callable[..., tuple[Config, Path]]
START = datetime.now(UTC).replace(microsecond=0)  # real time: gpg signs with the real clock
MANAGER = "duty.manager@hackney.example"
BOSS = "boss@hackney.example"
SCHOOL = "sam.teacher@stjohns-school.example"
BOUNDARY = "mx.hackney.example"
A, B = "MASH-2026-000001", "MASH-2026-000002"


class Keys:
    def __init__(self, root: Path) -> None:
        self.mash = Party(root, "Hackney MASH", "mash@hackney.example")
        self.police = Party(root, "Police MASH desk", "police-mash@met.example")
        self.boss = Party(root, "Head of MASH", BOSS)
        self.keyring = Keyring(root / "gateway", signing_key=self.mash.fingerprint)
        self.keyring.import_keys(self.mash.secret())
        for party in (self.police, self.boss):
            self.keyring.import_keys(party.public())
            party.learn(self.mash.public())
        self.parties = [self.mash, self.police, self.boss]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keys]:
    k = Keys(tmp_path_factory.mktemp("authority"))
    yield k
    for home in [*(p.home for p in k.parties), k.keyring.home]:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def _agencies(keys: Keys) -> str:
    return f"""
[[agency]]
id = "police"
dsa_signed = 2025-01-15
name = "Police"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "pgp"
key = "{keys.police.fingerprint}"

[[agency]]
id = "health"
dsa_signed = 2025-01-15
name = "Health"
check_address = "health-mash@nhs.example"
reply_from = ["*@nhs.example"]
security = "tls"

[[manager]]
name = "Head of MASH"
address = "{BOSS}"
key = "{keys.boss.fingerprint}"
"""


class Mash:
    """The real daemon on one database, with the module's keys and our boundary's id."""

    def __init__(
        self,
        keys: Keys,
        dovecot: Dovecot,
        smtp: RecordingSmtp,
        make_config: MakeConfig,
        db_url: str,
        *,
        authserv_id: str | None = BOUNDARY,
        extra: str = "",
    ) -> None:
        gateway = f'gnupg_home = "{keys.keyring.home}"\nsigning_key = "{keys.mash.fingerprint}"\n'
        if authserv_id:
            gateway += f'authserv_id = "{authserv_id}"\n'
        self.cfg, self.path = make_config(
            db_url=db_url,
            dovecot=dovecot,
            smtp=smtp,
            gateway_extra=gateway,
            extra=_agencies(keys) + extra,
        )
        self.keys, self.dovecot, self.smtp = keys, dovecot, smtp
        self.clock = FrozenClock(START)
        self.daemon = Daemon(self.cfg, self.clock)
        self.daemon.prepare()

    def arrive(self, *raws: bytes) -> None:
        for raw in raws:
            self.dovecot.append("mash", raw, arrived=self.clock.now())
            assert self.daemon.run_once().mailbox_errors == {}

    def referrals(self, count: int = 1) -> None:
        self.arrive((REFERRALS / "plain-school.eml").read_bytes())  # A: Amira Okafor
        if count > 1:
            self.arrive(second_referral())  # B: Kofi Mensah

    def request(self, reference: str, agency: str) -> Check:
        with self.daemon.db.transaction() as session:
            (made,) = request_checks(
                session,
                self.cfg,
                self.daemon.letters,
                self.clock.now(),
                Request(reference, (agency,), "red", "Bruising; is the household known?"),
            )
            check_id = made.id
        assert self.daemon.run_once().mailbox_errors == {}
        with self.daemon.db.transaction() as session:
            check = session.get(Check, check_id)
            assert check is not None and check.request_message_id
            session.expunge(check)
            return check

    def to(self, address: str) -> list[Received]:
        return [m for m in self.smtp.messages if address in m.recipients]

    def held(self) -> list[Message]:
        with self.daemon.db.transaction() as session:
            query = select(Message).where(Message.state == "quarantined").order_by(Message.id)
            return list(session.execute(query).scalars())

    def contact(self, reference: str) -> Contact:
        with self.daemon.db.transaction() as session:
            query = select(Contact).where(Contact.reference == reference)
            return session.execute(query).scalar_one()

    def decisions(self) -> list[tuple[str, str, str]]:
        with self.daemon.db.transaction() as session:
            rows = session.execute(
                select(Contact.reference, DecisionRow.code, DecisionRow.decided_by).join(
                    Contact, Contact.id == DecisionRow.contact_id
                )
            ).all()
            return [tuple(r) for r in rows]  # type: ignore[misc]

    def replies(self) -> list[tuple[int, bool]]:
        with self.daemon.db.transaction() as session:
            rows = session.execute(
                select(CheckReply.check_id, CheckReply.verified).order_by(CheckReply.id)
            ).all()
            return [(r[0], r[1]) for r in rows]

    def events(self, action: str) -> list[dict[str, Any]]:
        with self.daemon.db.transaction() as session:
            query = select(AuditEvent.detail).where(AuditEvent.action == action)
            return [json.loads(d or "{}") for d in session.execute(query).scalars()]

    def cli(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", "-c", str(self.path), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **(env or {})},
        )


@pytest.fixture
def mash(
    keys: Keys, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig, db_url: str
) -> Mash:
    return Mash(keys, dovecot, smtp_sink, make_config, db_url)


def second_referral() -> bytes:
    raw = (REFERRALS / "plain-school.eml").read_bytes()
    for old, new in (
        (b"Amira Okafor", b"Kofi Mensah"),
        (b"Amira", b"Kofi"),
        (b"3 April 2019", b"14 February 2018"),
        (b"NHS number: 943 476 5919\n", b""),
        (b"<ref-plain-1@", b"<ref-plain-2@"),
    ):
        raw = raw.replace(old, new)
    return raw


def _text(mail: Received) -> str:
    parsed = message_from_bytes(mail.data, policy=default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    return str(body.get_content()) if body is not None else ""


def _subject(mail: Received) -> str:
    return str(message_from_bytes(mail.data, policy=default)["Subject"])


def plain(sender: str, subject: str, body: str, n: int, **headers: str) -> bytes:
    """An unsigned message; `headers` first, as a boundary server puts them on top."""
    head = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return crlf(
        (
            f"{head}From: {sender}\r\nTo: mash@hackney.example\r\nSubject: {subject}\r\n"
            f"Message-ID: <m{n}@example.org>\r\nDate: Tue, 3 Mar 2026 10:30:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
        ).encode()
    )


def passed(domain: str = "hackney.example") -> str:
    return f"{BOUNDARY}; spf=pass smtp.mailfrom={domain}; dmarc=pass header.from={domain}"


def inner(text: str, **protected: str) -> bytes:
    """A text/plain entity as a partner's client signs it, with its protected headers."""
    head = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in protected.items())
    kind = 'text/plain; charset="utf-8"' + ('; protected-headers="v1"' if protected else "")
    return crlf(f"{head}Content-Type: {kind}\r\n\r\n{text}".encode())


# --- manager commands: authenticated, or refused without a word to the sender ------------------


def test_a_forged_manager_command_with_dmarc_fail_is_refused_and_the_managers_alerted(
    mash: Mash,
) -> None:
    mash.referrals()
    forged = plain(
        MANAGER,
        f"Re: {A}",
        "DECISION A\nReason: Nothing to see here.\n",
        1,
        Authentication_Results=f"{BOUNDARY}; dmarc=fail header.from=hackney.example",
    )
    mash.arrive(forged)
    assert mash.decisions() == []
    assert mash.contact(A).status != "closed"
    assert not [m for m in mash.to(MANAGER) if "your command" in _subject(m)]  # not answered
    assert len(mash.to(SCHOOL)) == 1  # the acknowledgement only: no outcome letter
    (held,) = mash.held()
    assert held.quarantine_reason == "triage:command-unauthenticated"
    (refused,) = mash.events("command-refused")
    assert refused["condition"] == "dmarc:fail"
    (alert,) = [m for m in mash.to(BOSS) if "refused" in _text(m)]
    assert MANAGER in alert.recipients  # every manager is alerted, the real one too
    assert "was not answered" in _text(alert)
    # The same command with our boundary's dmarc=pass for the manager's domain is carried out.
    mash.arrive(
        plain(
            MANAGER,
            f"Re: {A}",
            "DECISION C\nReason: Screen it.\n",
            2,
            Authentication_Results=passed(),
        )
    )
    assert mash.decisions() == [(A, "C", f"Duty Manager <{MANAGER}>")]


def test_a_manager_without_a_key_and_no_authserv_id_is_refused(
    keys: Keys, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig, db_url: str
) -> None:
    mash = Mash(keys, dovecot, smtp_sink, make_config, db_url, authserv_id=None)
    mash.referrals()
    mash.arrive(
        plain(MANAGER, f"Re: {A}", "DECISION A\nReason: x\n", 1, Authentication_Results=passed())
    )
    assert mash.decisions() == []
    assert [m.quarantine_reason for m in mash.held()] == ["triage:command-unauthenticated"]
    assert [e["condition"] for e in mash.events("command-refused")] == ["no-authserv-id"]
    assert not [m for m in mash.to(MANAGER) if "your command" in _subject(m)]


def test_a_two_address_from_is_nobody_for_a_manager_and_for_an_agency(mash: Mash) -> None:
    mash.referrals()
    check = mash.request(A, "health")
    mash.arrive(
        plain(
            f"{MANAGER} <attacker@evil.example>",
            f"Re: {A}",
            "DECISION A\nReason: x\n",
            1,
            Authentication_Results=passed("evil.example"),
        ),
        plain(
            "health-mash@nhs.example <attacker@evil.example>",
            f"RE: [RED] MASH check {A} [#{check.token}]",
            "No concerns known.\n",
            2,
            In_Reply_To=check.request_message_id or "",
        ),
    )
    assert mash.decisions() == [] and mash.replies() == []
    assert len(mash.to(SCHOOL)) == 1
    assert [m.quarantine_reason for m in mash.held()] == ["triage:sender"] * 2
    assert len([m for m in mash.to(MANAGER) if "from more than one sender" in _text(m)]) == 2


@pytest.mark.parametrize(
    "sender",
    [
        f"Duty Manager <{MANAGER}>,\r\n attacker@evil.example",  # folded, a second address
        f"=?utf-8?q?{MANAGER.replace('@', '=40')}?= <attacker@evil.example>",  # encoded word
        "=?utf-8?b?ZHV0eS5tYW5hZ2VyQGhhY2tuZXkuZXhhbXBsZQ==?=\r\n <attacker@evil.example>",
        f'"{MANAGER}"\r\n\t<attacker@evil.example>',  # folded quoted display name
    ],
)
def test_folded_and_encoded_word_from_variants_are_held(mash: Mash, sender: str) -> None:
    mash.referrals()
    mash.arrive(plain(sender, f"Re: {A}", "DECISION A\nReason: x\n", 1))
    assert mash.decisions() == []
    assert [m.quarantine_reason for m in mash.held()] == ["triage:sender"]


def test_a_signed_manager_command_re_addressed_is_a_mismatch(mash: Mash) -> None:
    mash.referrals(2)
    # DECISION A, which settles the outcome: an outcome alone needs a screening decision first.
    command = inner("DECISION A\nReason: Nothing further for the MASH.\n", Subject=f"Re: {A}")
    body = signed_entity(mash.keys.boss, command)
    headers = {"From": BOSS, "To": "mash@hackney.example", "Message-ID": "<c1@hackney.example>"}
    mash.arrive(message({**headers, "Subject": f"Re: {B}"}, body))
    assert mash.decisions() == []
    assert [m.quarantine_reason for m in mash.held()] == ["triage:mismatch"]
    assert [e["condition"] for e in mash.events("command-refused")] == ["mismatch"]
    assert any("refused" in _text(m) for m in mash.to(MANAGER))
    # The genuine one, with its own subject, is carried out for the contact it names.
    mash.arrive(message({**headers, "Subject": f"Re: {A}", "Message-ID": "<c2@x>"}, body))
    assert [(ref, code) for ref, code, _by in mash.decisions()] == [
        (A, "A"),
        (A, "no-further-action"),
    ]
    assert mash.contact(B).status != "closed"


# --- partner replies: bound by what the signature covers ---------------------------------------


def _police_answer(mash: Mash, check: Check, text: str) -> bytes:
    """Police's genuine answer: signed and encrypted, its protected headers naming the check."""
    entity = inner(
        f"{text}\r\n\r\n> Reference: {check.reference} [#{check.token}]\r\n",
        Subject=f"RE: [RED] MASH check {check.reference} [#{check.token}]",
        In_Reply_To=check.request_message_id or "",
    )
    return encrypted_entity(mash.keys.police.encrypt(entity, [mash.keys.mash.fingerprint]))


def _outer(check: Check, n: int) -> dict[str, str]:
    return {
        "From": "police-mash@met.example",
        "To": f"mash+{check.token}@hackney.example",
        "Subject": f"RE: [RED] MASH check {check.reference} [#{check.token}]",
        "Message-ID": f"<answer-{n}@met.example>",
        "In-Reply-To": check.request_message_id or "",
    }


def test_a_signed_reply_re_addressed_to_another_check_is_a_mismatch_and_the_genuine_one_counts(
    mash: Mash,
) -> None:
    mash.referrals(2)
    check_a, check_b = mash.request(A, "police"), mash.request(B, "police")
    body = _police_answer(mash, check_a, "One domestic call-out in 2025.")
    mash.arrive(message(_outer(check_b, 1), body))  # the replay, aimed at B, arrives first
    assert mash.replies() == []
    (held,) = mash.held()
    assert held.quarantine_reason == "triage:mismatch"
    assert check_a.token in (held.quarantine_detail or "")
    assert any("needs a person" in _text(m) for m in mash.to(MANAGER))
    mash.arrive(message(_outer(check_a, 2), body))  # the genuine answer still answers A
    assert mash.replies() == [(check_a.id, True)]
    mash.arrive(message(_outer(check_a, 3), body))  # and once bound, again is a replay
    assert [m.quarantine_reason for m in mash.held()] == ["triage:mismatch", "triage:unverified"]
    assert "replayed" in (mash.held()[1].quarantine_detail or "")
    with mash.daemon.db.transaction() as session:
        assert session.get(Check, check_b.id).status != "answered"  # type: ignore[union-attr]


def test_a_signed_reply_whose_signed_content_names_no_check_is_held(mash: Mash) -> None:
    """The outer headers alone never decide what a signed answer is about."""
    mash.referrals()
    check = mash.request(A, "police")
    entity = inner("No trace of the family.\r\n")  # no protected headers, no reference line
    body = encrypted_entity(mash.keys.police.encrypt(entity, [mash.keys.mash.fingerprint]))
    mash.arrive(message(_outer(check, 1), body))
    assert mash.replies() == []
    (held,) = mash.held()
    assert held.quarantine_reason == "triage:unverified"
    assert "the signed content names no check" in (held.quarantine_detail or "")
    with mash.daemon.db.transaction() as session:
        assert session.get(Check, check.id).status == "held"  # type: ignore[union-attr]


def test_a_client_that_strips_protected_headers_still_works_by_the_signed_reference_line(
    mash: Mash,
) -> None:
    mash.referrals()
    check = mash.request(A, "police")
    quoted = f"Known to us: none.\r\n\r\n> Reference: {A} [#{check.token}]\r\n"
    body = encrypted_entity(mash.keys.police.encrypt(inner(quoted), [mash.keys.mash.fingerprint]))
    mash.arrive(message(_outer(check, 1), body))
    assert mash.replies() == [(check.id, True)]


def test_an_inline_pgp_reply_with_the_token_only_in_the_signed_text_is_verified(
    mash: Mash,
) -> None:
    mash.referrals()
    check = mash.request(A, "police")
    signed = mash.keys.police.clearsign(
        f"No trace of the family.\n\nReference: {A} [#{check.token}]\n".encode()
    )
    outer = {
        "From": "police-mash@met.example",
        "To": "mash@hackney.example",
        "Subject": "Your request",  # the client dropped the tag; the signed text keeps it
        "Message-ID": "<inline-1@met.example>",
        "Content-Type": "text/plain; charset=utf-8",
    }
    mash.arrive(message(outer, b"\r\n" + crlf(signed)))
    assert mash.replies() == [(check.id, True)]


def test_everyday_words_in_a_partner_reply_are_a_reply_and_risk_still_alerts(mash: Mash) -> None:
    mash.referrals()
    check = mash.request(A, "health")
    mash.arrive(
        plain(
            "health-mash@nhs.example",
            f"RE: [RED] MASH check {A} [#{check.token}]",
            "RISK: INCREASED\nOutcome NFA on our side, but the father was arrested last night.\n",
            1,
            In_Reply_To=check.request_message_id or "",
        )
    )
    assert mash.held() == []
    assert mash.replies() == [(check.id, False)]
    (request,) = mash.to("health-mash@nhs.example")  # it asks partners to keep this line
    assert f"Reference: {A} [#{check.token}]" in _text(request)
    assert any("increased risk reported" in _text(m) for m in mash.to(MANAGER))


def test_an_urgent_referral_saying_decision_pending_becomes_a_contact_and_alerts(
    mash: Mash,
) -> None:
    raw = (REFERRALS / "plain-school.eml").read_bytes()
    raw = raw.replace(b"Immediate risk: No", b"Immediate risk: Yes").replace(
        b"Referrer's name:", b"Decision pending\n\nReferrer's name:"
    )
    mash.arrive(raw)
    assert mash.held() == []
    assert mash.contact(A).immediate_risk
    assert any("immediate risk" in _text(m).lower() for m in mash.to(MANAGER))
    assert len(mash.to(SCHOOL)) == 1  # acknowledged


def test_an_unsigned_reply_with_dmarc_fail_is_held_and_still_chased(mash: Mash) -> None:
    mash.referrals()
    check = mash.request(A, "health")
    failed = f"{BOUNDARY}; spf=fail smtp.mailfrom=nhs.example; dmarc=fail header.from=nhs.example"
    rejecting = f"{BOUNDARY}; dmarc=none (p=reject) header.from=nhs.example"
    for n, results in enumerate((failed, rejecting)):
        mash.arrive(
            plain(
                "health-mash@nhs.example",
                f"RE: [RED] MASH check {A} [#{check.token}]",
                "All clear, close it.\n",
                n,
                Authentication_Results=results,
                In_Reply_To=check.request_message_id or "",
            )
        )
    assert mash.replies() == []
    assert [m.quarantine_reason for m in mash.held()] == ["triage:unverified"] * 2
    with mash.daemon.db.transaction() as session:
        assert session.get(Check, check.id).status == "held"  # type: ignore[union-attr]
    before = len(mash.to("health-mash@nhs.example"))
    mash.clock.set(START + timedelta(hours=4, minutes=1))  # past the RED window
    assert mash.daemon.run_once().mailbox_errors == {}
    assert len(mash.to("health-mash@nhs.example")) == before + 1  # the reminder went


# --- who decides on the command line ----------------------------------------------------------


def test_by_must_name_a_configured_manager(mash: Mash) -> None:
    mash.referrals()
    now = ("--now", START.isoformat())
    for args in (
        ("decide", A, "--decision", "C", "--reason", "x", "--by", "A Stranger"),
        (
            "checks",
            "request",
            A,
            "--agency",
            "health",
            "--rag",
            "red",
            "--context",
            "x",
            "--by",
            "stranger@evil.example",
        ),
        ("decide", A, "--decision", "C", "--reason", "x"),  # no --by, no os_user mapping
    ):
        done = mash.cli(*now, *args, env={"LOGNAME": "nobody-here", "USER": "nobody-here"})
        assert done.returncode == 2, done.stdout + done.stderr
        assert (
            f"Duty Manager <{MANAGER}>" in done.stderr and f"Head of MASH <{BOSS}>" in done.stderr
        )
    assert mash.decisions() == []
    ok = mash.cli(*now, "decide", A, "--decision", "C", "--reason", "x", "--by", "duty MANAGER")
    assert ok.returncode == 0, ok.stderr
    assert mash.decisions() == [(A, "C", f"Duty Manager <{MANAGER}>")]


def test_os_user_maps_the_login_name_to_a_manager(
    keys: Keys, dovecot: Dovecot, smtp_sink: RecordingSmtp, make_config: MakeConfig, sqlite_url: str
) -> None:
    mapped = '[[manager]]\nname = "Ana Lead"\naddress = "ana@hackney.example"\nos_user = "ana"\n'
    mash = Mash(keys, dovecot, smtp_sink, make_config, sqlite_url, extra=mapped)
    mash.referrals()
    done = mash.cli(
        "--now",
        START.isoformat(),
        "decide",
        A,
        "--decision",
        "C",
        "--reason",
        "x",
        env={"LOGNAME": "ana", "USER": "ana"},
    )
    assert done.returncode == 0, done.stderr
    assert mash.decisions() == [(A, "C", "Ana Lead <ana@hackney.example>")]


# --- the open-cases register ------------------------------------------------------------------

REGISTER = """nhs_number,given_name,family_name,date_of_birth,unit,unit_email,status,closed_on
,Мария,Иванова,03/04/2019,Unit 3,unit3@hackney.example,open,
"""


def _referral_for(name: str, n: int) -> bytes:
    raw = (REFERRALS / "plain-school.eml").read_bytes()
    raw = raw.replace(b"NHS number: 943 476 5919\n", b"").replace(
        b"<ref-plain-1@", f"<r{n}@".encode()
    )
    return raw.replace(b"Amira Okafor", name.encode())


def test_non_latin_and_zero_width_names_against_the_open_cases_register(
    mash: Mash, tmp_path: Path
) -> None:
    (tmp_path / "cases.csv").write_text(REGISTER, encoding="utf-8")
    imported = mash.cli("--now", START.isoformat(), "cases", "import", str(tmp_path / "cases.csv"))
    assert imported.returncode == 0, imported.stderr
    # Same date of birth, another child in another script: before, both names were "".
    mash.arrive(_referral_for("أميرة حسن", 1))
    assert mash.to("unit3@hackney.example") == []
    assert mash.contact(A).status != "forwarded"
    # The same child, with a zero-width space inside her name: forwarded to her unit.
    name = "Мария Иванова"
    mash.arrive(_referral_for(name[:2] + "\u200b" + name[2:], 2))
    assert len(mash.to("unit3@hackney.example")) == 1
    assert mash.contact(B).status == "forwarded"
