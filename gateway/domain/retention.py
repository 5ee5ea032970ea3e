"""Retention: the raw mail of a closed contact is kept for `[retention] raw_messages_after`,
then deleted; the structured record and the ledger stay.

What goes: the raw bytes of the messages filed on the contact (the referral, correspondence,
the partners' replies, commands about it), the attachments of those replies, and the bytes
of the mail the gateway sent about it (a forward carries the whole referral). What stays:
the contact, its checks, replies' text, decisions, every outbox row's headers and every
ledger row. The ledger's hash chain never covered raw bytes (only their SHA-256, which stays
on each message and is listed in the purge's own ledger event), so `audit verify` still
passes after a purge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.clock import Clock
from gateway.config import Config
from gateway.domain.contacts import CLOSED
from gateway.durations import format_duration
from gateway.store import ledger
from gateway.store.db import Database
from gateway.store.models import (
    AuditEvent,
    Check,
    CheckReply,
    Contact,
    DigestRun,
    Message,
    OutboxRow,
    ReplyAttachment,
)
from gateway.timescales import BusinessCalendar

# Outbox rows that will never be sent again; pending or held mail keeps its bytes.
FINISHED_MAIL = ("sent", "failed", "bounced", "cancelled")
# A message still waiting for a person (quarantined) or for processing keeps its bytes.
FINISHED_MESSAGES = ("processed",)
BATCH = 200


@dataclass
class Purge:
    reference: str
    closed_at: datetime
    messages: list[dict[str, Any]] = field(default_factory=list)
    attachments: int = 0
    sent_mail: int = 0
    bytes: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "closed_at": self.closed_at.isoformat(),
            "messages": len(self.messages),
            "attachments": self.attachments,
            "sent_mail": self.sent_mail,
            "bytes": self.bytes,
        }


def due(session: Session, config: Config, now: datetime, limit: int = BATCH) -> list[Contact]:
    """Closed contacts past the retention period whose raw mail is still held."""
    after = config.retention.raw_messages_after
    if after is None:
        return []
    query = (
        select(Contact)
        .where(
            Contact.status.in_(CLOSED),
            Contact.closed_at.is_not(None),
            Contact.closed_at <= now - after,
            Contact.raw_purged_at.is_(None),
        )
        .order_by(Contact.closed_at, Contact.id)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def _message_ids(session: Session, contact: Contact) -> set[int]:
    """Every inbound message filed on the contact: its own, its checks' replies, and those
    its ledger rows name (correspondence, commands)."""
    ids = {contact.message_id} if contact.message_id is not None else set()
    ids |= set(
        session.execute(
            select(CheckReply.message_id)
            .join(Check, Check.id == CheckReply.check_id)
            .where(Check.contact_id == contact.id)
        ).scalars()
    )
    for detail in session.execute(
        select(AuditEvent.detail).where(AuditEvent.subject_ref == contact.reference)
    ).scalars():
        named = json.loads(detail or "{}").get("message")
        if isinstance(named, int):
            ids.add(named)
    return ids


def purge_contact(session: Session, contact: Contact, now: datetime, *, apply: bool) -> Purge:
    """Delete (or, without apply, count) the contact's raw mail; its ledger event."""
    assert contact.closed_at is not None
    report = Purge(contact.reference, contact.closed_at)
    ids = _message_ids(session, contact)
    messages = session.execute(
        select(Message).where(
            Message.id.in_(ids),
            Message.purged_at.is_(None),
            Message.state.in_(FINISHED_MESSAGES),
        )
    ).scalars()
    for message in messages:
        report.messages.append({"id": message.id, "sha256": message.sha256, "size": message.size})
        report.bytes += len(message.raw)
        if apply:
            message.raw = b""
            message.purged_at = now
    attachments = session.execute(
        select(ReplyAttachment)
        .join(CheckReply, CheckReply.id == ReplyAttachment.reply_id)
        .join(Check, Check.id == CheckReply.check_id)
        .where(Check.contact_id == contact.id)
    ).scalars()
    for item in attachments:
        if not item.data:
            continue
        report.attachments += 1
        report.bytes += len(item.data)
        if apply:
            item.data = b""  # filename, size and SHA-256 stay
    sent = session.execute(
        select(OutboxRow).where(
            OutboxRow.subject_ref == contact.reference, OutboxRow.state.in_(FINISHED_MAIL)
        )
    ).scalars()
    for row in sent:
        if not row.raw:
            continue
        report.sent_mail += 1
        report.bytes += len(row.raw)
        if apply:
            row.raw = b""
    if apply:
        contact.raw_purged_at = now
        ledger.append(
            session,
            now,
            ledger.Event(
                action="raw-purged",
                subject_ref=contact.reference,
                purpose="retention: raw mail deleted after [retention] raw_messages_after; the "
                "structured record and the ledger stay",
                detail={
                    "closed_at": contact.closed_at.isoformat(),
                    "messages": report.messages,
                    "attachments": report.attachments,
                    "sent_mail": report.sent_mail,
                    "bytes": report.bytes,
                },
            ),
        )
    return report


def run(session: Session, config: Config, now: datetime, *, dry_run: bool) -> list[Purge]:
    """Every contact due now, inside the caller's transaction (a dry run changes nothing)."""
    return [purge_contact(session, c, now, apply=not dry_run) for c in due(session, config, now)]


def daily_sweep(db: Database, config: Config, clock: Clock) -> int | None:
    """Once a day across instances (a `digest_runs` row per day), purge what is due.
    None when today's sweep already ran or retention is off."""
    if config.retention.raw_messages_after is None:
        return None
    now = clock.now()
    calendar = BusinessCalendar.from_config(config)
    day = now.astimezone(calendar.zone).date()
    slot = datetime.combine(day, time(0, 0), tzinfo=calendar.zone)
    try:
        with db.transaction() as session:
            session.add(
                DigestRun(
                    kind="retention",
                    slot_at=slot,
                    ran_at=now,
                    items=0,
                    owner=config.gateway.instance,
                )
            )
    except IntegrityError:
        return None
    total = 0
    while True:
        with db.transaction() as session:
            contacts = due(session, config, now)
            for contact in contacts:
                purge_contact(session, contact, now, apply=True)
            total += len(contacts)
        if len(contacts) < BATCH:
            return total


def describe(config: Config) -> str:
    after = config.retention.raw_messages_after
    return "kept" if after is None else f"deleted {format_duration(after)} after closing"
