"""Per-row envelope senders, so that a bounce maps back to the outbox row it answers."""

from __future__ import annotations

import hashlib
import re

from gateway.mail.addresses import plus_address, plus_tag

_TAG = re.compile(r"^bounce-(\d+)-([0-9a-f]{10})$")


def _check(header_message_id: str) -> str:
    # The Message-ID is random and never shown to third parties before sending, so its hash
    # makes a VERP address unguessable: nobody can forge a bounce for a row they never saw.
    return hashlib.sha256(header_message_id.encode("utf-8")).hexdigest()[:10]


def verp_address(mash_address: str, row_id: int, header_message_id: str) -> str:
    return plus_address(mash_address, f"bounce-{row_id}-{_check(header_message_id)}")


def parse_verp(address: str, mash_address: str) -> tuple[int, str] | None:
    """(row id, check) from a VERP address of ours, or None."""
    tag = plus_tag(address, mash_address)
    if tag is None:
        return None
    match = _TAG.match(tag.lower())
    if not match:
        return None
    return int(match.group(1)), match.group(2)


def verp_matches(check: str, header_message_id: str) -> bool:
    return check == _check(header_message_id)
