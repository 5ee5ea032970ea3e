"""Decode raw bytes into a parsed message, refusing anything over the configured caps first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from gateway.config import Limits

_BOUNDARY_PARAM = re.compile(rb"boundary\s*=", re.IGNORECASE)


@dataclass(frozen=True)
class Decoded:
    message: EmailMessage
    part_count: int
    depth: int
    defects: tuple[str, ...]


class TooLarge(Exception):
    """Raised with a quarantine reason when a cap is exceeded."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def header_block_size(raw: bytes) -> int:
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = raw.find(separator)
        if index != -1:
            return index
    return len(raw)


def check_raw_limits(raw: bytes, limits: Limits) -> None:
    """Cheap checks on bytes, before the parser can be made to work hard."""
    if len(raw) > limits.max_message_bytes:
        raise TooLarge(
            "too-large", f"{len(raw)} bytes, more than the {limits.max_message_bytes} allowed"
        )
    header = header_block_size(raw)
    if header > limits.max_header_bytes:
        raise TooLarge("header-too-large", f"{header} header bytes, over {limits.max_header_bytes}")
    boundaries = len(_BOUNDARY_PARAM.findall(raw))
    if boundaries > limits.max_mime_parts:
        raise TooLarge(
            "too-many-parts", f"{boundaries} multipart boundaries, over {limits.max_mime_parts}"
        )


def decode(raw: bytes, limits: Limits) -> Decoded:
    check_raw_limits(raw, limits)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    parts, depth = _measure(message, limits)
    defects = tuple(sorted({type(d).__name__ for d in _all_defects(message)}))
    return Decoded(message=message, part_count=parts, depth=depth, defects=defects)


def _measure(root: Message, limits: Limits) -> tuple[int, int]:
    # An explicit stack: a hostile message must not be able to exhaust Python's recursion.
    stack: list[tuple[Message, int]] = [(root, 1)]
    parts = 0
    deepest = 0
    while stack:
        part, depth = stack.pop()
        parts += 1
        deepest = max(deepest, depth)
        if depth > limits.max_mime_depth:
            raise TooLarge("too-deep", f"MIME nesting deeper than {limits.max_mime_depth}")
        if parts > limits.max_mime_parts:
            raise TooLarge("too-many-parts", f"more than {limits.max_mime_parts} MIME parts")
        if part.is_multipart():
            payload = part.get_payload()
            stack.extend((child, depth + 1) for child in payload if isinstance(child, Message))
    return parts, deepest


def _all_defects(root: Message) -> list[object]:
    found: list[object] = []
    stack = [root]
    while stack:
        part = stack.pop()
        found.extend(part.defects)
        if part.is_multipart():
            stack.extend(child for child in part.get_payload() if isinstance(child, Message))
    return found


def _raw_values(message: Message, name: str) -> list[str]:
    """Header values as written, with no parsing: the fallback for malformed headers."""
    wanted = name.lower()
    items = message.raw_items() if hasattr(message, "raw_items") else message.items()
    return [str(value) for key, value in items if key.lower() == wanted]


def headers(message: Message, name: str) -> list[str]:
    """Every value of a header as text; malformed headers never raise out of here."""
    try:
        return [str(value) for value in message.get_all(name, failobj=[])]
    except Exception:  # noqa: BLE001 - the header registry raises many kinds on bad input
        return _raw_values(message, name)


_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def referenced_ids(message: Message) -> list[str]:
    """The Message-IDs a message answers: In-Reply-To first, then References, each once."""
    found = [
        message_id
        for name in ("In-Reply-To", "References")
        for value in headers(message, name)
        for message_id in _MSGID.findall(value)
    ]
    return list(dict.fromkeys(found))


def header(message: Message, name: str) -> str | None:
    values = headers(message, name)
    return values[0] if values else None


def content_type(message: Message) -> str:
    try:
        return message.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"
