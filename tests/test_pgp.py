"""OpenPGP with the real gpg and throw-away keys: the hostile-reply catalogue, each case with
the verdict it must get, and the seal the gateway puts on outgoing mail."""

from __future__ import annotations

import base64
import re
import subprocess
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from pgp_world import Party, encrypted_entity, entity, message, signed_entity

from gateway.config import parse_config
from gateway.crypto import Keyring, status_lines
from gateway.inbound.signatures import Verdict, judge
from gateway.pgp_mime import seal, unwrap

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
name = "Police"
check_address = "police-mash@met.example"
reply_from = ["police-mash@met.example"]
security = "pgp"
key = "{self.police.fingerprint}"

[[agency]]
id = "probation"
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
    unwrapped = unwrap(raw, parsed, world.keyring)
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
