"""Read a bounce: which of our rows it answers, who could not be reached, and whether for good.

An RFC 3464 delivery-status part is read here, field by field. A bounce without one (Exim,
qmail, Postfix without DSN, Exchange, Domino, GroupWise, AOL, Yahoo, GMX, ...) is read by
Mailman's flufl.bounce, whose detectors know those shapes and say temporary or permanent.

Permanence is decided per recipient, never assumed: the DSN's Action ("failed" is final,
"delayed" is not), else its Status class (5 permanent, 4 temporary), else the detector's verdict.
A bounce that says neither is `permanent is None`: the managers are told, but no check is marked
undeliverable on a guess.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.message import Message

from flufl.bounce import all_failures

from gateway.mail.decode import content_type, headers, referenced_ids
from gateway.mail.verp import parse_verp

_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}@[A-Za-z0-9.-]{1,255}")
_FINAL_ACTIONS = {"failed"}
_RETURNED_PARTS = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
_NOT_FAILED_ACTIONS = {"delayed", "delivered", "relayed", "expanded"}
# flufl.bounce logs each detector it runs, and a detector's exception with its traceback: none
# of that belongs in the gateway's log, which never carries message text.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class RecipientStatus:
    recipient: str
    action: str
    status: str
    diagnostic: str
    # True for good, False still being tried, None if the report does not say.
    permanent: bool | None


@dataclass(frozen=True)
class Bounce:
    verp: tuple[int, str] | None
    original_message_ids: tuple[str, ...]
    recipients: tuple[RecipientStatus, ...]
    reader: str  # "dsn", "flufl.bounce" or "none"

    @property
    def permanent(self) -> bool | None:
        """True if any recipient failed for good, False if every one is only delayed, None if
        the report says neither."""
        verdicts = [r.permanent for r in self.recipients]
        if any(v is True for v in verdicts):
            return True
        if verdicts and all(v is False for v in verdicts):
            return False
        return None

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(r.recipient for r in self.recipients)


def normalise_address(value: str) -> str:
    """ "rfc822; <Bob@Example.ORG>" -> "bob@example.org"; "" if no address is there."""
    value = value.split(";", 1)[-1] if ";" in value else value
    match = _ADDRESS.search(value.replace("<", " ").replace(">", " "))
    return match.group(0).strip(".").lower() if match else ""


def _walk(message: Message) -> list[Message]:
    out: list[Message] = []
    stack = [message]
    while stack:
        part = stack.pop()
        out.append(part)
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(p for p in reversed(payload) if isinstance(p, Message))
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
    if isinstance(payload, str):
        text = payload
    else:
        raw = part.get_payload(decode=True)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text):
        fields: dict[str, str] = {}
        last = ""
        for line in chunk.splitlines():
            if line[:1] in (" ", "\t") and last:
                fields[last] += " " + line.strip()  # a folded Diagnostic-Code
                continue
            name, sep, value = line.partition(":")
            if sep:
                last = name.strip().lower()
                fields[last] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks


def _verdict(action: str, status: str) -> bool | None:
    if action in _FINAL_ACTIONS:
        return True
    if action in _NOT_FAILED_ACTIONS:
        return False
    code = status.strip()[:1]
    if code == "5":
        return True
    if code == "4":
        return False
    return None


def _dsn_recipients(message: Message) -> list[RecipientStatus]:
    found: dict[str, RecipientStatus] = {}
    for part in _walk(message):
        if content_type(part) not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        for block in _status_blocks(part):
            if "action" not in block and "final-recipient" not in block:
                continue
            final = normalise_address(block.get("final-recipient", ""))
            original = normalise_address(block.get("original-recipient", ""))
            # The address we sent to is the Original-Recipient; Final-Recipient may be where a
            # forward or an alias led, which matches none of our rows.
            recipient = original or final
            if not recipient:
                continue
            action = block.get("action", "").strip().lower()
            status = block.get("status", "").strip().split(" ")[0]
            entry = RecipientStatus(
                recipient=recipient,
                action=action,
                status=status,
                diagnostic=" ".join(block.get("diagnostic-code", "").split())[:300],
                permanent=_verdict(action, status),
            )
            previous = found.get(recipient)
            if previous is None or (entry.permanent and not previous.permanent):
                found[recipient] = entry
    return list(found.values())


def _detector_recipients(message: Message) -> list[RecipientStatus]:
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # noqa: BLE001 - a detector that trips on a damaged bounce finds nothing
        return []
    found: dict[str, RecipientStatus] = {}
    for raw, final in [(a, True) for a in permanent] + [(a, False) for a in temporary]:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        address = normalise_address(text)
        if address and address not in found:
            found[address] = RecipientStatus(
                recipient=address,
                action="failed" if final else "delayed",
                status="",
                diagnostic="",
                permanent=final,
            )
    return list(found.values())


def _failed_header_recipients(message: Message) -> list[RecipientStatus]:
    """Exim names the recipients it gave up on in X-Failed-Recipients (never on a delay)."""
    found: dict[str, RecipientStatus] = {}
    for value in headers(message, "X-Failed-Recipients"):
        for item in value.split(","):
            address = normalise_address(item)
            if address:
                found.setdefault(
                    address, RecipientStatus(address, "failed", "", "", permanent=True)
                )
    return list(found.values())


def parse_bounce(message: Message, mash_address: str) -> Bounce:
    verp = None
    for name in ("X-Original-To", "Delivered-To", "Envelope-To", "To"):
        for value in headers(message, name):
            for candidate in _ADDRESS.findall(value):
                verp = verp or parse_verp(candidate, mash_address)
    originals: list[str] = []
    for part in _walk(message):
        if content_type(part) in (
            "message/rfc822",
            "text/rfc822-headers",
            "message/rfc822-headers",
        ):
            match = _MESSAGE_ID.search(_part_text(part))
            if match:
                originals.append(match.group(1))
    recipients = _dsn_recipients(message)
    reader = "dsn" if recipients else "none"
    if not recipients:
        recipients = _detector_recipients(message)
        reader = "flufl.bounce" if recipients else "none"
    if not recipients:
        recipients = _failed_header_recipients(message)
        reader = "X-Failed-Recipients" if recipients else "none"
    if not originals:
        # Non-standard bounces quote the original in the body.
        match = _MESSAGE_ID.search(_part_text(message))
        if match:
            originals.append(match.group(1))
    originals.extend(referenced_ids(message))
    return Bounce(
        verp=verp,
        original_message_ids=tuple(dict.fromkeys(originals)),
        recipients=tuple(recipients),
        reader=reader,
    )


_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]{1,250}>)", re.IGNORECASE | re.MULTILINE)


def _part_text(part: Message) -> str:
    """Best-effort text of a part; damaged parts read as empty rather than raising."""
    try:
        if part.is_multipart():
            payload = part.get_payload()
            return "\n".join(
                "\n".join(f"{k}: {v}" for k, v in p.items()) if isinstance(p, Message) else ""
                for p in (payload if isinstance(payload, list) else [])
            )
        raw = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        return ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
