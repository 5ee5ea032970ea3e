"""Whether a message provably comes from whom it should: the verdict on its OpenPGP signature.

A reply is *verified* only when all hold: it decrypted with an integrity check (or was not
encrypted); exactly one good signature, by the primary key pinned for the sender, covering the
whole body; made after the request went out; a signed payload not seen before; and no DMARC
fail from our own boundary server's Authentication-Results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message

from gateway.config import Config
from gateway.crypto.keyring import owner_of
from gateway.crypto.pgp_mime import Unwrapped
from gateway.mail.authresults import boundary_dmarc

CLOCK_SKEW = timedelta(minutes=5)
_PROBLEMS = {
    "none": "the message is not signed",
    "bad": "the signature does not match the message",
    "unknown-key": "signed with a key the gateway does not hold",
    "expired-key": "signed with an expired key",
    "revoked-key": "signed with a revoked key",
    "expired": "the signature has expired",
    "multiple": "more than one signature",
}


@dataclass(frozen=True)
class Verdict:
    status: str  # verified, good (no pinned key to compare), or what is wrong
    fingerprint: str | None = None
    owner: str | None = None  # "agency police", "manager a@b"
    reasons: tuple[str, ...] = ()
    encrypted: bool = False
    payload_sha256: str | None = None

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def as_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "fingerprint": self.fingerprint,
            "agency": self.owner.removeprefix("agency ")
            if self.owner and self.owner.startswith("agency ")
            else None,
            "owner": self.owner,
            "reasons": list(self.reasons),
        }


def dmarc_failed(message: Message, authserv_id: str | None) -> bool:
    """dmarc=fail (or none under p=reject) in the topmost Authentication-Results from our own
    boundary server only: anything a sender adds lies below it, and others' are not ours."""
    return boundary_dmarc(message, authserv_id).failed


def judge(
    crypto: Unwrapped | None,
    message: Message,
    config: Config,
    *,
    expected: str | None,
    not_before: datetime | None = None,
    seen: Callable[[str], bool] = lambda _digest: False,
) -> Verdict:
    """The verdict for a message that should be signed by EXPECTED (a pinned fingerprint)."""
    encrypted = bool(crypto and crypto.encrypted)
    dmarc = dmarc_failed(message, config.gateway.authserv_id)
    dmarc_reason = ("DMARC failed at our boundary server",) if dmarc else ()
    if crypto is None or (crypto.signature.status == "none" and not crypto.partial):
        return Verdict("none", reasons=(_PROBLEMS["none"], *dmarc_reason), encrypted=encrypted)
    if crypto.partial:
        return Verdict(
            "partial",
            reasons=("the signature covers only part of the message", *dmarc_reason),
            encrypted=encrypted,
        )
    signature = crypto.signature
    fingerprint = signature.fingerprint
    owner = owner_of(config, fingerprint)

    def verdict(status: str, reasons: tuple[str, ...]) -> Verdict:
        return Verdict(status, fingerprint, owner, reasons, encrypted, signature.payload_sha256)

    if signature.status != "good":
        return verdict(signature.status, (_PROBLEMS[signature.status], *dmarc_reason))
    reasons: list[str] = []
    status = "verified" if expected else "good"
    if expected and fingerprint != expected.upper():
        status = "wrong-key"
        reasons.append(f"signed by {owner or 'a key pinned to nobody'}, not the pinned key")
    elif not_before and signature.signed_at and signature.signed_at < not_before - CLOCK_SKEW:
        status = "too-old"
        reasons.append("signed before the request was sent")
    elif signature.payload_sha256 and seen(signature.payload_sha256):
        status = "replayed"
        reasons.append("this signed message has been received before")
    if dmarc:
        status = "dmarc-fail" if status in ("verified", "good") else status
        reasons.extend(dmarc_reason)
    return verdict(status, tuple(reasons))
