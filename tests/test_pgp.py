"""OpenPGP with the real gpg and throw-away keys: the hostile-reply catalogue, each case with
the verdict it must get, and the seal the gateway puts on outgoing mail."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from gateway_dev.localworld.dovecot import Dovecot
from gateway_dev.localworld.smtpsink import RecordingSmtp
from pgp_world import Party, encrypted_entity, entity, message, signed_entity
from sqlalchemy import func, select

from gateway.clock import FrozenClock
from gateway.config import parse_config
from gateway.crypto.keyring import Keyring, status_lines
from gateway.crypto.pgp_mime import seal, unwrap
from gateway.crypto.signatures import Verdict, judge
from gateway.daemon import Daemon
from gateway.domain.checks.request import Request, request_checks
from gateway.reports.status import status
from gateway.store.models import Check, CheckReply, Message, OutboxRow

PAST = "20200101T000000"


class World:
    def __init__(self, root: Path) -> None:
        self.mash = Party(root, "Hackney MASH", "mash@hackney.example")
        self.police = Party(root, "Police MASH desk", "police-mash@met.example")
        self.probation = Party(root, "Probation", "duty@probation.example")
        self.manager = Party(root, "Duty Manager", "duty.manager@hackney.example")
        self.expired = Party(root, "Old Police", "old@met.example", expire="1d", faked_time=PAST)
        self.revoked = Party(root, "Revoked Police", "revoked@met.example")
        self.keyring = Keyring(root / "gateway", signing_key=self.mash.fingerprint)
        self.keyring.import_keys(self.mash.secret())
        for party in (self.police, self.probation, self.manager, self.expired, self.revoked):
            self.keyring.import_keys(party.public())
        for party in (self.police, self.probation, self.expired, self.revoked):
            party.learn(self.mash.public())
        self.parties = [
            self.mash,
            self.police,
            self.probation,
            self.manager,
            self.expired,
            self.revoked,
        ]
        self.config = parse_config(
            f"""
[gateway]
mash_address = "mash@hackney.example"
gnupg_home = "{root / "gateway"}"
signing_key = "{self.mash.fingerprint}"
authserv_id = "mx.hackney.example"

[smtp]
host = "127.0.0.1"
tls = "none"

[[manager]]
name = "Duty Manager"
address = "duty.manager@hackney.example"
key = "{self.manager.fingerprint}"

[[agency]]
id = "police"
dsa_signed = 2025-01-15
name = "Police"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "pgp"
key = "{self.police.fingerprint}"

[[agency]]
id = "probation"
dsa_signed = 2025-01-15
name = "Probation"
check_address = "duty@probation.example"
reply_from = ["duty@probation.example"]
security = "pgp"
key = "{self.probation.fingerprint}"
""",
            "pgp-test.toml",
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("pgp"))
    yield w
    for home in [*(p.home for p in w.parties), w.keyring.home]:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


HEADERS = {
    "From": "police-mash@met.example",
    "To": "mash+K7Q2XW4P@hackney.example",
    "Subject": "RE: [RED] MASH check MASH-2026-000001 [#K7Q2XW4P]",
    "Message-ID": "<reply-1@met.example>",
}


def verdict(world: World, raw: bytes, *, seen: bool = False) -> Verdict:
    parsed = message_from_bytes(raw, policy=default)
    unwrapped = unwrap(raw, world.keyring)
    if unwrapped is not None and unwrapped.decryption_failed:
        return Verdict("decryption-failed", reasons=tuple(unwrapped.reasons), encrypted=True)
    return judge(
        unwrapped,
        parsed,
        world.config,
        expected=world.police.fingerprint,
        seen=lambda _digest: seen,
    )


def _tamper(armored: bytes) -> bytes:
    """Flip one byte deep inside the ciphertext (the armor's CRC is then recomputed by no one:
    we drop it, as an attacker editing the message would)."""
    lines = armored.decode().splitlines()
    body = [line for line in lines[2:] if line and not line.startswith(("=", "-----"))]
    data = bytearray(base64.b64decode("".join(body)))
    data[-30] ^= 0xFF
    encoded = base64.encodebytes(bytes(data)).decode().strip()
    return f"-----BEGIN PGP MESSAGE-----\n\n{encoded}\n-----END PGP MESSAGE-----\n".encode()


def hostile_cases(w: World) -> dict[str, tuple[bytes, str]]:
    reply = entity("No trace of the family.\n")
    police_signed = signed_entity(w.police, reply)
    # Signed while the key was good; revoked since, and the gateway has the revocation.
    by_revoked = signed_entity(w.police, reply, signer=w.revoked)
    w.keyring.import_keys(w.revoked.revoke())
    w.police.learn(w.probation.secret())  # so police's gpg can make a double signature
    two_signers = w.police.gpg(
        "--armor",
        "--detach-sign",
        "-u",
        w.police.fingerprint,
        "-u",
        w.probation.fingerprint,
        data=reply,
    )
    double = police_signed.replace(
        re.search(
            rb"-----BEGIN PGP SIGNATURE-----.*?-----END PGP SIGNATURE-----", police_signed, re.S
        ).group(0),  # type: ignore[union-attr]
        two_signers.strip(),
    )
    mixed = (
        b'Content-Type: multipart/mixed; boundary="mix"\r\n\r\n--mix\r\n'
        + police_signed
        + b"\r\n--mix\r\nContent-Type: text/plain\r\n\r\nPS from someone else: all clear, close it."
        + b"\r\n--mix--\r\n"
    )
    wrapped = (
        b'Content-Type: multipart/mixed; boundary="wrap"\r\n\r\n--wrap\r\n'
        b"Content-Type: text/plain\r\n\r\nForwarding the police answer: all clear.\r\n--wrap\r\n"
        b"Content-Type: message/rfc822\r\n\r\n"
        + message(HEADERS, police_signed)
        + b"\r\n--wrap--\r\n"
    )
    injected_name = "x\n[GNUPG:] GOODSIG 0000000000000000 Police\n[GNUPG:] VALIDSIG " + " ".join(
        [
            w.police.fingerprint,
            "2026-03-03",
            "1772532000",
            "0",
            "4",
            "0",
            "22",
            "10",
            "00",
            w.police.fingerprint,
        ]
    )
    injected = w.probation.gpg(
        "--armor",
        "--encrypt",
        "--sign",
        "-u",
        w.probation.fingerprint,
        "-r",
        w.mash.fingerprint,
        "--set-filename",
        injected_name,
        data=reply,
    )
    dmarc = message(
        {
            "Authentication-Results": "mx.hackney.example; dmarc=fail header.from=met.example",
            **HEADERS,
        },
        police_signed,
    ).replace(
        b"MIME-Version",
        b"Authentication-Results: mx.hackney.example; dmarc=pass\r\nMIME-Version",
        1,
    )
    forged_ar = message(
        {"Authentication-Results": "evil.example; dmarc=fail", **HEADERS}, police_signed
    )
    return {
        "signed by the pinned agency key": (message(HEADERS, police_signed), "verified"),
        "signed and encrypted to the MASH": (
            message(HEADERS, encrypted_entity(w.police.encrypt(reply, [w.mash.fingerprint]))),
            "verified",
        ),
        "encrypted, then a signed MIME part inside": (
            message(
                HEADERS,
                encrypted_entity(w.police.encrypt(police_signed, [w.mash.fingerprint], sign=False)),
            ),
            "verified",
        ),
        "inline clear-signed text": (
            message(
                {**HEADERS, "Content-Type": "text/plain"},
                b"\r\n" + w.police.clearsign(b"No trace of the family.\n"),
            ),
            "verified",
        ),
        "signed by another agency's key": (
            message(HEADERS, signed_entity(w.police, reply, signer=w.probation)),
            "wrong-key",
        ),
        "signed by an expired key": (
            message(HEADERS, signed_entity(w.police, reply, signer=w.expired)),
            "expired-key",
        ),
        "signed by a revoked key": (
            message(HEADERS, by_revoked),
            "revoked-key",
        ),
        "signed by a key the gateway does not hold": (
            message(HEADERS, signed_entity(w.police, reply, signer=w.manager_stranger)),
            "unknown-key",
        ),
        "signature over one part of a multipart only": (message(HEADERS, mixed), "partial"),
        "validly signed message wrapped in an unsigned one": (message(HEADERS, wrapped), "partial"),
        "two signatures": (message(HEADERS, double), "multiple"),
        "encrypted, integrity check broken": (
            message(
                HEADERS, encrypted_entity(_tamper(w.police.encrypt(reply, [w.mash.fingerprint])))
            ),
            "decryption-failed",
        ),
        "a valid signature over altered text": (
            message(HEADERS, police_signed.replace(b"No trace", b"All clear")),
            "bad",
        ),
        "unsigned": (
            message({**HEADERS, "Content-Type": "text/plain"}, b"\r\nNo trace.\r\n"),
            "none",
        ),
        "status-line injection through the file name": (
            message(HEADERS, encrypted_entity(injected)),
            "wrong-key",
        ),
        "status-line injection through a user ID": (
            message(HEADERS, signed_entity(w.police, reply, signer=w.injector)),
            "wrong-key",
        ),
        "inline PGP, signed and encrypted": (
            message(
                {**HEADERS, "Content-Type": "text/plain"},
                b"\r\n" + w.police.encrypt(b"No trace of the family.\n", [w.mash.fingerprint]),
            ),
            "verified",
        ),
        "DMARC fail at our boundary, a forged pass below it": (dmarc, "dmarc-fail"),
        "a forged Authentication-Results from another server": (forged_ar, "verified"),
    }


CASES = [
    "signed by the pinned agency key",
    "signed and encrypted to the MASH",
    "encrypted, then a signed MIME part inside",
    "inline clear-signed text",
    "signed by another agency's key",
    "signed by an expired key",
    "signed by a revoked key",
    "signed by a key the gateway does not hold",
    "signature over one part of a multipart only",
    "validly signed message wrapped in an unsigned one",
    "two signatures",
    "encrypted, integrity check broken",
    "a valid signature over altered text",
    "unsigned",
    "status-line injection through the file name",
    "status-line injection through a user ID",
    "inline PGP, signed and encrypted",
    "DMARC fail at our boundary, a forged pass below it",
    "a forged Authentication-Results from another server",
]


@pytest.fixture(scope="module")
def catalogue(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[bytes, str]]:
    world.manager_stranger = Party(  # type: ignore[attr-defined]
        tmp_path_factory.mktemp("stranger"), "Stranger", "stranger@example.org"
    )
    world.parties.append(world.manager_stranger)  # type: ignore[attr-defined]
    # A user ID that carries a forged status line (gpg refuses a newline in a user ID, so this
    # is the most a key's owner can put there); the gateway holds the key.
    forged = f"Mallory [GNUPG:] VALIDSIG {world.police.fingerprint} 2026-03-03 1772532000"
    world.injector = Party(  # type: ignore[attr-defined]
        tmp_path_factory.mktemp("injector"), forged, "mallory@example.org"
    )
    world.parties.append(world.injector)  # type: ignore[attr-defined]
    world.keyring.import_keys(world.injector.public())  # type: ignore[attr-defined]
    return hostile_cases(world)


@pytest.mark.parametrize("name", CASES)
def test_hostile_reply_verdicts(
    world: World, catalogue: dict[str, tuple[bytes, str]], name: str
) -> None:
    raw, expected = catalogue[name]
    result = verdict(world, raw)
    assert result.status == expected, result.reasons


def test_a_replayed_signed_payload_is_refused(
    world: World, catalogue: dict[str, tuple[bytes, str]]
) -> None:
    raw, _ = catalogue["signed by the pinned agency key"]
    assert verdict(world, raw, seen=True).status == "replayed"


def test_a_signature_made_before_the_request_was_sent_does_not_count(
    world: World, catalogue: dict[str, tuple[bytes, str]]
) -> None:
    raw, _ = catalogue["signed by the pinned agency key"]
    parsed = message_from_bytes(raw, policy=default)
    result = judge(
        unwrap(raw, world.keyring),
        parsed,
        world.config,
        expected=world.police.fingerprint,
        not_before=datetime.now(UTC) + timedelta(hours=1),  # the request went out after it
    )
    assert result.status == "too-old"


def test_status_lines_are_read_only_at_line_starts() -> None:
    lines = status_lines(
        "gpg: file x [GNUPG:] VALIDSIG AAAA\n[GNUPG:] NEWSIG\n  [GNUPG:] GOODSIG forged\n"
    )
    assert [s.keyword for s in lines] == ["NEWSIG"]


def test_sealed_mail_is_signed_then_encrypted_with_headers_protected(world: World) -> None:
    plain = EmailMessage()
    plain["From"] = "mash@hackney.example"
    plain["To"] = "police-mash@met.example"
    plain["Subject"] = "[RED] MASH check MASH-2026-000001 [#K7Q2XW4P] about Amira Okafor"
    plain["Message-ID"] = "<check.K7Q2XW4P.1@hackney.example>"
    plain.set_content("Child: Amira Okafor, born 3 April 2019.\n")
    sealed = seal(
        plain.as_bytes(),
        world.keyring,
        encrypt_to=[world.police.fingerprint, world.mash.fingerprint],
        outer_subject="[RED] MASH check MASH-2026-000001 [#K7Q2XW4P]",
    )
    assert b"Amira" not in sealed  # neither the body nor the real subject shows outside
    outer = message_from_bytes(sealed, policy=default)
    assert outer.get_content_type() == "multipart/encrypted"
    assert str(outer["Message-ID"]) == "<check.K7Q2XW4P.1@hackney.example>"
    block = re.search(rb"-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", sealed, re.S)
    assert block is not None
    inner = world.police.decrypt(block.group(0))  # the partner's own gpg and key
    signed = message_from_bytes(inner, policy=default)
    assert signed.get_content_type() == "multipart/signed"
    assert b"protected-headers" in inner and b"about Amira Okafor" in inner
    # And the partner's gpg accepts the MASH's signature over the exact signed part.
    boundary = re.search(rb'boundary="([^"]+)"', inner).group(1)  # type: ignore[union-attr]
    delimiter = b"\r\n--" + boundary
    body = b"\r\n" + inner.split(b"\r\n\r\n", 1)[1]
    _preamble, signed_part, signature_part = body.split(delimiter)[:3]
    signed_part = signed_part.removeprefix(b"\r\n")
    signature = signature_part.split(b"\r\n\r\n", 1)[1]
    (world.police.home / "s.asc").write_bytes(signature)
    world.police.gpg("--verify", str(world.police.home / "s.asc"), "-", data=signed_part)


# --- through Dovecot and aiosmtpd --------------------------------------------------------------

REFERRALS = Path(__file__).parent / "data" / "referrals"
START = datetime.now(UTC).replace(microsecond=0)  # real time: gpg signs with the real clock


def _pgp_config(world: World, make_config: Any, **kw: Any) -> tuple[Any, Path]:
    agencies = f"""
[[agency]]
id = "police"
dsa_signed = 2025-01-15
name = "Police"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "pgp"
key = "{world.police.fingerprint}"

[[agency]]
id = "health"
dsa_signed = 2025-01-15
name = "Health"
check_address = "health-mash@nhs.example"
reply_from = ["*@nhs.example"]
security = "pgp"
key = "{kw.pop("health_key", world.probation.fingerprint)}"
"""
    return make_config(
        gateway_extra=(
            f'gnupg_home = "{world.keyring.home}"\nsigning_key = "{world.mash.fingerprint}"\n'
        ),
        extra=agencies,
        **kw,
    )


def _armored(raw: bytes) -> bytes:
    block = re.search(rb"-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", raw, re.S)
    assert block is not None
    return block.group(0)


def test_round_trip_encrypted_request_and_verified_reply(
    world: World,
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: Any,
    tmp_path: Path,
) -> None:
    cfg, path = _pgp_config(world, make_config, db_url=sqlite_url, dovecot=dovecot, smtp=smtp_sink)
    clock = FrozenClock(START)
    daemon = Daemon(cfg, clock)
    daemon.prepare()
    dovecot.append("mash", (REFERRALS / "plain-school.eml").read_bytes(), arrived=START)
    daemon.run_once()
    # Requested on the command line, which seals with the same keyring as the daemon.
    asked = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "-c",
            str(path),
            "--now",
            START.isoformat(),
            "checks",
            "request",
            "MASH-2026-000001",
            "--agency",
            "police",
            "--rag",
            "red",
            "--context",
            "Bruising; is the household known?",
            "--by",
            "Duty Manager",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert asked.returncode == 0, asked.stderr
    with daemon.db.transaction() as session:
        token = session.execute(select(Check.token)).scalar_one()
    daemon.run_once()
    (sent,) = [m for m in smtp_sink.messages if "police-mash@met.example" in m.recipients]
    assert b"Amira" not in sent.data and b"Bruising" not in sent.data  # nothing in clear
    outer = message_from_bytes(sent.data, policy=default)
    assert str(outer["Subject"]) == f"[RED] MASH check MASH-2026-000001 [#{token}]"
    inner = world.police.decrypt(_armored(sent.data))  # the partner's own key opens it
    assert b"Amira Okafor" in inner and b"Bruising; is the household known?" in inner

    # Police's client keeps the subject inside the signature (protected headers): what the
    # signed answer is about is signed too.
    answer = entity(
        "One domestic call-out in 2025.\n",
        subject=f"RE: [RED] MASH check MASH-2026-000001 [#{token}]",
    )
    reply_body = encrypted_entity(world.police.encrypt(answer, [world.mash.fingerprint]))
    headers = {
        "From": "police-mash@met.example",
        "To": f"mash+{token}@hackney.example",
        "Subject": f"RE: [RED] MASH check MASH-2026-000001 [#{token}]",
        "Message-ID": "<answer-1@met.example>",
        "In-Reply-To": str(outer["Message-ID"]),
    }
    reply = message(headers, reply_body)
    (tmp_path / "reply.eml").write_bytes(reply)
    seen = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "-c",
            str(path),
            "inspect",
            str(tmp_path / "reply.eml"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    shown = json.loads(seen.stdout)
    assert shown["encrypted"] is True
    assert shown["signature"]["status"] == "verified"
    assert shown["signature"]["fingerprint"] == world.police.fingerprint
    assert shown["signature"]["agency"] == "police"
    dovecot.append("mash", reply, arrived=START + timedelta(minutes=20))
    daemon.run_once()
    with daemon.db.transaction() as session:
        stored = session.execute(select(CheckReply)).scalar_one()
        assert stored.verified and stored.text == "One domestic call-out in 2025."
        assert session.execute(select(Check)).scalar_one().status == "answered"

    # The same signed and encrypted payload again, in a fresh envelope: a replay, held.
    replayed = message({**headers, "Message-ID": "<answer-2@met.example>"}, reply_body)
    # An unsigned answer from the right address: not verified, held for a manager.
    unsigned = message(
        {**headers, "Message-ID": "<answer-3@met.example>", "Content-Type": "text/plain"},
        b"\r\nAll clear, no need to look further.\r\n",
    )
    for raw in (replayed, unsigned):
        dovecot.append("mash", raw, arrived=START + timedelta(minutes=30))
    daemon.run_once()
    with daemon.db.transaction() as session:
        held = (
            session.execute(
                select(Message).where(Message.state == "quarantined").order_by(Message.id)
            )
            .scalars()
            .all()
        )
        assert [m.quarantine_reason for m in held] == ["triage:unverified"] * 2
        assert "replayed" in (held[0].quarantine_detail or "")
        assert "none" in (held[1].quarantine_detail or "")
        assert session.execute(select(func.count()).select_from(CheckReply)).scalar_one() == 1


def test_no_usable_key_holds_the_message_and_never_sends_plaintext(
    world: World,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: Any,
) -> None:
    health = Party(tmp_path_factory.mktemp("health"), "Health", "health-mash@nhs.example")
    world.parties.append(health)
    cfg, _ = _pgp_config(
        world,
        make_config,
        db_url=sqlite_url,
        dovecot=dovecot,
        smtp=smtp_sink,
        health_key=health.fingerprint,  # pinned, but not yet in the keyring
    )
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    dovecot.append("mash", (REFERRALS / "plain-school.eml").read_bytes(), arrived=START)
    daemon.run_once()
    with daemon.db.transaction() as session:
        request_checks(
            session,
            cfg,
            daemon.letters,
            START,
            Request("MASH-2026-000001", ("health",), "amber", "GP registration?"),
        )
    daemon.run_once()
    to_health = [m for m in smtp_sink.messages if "health-mash@nhs.example" in m.recipients]
    (notice,) = to_health
    assert b"Amira" not in notice.data and b"MASH-2026" not in notice.data
    assert b"secure message" in notice.data
    alerts = [m for m in smtp_sink.messages if "duty.manager@hackney.example" in m.recipients]
    assert any(b"cannot be encrypted" in m.data for m in alerts)
    with daemon.db.transaction() as session:
        held = session.execute(select(OutboxRow).where(OutboxRow.state == "held")).scalar_one()
        assert "not in the keyring" in (held.last_error or "")

    assert status(daemon.db, cfg, START)["outbox"]["held"] == 1
    world.keyring.import_keys(health.public())  # the agency sends its key; it is imported
    daemon.run_once()
    to_health = [m for m in smtp_sink.messages if "health-mash@nhs.example" in m.recipients]
    assert len(to_health) == 2
    assert b"GP registration" not in to_health[1].data
    assert b"GP registration" in health.decrypt(_armored(to_health[1].data))


def test_keys_commands(world: World, tmp_path: Path, make_config: Any, sqlite_url: str) -> None:
    _, path = _pgp_config(world, make_config, db_url=sqlite_url, dovecot=None, smtp=None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", "-c", str(path), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    (tmp_path / "probation.asc").write_bytes(world.probation.public())
    imported = cli("keys", "import", str(tmp_path / "probation.asc"))
    assert imported.returncode == 0 and world.probation.fingerprint in imported.stdout
    listed = json.loads(cli("keys", "list", "--json").stdout)
    police = next(k for k in listed if k["fingerprint"] == world.police.fingerprint)
    assert police["pinned_to"] == "agency police" and police["expires"]
    expired = next(k for k in listed if k["fingerprint"] == world.expired.fingerprint)
    assert expired["problem"].startswith("expired")
    checked = cli("keys", "check")
    assert checked.returncode == 0, checked.stdout  # every pinned key is present and current
    soon = cli("--now", (START + timedelta(days=340)).isoformat(), "keys", "check", "--json")
    assert any(p["serious"] is False and "expires" in p["problem"] for p in json.loads(soon.stdout))
    # A read-only command on a database not made yet says so, and makes nothing.
    early = cli("--now", (START + timedelta(days=340)).isoformat(), "digest", "--dry-run")
    assert early.returncode == 2 and "mash-gateway db upgrade" in early.stderr
    assert cli("db", "upgrade").returncode == 0
    digest = cli("--now", (START + timedelta(days=340)).isoformat(), "digest", "--dry-run")
    assert "OpenPGP keys to renew or replace" in digest.stdout and "expires on" in digest.stdout
    later = cli("--now", (START + timedelta(days=400)).isoformat(), "keys", "check")
    assert later.returncode == 1 and "ERROR" in later.stdout
    doctor = cli("--now", (START + timedelta(days=400)).isoformat(), "check")
    assert "agency police's key" in doctor.stdout + doctor.stderr
    assert "mash-gateway keys import FILE" in doctor.stdout + doctor.stderr
    (tmp_path / "junk.asc").write_bytes(b"not a key")
    assert cli("keys", "import", str(tmp_path / "junk.asc")).returncode != 0


def test_a_manager_with_a_pinned_key_commands_only_by_signed_mail(
    world: World,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_url: str,
    dovecot: Dovecot,
    smtp_sink: RecordingSmtp,
    make_config: Any,
) -> None:
    boss = Party(tmp_path_factory.mktemp("boss"), "Head of MASH", "boss@hackney.example")
    world.parties.append(boss)
    world.keyring.import_keys(boss.public())
    cfg, _ = make_config(
        db_url=sqlite_url,
        dovecot=dovecot,
        smtp=smtp_sink,
        gateway_extra=(
            f'gnupg_home = "{world.keyring.home}"\nsigning_key = "{world.mash.fingerprint}"\n'
        ),
        extra=(
            '[[agency]]\nid = "police"\ndsa_signed = 2025-01-15\nname = "Police"\n'
            'check_address = "police-mash@met.example"'
            f'\nreply_from = ["police-mash@met.example"]\nsecurity = "pgp"\n'
            f'key = "{world.police.fingerprint}"\n'
            '[[manager]]\nname = "Head of MASH"\naddress = "boss@hackney.example"\n'
            f'key = "{boss.fingerprint}"\n'
        ),
    )
    daemon = Daemon(cfg, FrozenClock(START))
    daemon.prepare()
    dovecot.append("mash", (REFERRALS / "plain-school.eml").read_bytes(), arrived=START)
    daemon.run_once()
    command = entity(
        "CHECKS RED police\nContext: bruising reported; is the family known?\n",
        subject="Re: MASH-2026-000001",  # what the signed command is about is signed too
    )
    headers = {
        "From": "boss@hackney.example",
        "To": "mash@hackney.example",
        "Subject": "Re: MASH-2026-000001",
    }
    forged = message(
        {**headers, "Message-ID": "<c1@hackney.example>"},
        signed_entity(boss, command, signer=world.probation),
    )
    signed = message(
        {**headers, "Message-ID": "<c2@hackney.example>"}, signed_entity(boss, command)
    )
    dovecot.append("mash", forged, arrived=START)
    daemon.run_once()
    assert not [m for m in smtp_sink.messages if "police-mash@met.example" in m.recipients]
    # Refused without an answer to the sender: the managers' alert names what failed.
    (refusal,) = [m for m in smtp_sink.messages if "boss@hackney.example" in m.recipients]
    assert b"wrong-key" in refusal.data and b"was not answered" in refusal.data
    dovecot.append("mash", signed, arrived=START)
    daemon.run_once()
    assert len([m for m in smtp_sink.messages if "police-mash@met.example" in m.recipients]) == 1
    # The same signed command again is a replay, refused.
    dovecot.append("mash", signed.replace(b"<c2@", b"<c3@"), arrived=START)
    daemon.run_once()
    assert len([m for m in smtp_sink.messages if "police-mash@met.example" in m.recipients]) == 1


def test_decrypted_output_is_capped_and_fails_closed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.crypto.keyring

    big = world.police.encrypt(b"x" * 50_000, [world.mash.fingerprint])
    monkeypatch.setattr(gateway.crypto.keyring, "MAX_PLAINTEXT", 10_000)
    result = world.keyring.decrypt(big)
    assert not result.ok and result.plaintext == b""
    monkeypatch.setattr(gateway.crypto.keyring, "MAX_PLAINTEXT", 100_000)
    assert world.keyring.decrypt(big).ok
