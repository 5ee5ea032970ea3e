"""Partner replies to MASH checks: which check, from whom, what is new, is the risk up.

Matching order (first that finds a check wins): In-Reply-To/References against our request's
Message-ID, the subject tag, the Reply-To plus-address it was sent to, the tag in the body.
Two different checks at the same step is ambiguous and goes to a manager, as does any reply
that is not from one of the agency's `reply_from` addresses.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import Message

from gateway.config import AgencySection
from gateway.domain.checks.request import TOKEN
from gateway.mail.addresses import plus_tag, single_address
from gateway.mail.decode import header, headers, referenced_ids

REQUEST_ID = re.compile(r"<check\.([0-9A-Z]{8})\.[0-9a-f]+@[^<>\s]+>", re.I)
MAX_REPLY_TEXT = 200_000


@dataclass(frozen=True)
class CheckInfo:
    id: int
    reference: str
    agency: str
    rag: str
    status: str
    token: str
    requested_at: datetime
    due_at: datetime
    request_message_id: str | None


@dataclass(frozen=True)
class Match:
    tokens: tuple[str, ...]
    matched_by: str


def find_tokens(message: Message, mash_address: str, body: str) -> Match | None:
    """The check tokens a message names, by the first method that finds any."""
    ids = " ".join(referenced_ids(message))
    steps: list[tuple[str, list[str]]] = [
        ("message-id", REQUEST_ID.findall(ids)),
        ("subject tag", TOKEN.findall(header(message, "Subject") or "")),
        (
            "plus-address",
            [
                tag
                for name in ("To", "Cc", "Delivered-To", "X-Original-To")
                for value in headers(message, name)
                for part in value.split(",")
                if (address := single_address(part)) and (tag := plus_tag(address, mash_address))
            ],
        ),
        ("body tag", TOKEN.findall(body[:MAX_REPLY_TEXT])),
    ]
    for matched_by, found in steps:
        tokens = tuple(dict.fromkeys(t.upper() for t in found if t))
        if tokens:
            return Match(tokens, matched_by)
    return None


def sender_allowed(agency: AgencySection, sender: str | None) -> bool:
    """The exact address, or any address at a `*@domain` entry; never the display name."""
    if sender is None:
        return False
    sender = sender.lower()
    domain = sender.rpartition("@")[2]
    for allowed in agency.reply_from:
        allowed = allowed.lower()
        if allowed.startswith("*@"):
            if domain == allowed[2:]:
                return True
        elif sender == allowed:
            return True
    return False


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def attachments(message: Message) -> list[Attachment]:
    out = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() != "attachment":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            name = part.get_filename() or "attachment"
            out.append(Attachment(name[:500], part.get_content_type(), payload))
    return out
