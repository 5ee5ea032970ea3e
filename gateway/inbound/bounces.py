"""Read a delivery status notification: which of our rows it answers and what happened."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from gateway.mail.decode import content_type, headers, referenced_ids
from gateway.mail.verp import parse_verp

_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


@dataclass(frozen=True)
class RecipientStatus:
    recipient: str
    action: str
    status: str
    diagnostic: str


@dataclass(frozen=True)
class Bounce:
    verp: tuple[int, str] | None
    original_message_ids: tuple[str, ...]
    recipients: tuple[RecipientStatus, ...]

    @property
    def permanent(self) -> bool:
        """A failure unless every recipient line says delayed/relayed/delivered."""
        if not self.recipients:
            return True
        return any(r.action == "failed" or r.status.startswith("5") for r in self.recipients)


def _walk(message: Message) -> list[Message]:
    out: list[Message] = []
    stack = [message]
    while stack:
        part = stack.pop()
        out.append(part)
        if part.is_multipart():
            stack.extend(p for p in part.get_payload() if isinstance(p, Message))
    return out


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """message/delivery-status: a per-message block then one block per recipient."""
    try:
        payload = part.get_payload()
    except Exception:  # noqa: BLE001 - a damaged report part is read as empty
        return []
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                blocks.append({k.lower(): str(v) for k, v in block.items()})
        return blocks
    text = payload if isinstance(payload, str) else ""
    for chunk in re.split(r"\r?\n\r?\n", text):
        fields: dict[str, str] = {}
        for line in chunk.splitlines():
            name, sep, value = line.partition(":")
            if sep and not line.startswith((" ", "\t")):
                fields[name.strip().lower()] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks


def parse_bounce(message: Message, mash_address: str) -> Bounce:
    verp = None
    for name in ("X-Original-To", "Delivered-To", "Envelope-To", "To"):
        for value in headers(message, name):
            for candidate in _ADDRESS.findall(value):
                verp = verp or parse_verp(candidate, mash_address)
    recipients: list[RecipientStatus] = []
    originals: list[str] = []
    for part in _walk(message):
        ctype = content_type(part)
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            for block in _status_blocks(part):
                if "action" in block or "final-recipient" in block:
                    rcpt = block.get("final-recipient") or block.get("original-recipient") or ""
                    recipients.append(
                        RecipientStatus(
                            recipient=rcpt.split(";")[-1].strip(),
                            action=block.get("action", "").strip().lower(),
                            status=block.get("status", "").strip(),
                            diagnostic=block.get("diagnostic-code", "")[:300],
                        )
                    )
        elif ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            text = _part_text(part)
            match = re.search(r"^Message-ID:\s*(<[^>]+>)", text, re.IGNORECASE | re.MULTILINE)
            if match:
                originals.append(match.group(1))
    if not originals and not recipients:
        # Non-standard bounces quote the original in the body.
        body = _part_text(message)
        match = re.search(r"^Message-ID:\s*(<[^>]+>)", body, re.IGNORECASE | re.MULTILINE)
        if match:
            originals.append(match.group(1))
    originals.extend(referenced_ids(message))
    return Bounce(
        verp=verp,
        original_message_ids=tuple(dict.fromkeys(originals)),
        recipients=tuple(recipients),
    )


def _part_text(part: Message) -> str:
    """Best-effort text of a part; damaged parts read as empty rather than raising."""
    try:
        if part.is_multipart():
            return "\n".join(
                "\n".join(f"{k}: {v}" for k, v in p.items()) if isinstance(p, Message) else ""
                for p in part.get_payload()
            )
        raw = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        return ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
