"""Ingest: raw bytes, source key and hash committed in one transaction, before any ack."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import Message, MessageSource


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
class Arrival:
    """One message as fetched, before it is committed.

    `server_size` is set for a message too large to fetch: `raw` is then its header alone and
    it is committed already quarantined as too-large (the whole message stays on the server,
    moved to the quarantine folder, for a person)."""

    raw: bytes
    source: Source
    received_at: datetime
    server_size: int | None = None
    # 1: it looks urgent (inbound.screening.priority_of), so it is processed first.
    priority: int = 0


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
    server_size: int | None = None,
    priority: int = 0,
) -> Ingested:
    """Idempotent on the source key and on the content hash; safe under concurrent callers."""
    digest = hashlib.sha256(raw).hexdigest()
    for attempt in range(3):
        try:
            return _ingest_once(
                db, raw, digest, source, received_at, now, role, server_size, priority
            )
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
    server_size: int | None = None,
    priority: int = 0,
) -> Ingested:
    with db.transaction(urgent=bool(priority)) as session:
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
                priority=priority,
            )
            if server_size is not None:
                _quarantine_too_large(message, server_size, now)
            session.add(message)
            session.flush()
            if server_size is not None:
                ledger.append(
                    session,
                    now,
                    ledger.Event(
                        action="message-quarantined",
                        detail={"message": message.id, "reason": message.quarantine_reason},
                    ),
                )
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


def ingest_batch(
    db: Database, arrivals: list[Arrival], *, now: datetime, role: str | None
) -> list[Ingested]:
    """Commit a whole FETCH batch in one transaction (one fsync), with the same guarantees.

    Nothing is acknowledged on the server until this returns. If another instance raced us
    to a key, the batch is rolled back and committed message by message instead.
    """
    try:
        return _ingest_batch_once(db, arrivals, now, role)
    except IntegrityError:
        return [
            ingest(
                db,
                a.raw,
                a.source,
                received_at=a.received_at,
                now=now,
                role=role,
                server_size=a.server_size,
                priority=a.priority,
            )
            for a in arrivals
        ]


def _ingest_batch_once(
    db: Database, arrivals: list[Arrival], now: datetime, role: str | None
) -> list[Ingested]:
    digests = [hashlib.sha256(a.raw).hexdigest() for a in arrivals]
    with db.transaction(urgent=any(a.priority for a in arrivals)) as session:
        keys = [a.source.key for a in arrivals]
        known_sources = dict(
            session.execute(
                select(MessageSource.source_key, MessageSource.message_id).where(
                    MessageSource.source_key.in_(keys)
                )
            ).all()
        )
        by_hash: dict[str, int] = dict(
            session.execute(
                select(Message.sha256, Message.id).where(Message.sha256.in_(set(digests)))
            ).all()
        )
        created: dict[str, Message] = {}
        for arrival, digest in zip(arrivals, digests, strict=True):
            if arrival.source.key in known_sources or digest in by_hash or digest in created:
                continue
            created[digest] = Message(
                sha256=digest,
                raw=arrival.raw,
                size=len(arrival.raw),
                channel=arrival.source.channel,
                mailbox=arrival.source.mailbox,
                role=role,
                received_at=arrival.received_at,
                ingested_at=now,
                state="pending",
                attempts=0,
                next_attempt_at=None,
                auto_reply=False,
                header_message_id=_header_message_id(arrival.raw),
                priority=arrival.priority,
            )
        for arrival, digest in zip(arrivals, digests, strict=True):
            if arrival.server_size is not None and digest in created:
                _quarantine_too_large(created[digest], arrival.server_size, now)
        session.add_all(created.values())
        session.flush()
        for message in created.values():
            if message.state == "quarantined":
                ledger.append(
                    session,
                    now,
                    ledger.Event(
                        action="message-quarantined",
                        detail={"message": message.id, "reason": message.quarantine_reason},
                    ),
                )
        by_hash.update({digest: message.id for digest, message in created.items()})
        results: list[Ingested] = []
        seen_keys: set[str] = set()
        for arrival, digest in zip(arrivals, digests, strict=True):
            key = arrival.source.key
            if key in known_sources or key in seen_keys:
                results.append(Ingested(known_sources.get(key, by_hash[digest]), False, False))
                continue
            seen_keys.add(key)
            session.add(
                MessageSource(
                    message_id=by_hash[digest],
                    source_key=key,
                    channel=arrival.source.channel,
                    mailbox=arrival.source.mailbox,
                    folder=arrival.source.folder,
                    uidvalidity=arrival.source.uidvalidity,
                    uid=arrival.source.uid,
                    server_state="inbox" if arrival.source.channel == "imap" else "none",
                    seen_at=now,
                )
            )
            results.append(Ingested(by_hash[digest], digest in created, True))
        session.flush()
        return results


def _quarantine_too_large(message: Message, size: int, now: datetime) -> None:
    """Held from its header alone: the size the server gave, never the body fetched."""
    message.state = "quarantined"
    message.quarantine_reason = "too-large"
    message.quarantine_detail = (
        f"{size} bytes on the server, over the cap: only its header was fetched"
    )
    message.size = size
    message.processed_at = now
