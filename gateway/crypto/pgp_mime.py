"""PGP/MIME (RFC 3156): sealing our mail, and unwrapping and judging what partners send.

Signatures are checked over the exact bytes that were signed, cut from the raw message at the
MIME boundaries (canonical CRLF), never over a re-serialised copy. A signature counts for the
message only when it covers the whole body: the signed entity is the message's own top-level
content (or the whole decrypted payload), not a part nested beside unsigned ones.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message

from gateway.crypto.keyring import Keyring, Status

PROTECTED = ("Subject", "From", "To", "Cc", "Reply-To", "Date", "Message-ID")
OUTER_ONLY = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "X-MASH-Gateway",
)
_ARMOR_MESSAGE = re.compile(rb"-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", re.S)
_ARMOR_SIGNED = re.compile(
    rb"-----BEGIN PGP SIGNED MESSAGE-----.*?-----END PGP SIGNATURE-----", re.S
)
_HASHES = {"2": "sha1", "8": "sha256", "9": "sha384", "10": "sha512", "11": "sha224"}


def crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", data)


# --- outbound ------------------------------------------------------------------------------


def seal(
    raw: bytes, keyring: Keyring, *, encrypt_to: list[str] | None, outer_subject: str
) -> bytes:
    """Sign (RFC 3156 multipart/signed), then, given recipients, encrypt (multipart/encrypted).

    The real headers travel inside, protected (`protected-headers="v1"`); outside, only what
    delivery needs and a neutral subject.
    """
    head, body_bytes = _header_block(raw)
    fields = _fields(head)
    protected = {name.lower().encode() for name in PROTECTED}
    inner_fields = [f for f in fields if _name(f) in protected]
    for line in fields:
        if _name(line) == b"content-type":
            inner_fields.append(line + b'; protected-headers="v1"')
        elif _name(line).startswith(b"content-"):
            inner_fields.append(line)
    inner_bytes = b"\r\n".join(inner_fields) + b"\r\n\r\n" + body_bytes
    signature = keyring.sign_detached(inner_bytes)
    boundary = f"signed-{secrets.token_hex(12)}"
    signed = b"".join(
        [
            b'Content-Type: multipart/signed; micalg="pgp-sha512";\r\n'
            b' protocol="application/pgp-signature";\r\n'
            b' boundary="' + boundary.encode() + b'"\r\n\r\n',
            b"--" + boundary.encode() + b"\r\n",
            inner_bytes + b"\r\n",  # this CRLF belongs to the boundary, not the signed part
            b"--" + boundary.encode() + b"\r\n",
            b'Content-Type: application/pgp-signature; name="signature.asc"\r\n'
            b'Content-Disposition: attachment; filename="signature.asc"\r\n\r\n',
            crlf(signature).rstrip(b"\r\n") + b"\r\n",
            b"--" + boundary.encode() + b"--\r\n",
        ]
    )
    body = signed
    if encrypt_to:
        armored = keyring.encrypt(signed, encrypt_to)
        boundary = f"encrypted-{secrets.token_hex(12)}"
        body = b"".join(
            [
                b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n'
                b' boundary="' + boundary.encode() + b'"\r\n\r\n',
                b"--" + boundary.encode() + b"\r\n",
                b"Content-Type: application/pgp-encrypted\r\n"
                b"Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n",
                b"--" + boundary.encode() + b"\r\n",
                b'Content-Type: application/octet-stream; name="encrypted.asc"\r\n'
                b'Content-Disposition: inline; filename="encrypted.asc"\r\n\r\n',
                crlf(armored).rstrip(b"\r\n") + b"\r\n",
                b"--" + boundary.encode() + b"--\r\n",
            ]
        )
    outer_names = {name.lower().encode() for name in OUTER_ONLY}
    outer = [f + b"\r\n" for f in fields if _name(f) in outer_names]
    subject = next((f for f in fields if _name(f) == b"subject"), b"Subject: MASH")
    outer.append(
        f"Subject: {outer_subject}".encode() + b"\r\n" if encrypt_to else subject + b"\r\n"
    )
    outer.append(b"MIME-Version: 1.0\r\n")
    return b"".join(outer) + body


# --- inbound -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """What gpg's status lines say about the signatures over one signed payload."""

    status: str  # good, none, bad, unknown-key, expired-key, revoked-key, expired, multiple
    fingerprint: str | None = None  # the primary key's, from VALIDSIG
    signed_at: datetime | None = None
    payload_sha256: str | None = None


def judge(statuses: tuple[Status, ...], payload: bytes) -> Signature:
    new = sum(1 for s in statuses if s.keyword == "NEWSIG")
    results = [
        s
        for s in statuses
        if s.keyword in ("GOODSIG", "BADSIG", "ERRSIG", "EXPKEYSIG", "REVKEYSIG", "EXPSIG")
    ]
    digest = hashlib.sha256(payload).hexdigest()
    if not results and new == 0:
        return Signature("none")
    if new > 1 or len(results) > 1:
        return Signature("multiple", payload_sha256=digest)
    (result,) = results
    valid = [s for s in statuses if s.keyword == "VALIDSIG"]
    bad = {
        "BADSIG": "bad",
        "ERRSIG": "unknown-key",
        "EXPKEYSIG": "expired-key",
        "REVKEYSIG": "revoked-key",
        "EXPSIG": "expired",
    }
    if result.keyword in bad:
        return Signature(bad[result.keyword], payload_sha256=digest)
    if len(valid) != 1 or len(valid[0].args) < 10:
        return Signature("bad", payload_sha256=digest)
    args = valid[0].args
    return Signature(
        "good",
        fingerprint=args[9].upper(),
        signed_at=datetime.fromtimestamp(int(args[2]), UTC) if args[2].isdigit() else None,
        payload_sha256=digest,
    )


@dataclass
class Unwrapped:
    """The message as the rest of the pipeline should read it, and what crypto said."""

    content: bytes  # a whole message: the outer headers with the (decrypted) content
    encrypted: bool = False
    decryption_failed: bool = False
    signature: Signature = field(default_factory=lambda: Signature("none"))
    # The signature covers only a nested part, not the whole body.
    partial: bool = False
    reasons: list[str] = field(default_factory=list)
    # The header fields inside what was signed (protected headers: Subject, In-Reply-To, ...):
    # what a signed message says it is about. Empty for inline PGP, which signs no headers.
    signed_headers: bytes = b""


def _header_block(raw: bytes) -> tuple[bytes, bytes]:
    raw = crlf(raw)
    head, sep, body = raw.partition(b"\r\n\r\n")
    return (head + b"\r\n", body) if sep else (raw, b"")


def _parts(entity: bytes, boundary: str) -> list[bytes]:
    """The raw bytes of each part of a multipart entity, exactly as they were sent."""
    _head, body = _header_block(entity)
    delimiter = b"--" + boundary.encode()
    chunks = re.split(rb"(?:^|\r\n)" + re.escape(delimiter) + rb"(--)?[ \t]*(?=\r\n|$)", body)
    # re.split keeps the group: [preamble, g, part, g, part, '--', epilogue]
    parts = []
    for index in range(2, len(chunks), 2):
        if chunks[index - 1] == b"--":
            break
        parts.append(chunks[index].removeprefix(b"\r\n"))
    return parts


def _fields(head: bytes) -> list[bytes]:
    """Header fields, each with its folded continuation lines, as raw bytes."""
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields


def _name(field: bytes) -> bytes:
    return field.split(b":", 1)[0].strip().lower()


def _merge(outer_raw: bytes, inner_entity: bytes) -> bytes:
    """The outer headers (the protected Subject, if the inner part carries one) over the inner
    content, built from the raw bytes: nothing is re-parsed or re-folded."""
    outer_head, _ = _header_block(outer_raw)
    inner_head, inner_body = _header_block(inner_entity)
    inner_fields = _fields(inner_head)
    subject = [f for f in inner_fields if _name(f) == b"subject"]
    kept = [
        f
        for f in _fields(outer_head)
        if not _name(f).startswith(b"content-")
        and _name(f) != b"mime-version"
        and not (subject and _name(f) == b"subject")
    ]
    content = [f for f in inner_fields if _name(f).startswith(b"content-")]
    return b"\r\n".join([*kept, *subject[:1], b"MIME-Version: 1.0", *content]) + (
        b"\r\n\r\n" + inner_body
    )


def unwrap(raw: bytes, keyring: Keyring | None) -> Unwrapped | None:
    """None for a message with no OpenPGP in it; else what it holds and what gpg said."""
    # The compat32 parser: structure only, without the costly header registry.
    message = message_from_bytes(raw)
    ctype = message.get_content_type()
    if ctype == "multipart/encrypted" or _inline_encrypted(message):
        if keyring is None:
            return Unwrapped(
                raw,
                encrypted=True,
                decryption_failed=True,
                reasons=["encrypted, and no keyring is configured"],
            )
        return _decrypt(raw, message, keyring)
    if ctype == "multipart/signed":
        if keyring is None:
            return Unwrapped(raw, reasons=["signed, and no keyring is configured"])
        return _verify_signed(raw, message, raw, keyring)
    if _inline_signed_whole(message):
        if keyring is None:
            return Unwrapped(raw, reasons=["signed, and no keyring is configured"])
        return _verify_inline(raw, message, keyring)
    if _nested_signature(message):
        return Unwrapped(raw, partial=True, reasons=["a signature covers only part of the message"])
    return None


def _inline_encrypted(message: Message) -> bool:
    if message.is_multipart():
        return False
    payload = message.get_payload(decode=True)
    return isinstance(payload, bytes) and payload.lstrip().startswith(b"-----BEGIN PGP MESSAGE")


def _inline_signed_whole(message: Message) -> bool:
    if message.is_multipart():
        return False
    payload = message.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return False
    stripped = payload.strip()
    return stripped.startswith(b"-----BEGIN PGP SIGNED MESSAGE-----") and stripped.endswith(
        b"-----END PGP SIGNATURE-----"
    )


def _nested_signature(message: Message) -> bool:
    for part in message.walk():
        if part is message:
            continue
        if part.get_content_type() in ("multipart/signed", "application/pgp-signature"):
            return True
        if part.get_content_maintype() == "text" and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and b"-----BEGIN PGP SIGNED MESSAGE-----" in payload:
                return True
    payload = message.get_payload(decode=True) if not message.is_multipart() else None
    return isinstance(payload, bytes) and b"-----BEGIN PGP SIGNED MESSAGE-----" in payload


def _decrypt(raw: bytes, message: Message, keyring: Keyring) -> Unwrapped:
    if message.get_content_type() == "multipart/encrypted":
        boundary = message.get_boundary()
        parts = _parts(raw, boundary) if boundary else []
        if len(parts) != 2:
            return Unwrapped(
                raw,
                encrypted=True,
                decryption_failed=True,
                reasons=["multipart/encrypted without its two parts"],
            )
        ciphertext = _header_block(parts[1])[1]
    else:
        payload = message.get_payload(decode=True)
        found = _ARMOR_MESSAGE.search(payload if isinstance(payload, bytes) else b"")
        if found is None:
            return Unwrapped(
                raw, encrypted=True, decryption_failed=True, reasons=["no PGP message block"]
            )
        ciphertext = found.group(0)
    result = keyring.decrypt(ciphertext)
    if not result.ok:
        # Fail closed: the partial plaintext is never used.
        return Unwrapped(raw, encrypted=True, decryption_failed=True, reasons=list(result.reasons))
    plaintext = result.plaintext
    inline = message.get_content_type() != "multipart/encrypted"
    if inline:
        plaintext = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + plaintext
    # Signed and encrypted in one OpenPGP message: the signature covers the whole plaintext.
    signature = judge(result.statuses, plaintext)
    inner = message_from_bytes(crlf(plaintext))
    if signature.status == "none" and inner.get_content_type() == "multipart/signed":
        nested = _verify_signed(plaintext, inner, raw, keyring)
        nested.encrypted = True
        return nested
    unwrapped = Unwrapped(
        _merge(raw, plaintext),
        encrypted=True,
        signature=signature,
        signed_headers=b"" if inline else _header_block(plaintext)[0],
    )
    if signature.status == "none" and _nested_signature(inner):
        unwrapped.partial = True
        unwrapped.reasons.append("a signature inside covers only part of the message")
    return unwrapped


def _verify_signed(
    entity: bytes, message: Message, outer_raw: bytes, keyring: Keyring
) -> Unwrapped:
    boundary = message.get_boundary()
    parts = _parts(entity, boundary) if boundary else []
    if len(parts) != 2 or message.get_param("protocol") != "application/pgp-signature":
        return Unwrapped(
            entity, reasons=["multipart/signed that is not PGP/MIME"], signature=Signature("bad")
        )
    signed, signature_part = parts
    signature_bytes = _header_block(signature_part)[1]
    verified = keyring.verify_detached(crlf(signed), signature_bytes)
    signature = judge(verified.statuses, crlf(signed))
    return Unwrapped(
        _merge(outer_raw, signed), signature=signature, signed_headers=_header_block(signed)[0]
    )


def _verify_inline(raw: bytes, message: Message, keyring: Keyring) -> Unwrapped:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    block = _ARMOR_SIGNED.search(payload)
    assert block is not None
    verified, text = keyring.verify_inline(block.group(0))
    signature = judge(verified.statuses, text)
    body = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
    return Unwrapped(_merge(raw, body), signature=signature)
