"""Ingest: raw bytes, source key and hash committed in one transaction before any acknowledgement."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.db import Database
from gateway.models import Message, MessageSource


@dataclass(frozen=True)
class Source:
    channel: str
    mailbox: str
    folder: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    session_id: str | None = None

    @property
    def key(self) -> str:
        if self.channel == "imap":
            return f"imap:{self.mailbox}:{self.folder}:{self.uidvalidity}:{self.uid}"
        return f"{self.channel}:{self.mailbox}:{self.session_id}"


@dataclass(frozen=True)
class Ingested:
    message_id: int
    new_message: bool
    new_source: bool


def _header_message_id(raw: bytes) -> str | None:
    head = raw[:65536]
    for line in head.splitlines():
        if not line.strip():
            break
        if line[:11].lower() == b"message-id:":
            return line[11:].strip().decode("ascii", "replace")[:998] or None
    return None


def ingest(
    db: Database,
    raw: bytes,
    source: Source,
    *,
    received_at: datetime,
    now: datetime,
    role: str | None,
) -> Ingested:
    """Idempotent on the source key and on the content hash; safe under concurrent callers."""
    digest = hashlib.sha256(raw).hexdigest()
    for attempt in range(3):
        try:
            return _ingest_once(db, raw, digest, source, received_at, now, role)
        except IntegrityError:
            # Another instance committed the same key or hash between our read and write.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest_once(
    db: Database,
    raw: bytes,
    digest: str,
    source: Source,
    received_at: datetime,
    now: datetime,
    role: str | None,
) -> Ingested:
    with db.transaction() as session:
        existing_source = session.execute(
            select(MessageSource).where(MessageSource.source_key == source.key)
        ).scalar_one_or_none()
        if existing_source is not None:
            return Ingested(existing_source.message_id, new_message=False, new_source=False)
        message = session.execute(
            select(Message).where(Message.sha256 == digest)
        ).scalar_one_or_none()
        new_message = message is None
        if message is None:
            message = Message(
                sha256=digest,
                raw=raw,
                size=len(raw),
                channel=source.channel,
                mailbox=source.mailbox,
                role=role,
                received_at=received_at,
                ingested_at=now,
                state="pending",
                attempts=0,
                next_attempt_at=None,
                auto_reply=False,
                header_message_id=_header_message_id(raw),
            )
            session.add(message)
            session.flush()
        session.add(
            MessageSource(
                message_id=message.id,
                source_key=source.key,
                channel=source.channel,
                mailbox=source.mailbox,
                folder=source.folder,
                uidvalidity=source.uidvalidity,
                uid=source.uid,
                server_state="inbox" if source.channel == "imap" else "none",
                seen_at=now,
            )
        )
        session.flush()
        return Ingested(message.id, new_message=new_message, new_source=True)
