"""Who sent a message: the one address in `From:` that a mail client would reply to.

Anything that could be read two ways is refused rather than guessed at: more than one `From:`
field, more than one address, a display name or comment that carries another address (also
inside an encoded word, or written in full-width or zero-width characters), or a field that the
strict and the lenient parser read differently. Addresses are compared in one canonical form:
Unicode NFKC, format characters (zero-width, bidi marks) removed, case folded, IDNA domain.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.utils import getaddresses

from gateway.mail.addresses import AddressError, normalise_address

# Something that looks like an address anywhere in a header's text (display name, comment).
_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")
_FOLD = re.compile(r"\r?\n(?=[ \t])")


@dataclass(frozen=True)
class Sender:
    """The canonical sender address, or why there is none that can be trusted.

    `address` is None both when there is no `From:` at all and when it is ambiguous; only the
    latter has a `problem` (and is held as `triage:sender`)."""

    address: str | None
    problem: str | None = None

    @property
    def domain(self) -> str | None:
        return self.address.rpartition("@")[2] if self.address else None


def fold_text(text: str) -> str:
    """NFKC with format characters removed: what two strings that look alike have in common."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def canonical_address(text: str) -> str:
    """The form every address comparison uses; raises AddressError for a non-address."""
    address = normalise_address(fold_text(text))
    local, _, domain = address.rpartition("@")
    return f"{local.lower()}@{domain}"


def _canonical_or_none(text: str) -> str | None:
    try:
        return canonical_address(text)
    except AddressError:
        return None


def same_address(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return canonical_address(a) == canonical_address(b)
    except AddressError:
        return False


def _raw_from_values(message: Message) -> list[str]:
    items = message.raw_items() if hasattr(message, "raw_items") else message.items()
    return [str(value) for key, value in items if key.lower() == "from"]


def sender_identity(message: Message) -> Sender:
    values = _raw_from_values(message)
    if not values:
        return Sender(None)
    if len(values) > 1:
        return Sender(None, f"{len(values)} From: fields")
    return identity_of(values[0])


def identity_of(raw_value: str) -> Sender:
    """The sender named by one raw `From:` value (folded or not, encoded words or not)."""
    raw = _FOLD.sub("", raw_value).strip()
    if not raw:
        return Sender(None)
    try:
        parsed = policy.default.header_factory("From", raw)
        strict = [a.addr_spec for a in parsed.addresses]
        decoded = str(parsed)
    except Exception:  # noqa: BLE001 - the header registry raises many kinds on bad input
        return Sender(None, "a From: field the parser cannot read")
    lenient = [address for _name, address in getaddresses([raw]) if address]
    found = {_canonical_or_none(a) or fold_text(a).lower() for a in (*strict, *lenient)}
    if len(strict) > 1:
        return Sender(None, f"a From: field with {len(strict)} addresses")
    if len(found) > 1:
        return Sender(None, "a From: field that parses two ways")
    address = _canonical_or_none(strict[0]) if strict else None
    if address is None:
        # No address, or one we cannot read (MAILER-DAEMON, an encoded word): nobody, so
        # never an agency or a manager; but not ambiguous either.
        return Sender(None)
    # Both readings give one and the same address (`a@x <a@x>` is read twice, harmlessly);
    # a guessed structure is only trusted when they agree.
    # The display name (decoded from any encoded word) and comments may not name anyone else.
    for text in (fold_text(decoded), fold_text(raw)):
        for found in _ADDRESS_LIKE.findall(text):
            try:
                other = canonical_address(found)
            except AddressError:
                return Sender(None, "a From: display name that contains an address")
            if other != address:
                return Sender(None, "a From: display name that contains another address")
    return Sender(address)
