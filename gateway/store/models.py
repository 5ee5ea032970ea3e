"""SQLAlchemy 2 models: the database is the source of truth for every message and clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.base import Base


class Message(Base):
    """One distinct inbound message (by content hash), its raw bytes and processing state."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    mailbox: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime]
    ingested_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    # The fencing token: raised by every claim, so a holder whose lease was taken over
    # finds its token stale at commit and writes nothing.
    lease_token: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None]
    kind: Mapped[str | None] = mapped_column(String(32))
    auto_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    quarantine_reason: Mapped[str | None] = mapped_column(String(200))
    quarantine_detail: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[list[str] | None] = mapped_column(JSON)
    header_message_id: Mapped[str | None] = mapped_column(String(998))
    # Retention deleted the raw bytes (the SHA-256 and size stay).
    purged_at: Mapped[datetime | None]
    # 1 when it looks urgent at ingest: processed before routine mail queued ahead of it.
    priority: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_messages_due", "state", "next_attempt_at"),
        Index("ix_messages_priority", "state", "priority"),
    )


class MessageSource(Base):
    """Where a message was seen: an IMAP (mailbox, folder, UIDVALIDITY, UID) or an SMTP session."""

    __tablename__ = "message_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    source_key: Mapped[str] = mapped_column(String(600), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    mailbox: Mapped[str | None] = mapped_column(String(128))
    folder: Mapped[str | None] = mapped_column(String(300))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    # "inbox": still in the watched folder; "moved": filed on the server; "stale": old
    # UIDVALIDITY; "none": nothing to do on a server (SMTP).
    server_state: Mapped[str] = mapped_column(String(16))
    seen_at: Mapped[datetime]

    __table_args__ = (Index("ix_sources_server", "mailbox", "server_state"),)


class MailboxState(Base):
    __tablename__ = "mailbox_state"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_poll: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None]
    alerted_at: Mapped[datetime | None]
    idle: Mapped[bool | None] = mapped_column(Boolean)


class OutboxRow(Base):
    """A fully built outbound message: sent only by the outbox sender."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    header_message_id: Mapped[str] = mapped_column(String(300), unique=True)
    envelope_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    purpose: Mapped[str] = mapped_column(String(64))
    # How to sign or encrypt it (kept so that held mail can be sealed once its key is fixed).
    sealing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)
    # pending -> sending (leased) -> sent | failed; bounced when a DSN comes back.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_token: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # 1 for urgent alerts: sent before routine mail queued ahead of them.
    priority: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)


class AuditEvent(Base):
    """Append-only, hash-chained record of every send and every state change that matters."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    recipient: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_action_at", "action", "at"),)


class LedgerHead(Base):
    """The newest audit row's id and hash: serialises appends and catches a cut-off tail."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class Contact(Base):
    """A contact record: one referral (or notification) about one or more children."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    received_at: Mapped[datetime]
    created_at: Mapped[datetime]
    channel: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="open")
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False)
    missing: Mapped[list[str]] = mapped_column(JSON)
    out_of_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    immediate_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    referral: Mapped[dict[str, Any]] = mapped_column(JSON)
    reply_address: Mapped[str | None] = mapped_column(String(320))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # When a reply is owed (an information request: 10 working days), else None.
    due_at: Mapped[datetime | None]
    # Listed for the next Daily MASH Meeting (a police notification that came out of hours).
    daily_meeting: Mapped[bool] = mapped_column(Boolean, default=False)
    # Earlier contacts about the same child(ren), and whether one was within 12 months.
    linked: Mapped[list[str]] = mapped_column(JSON, default=list)
    re_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    # After decision C or D, when the next decision or outcome is due; alerted once overdue.
    decision_due_at: Mapped[datetime | None] = mapped_column(index=True)
    decision_alerted_at: Mapped[datetime | None]
    # Consent to share (protocol 7): None means as the form says (read when shown); a
    # manager's record otherwise. The override is {by, at, reason}, reused by later shares.
    consent_status: Mapped[str | None] = mapped_column(String(16))
    consent_child: Mapped[str | None] = mapped_column(String(16))
    consent_override: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # When it closed (its outcome, or its forward), and when retention deleted its raw mail.
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    raw_purged_at: Mapped[datetime | None]
    # "forwarded" (an open case) or "routed-back" (closed within 3 months) by the front door;
    # kept when the status moves on, for the steering group's report.
    routed_at_door: Mapped[str | None] = mapped_column(String(16))
    # Who gets the letters: "public", "professional" or "family" (gateway/domain/referrer.py);
    # unsure: the evidence disagreed, so the safer (public) letters go until a manager says.
    referrer_kind: Mapped[str] = mapped_column(String(16), default="public")
    referrer_unsure: Mapped[bool] = mapped_column(Boolean, default=False)
    referrer_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    # An information request's answer went (its 10-working-day clock stopped).
    rfi_answered_at: Mapped[datetime | None]
    # The urgency screen found something in one of its messages (reasons: urgent_reasons).
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Forwarded to the case-holding unit: when, and by whom, the unit confirmed it has it.
    received_by_unit_at: Mapped[datetime | None]
    received_by_unit: Mapped[str | None] = mapped_column(String(320))

    __table_args__ = (
        Index("ix_contacts_status_received", "status", "received_at"),
        Index("ix_contacts_received", "received_at"),
        Index("ix_contacts_channel_due", "channel", "due_at"),
        Index("ix_contacts_incomplete", "incomplete", "status"),
    )


class ReferenceCounter(Base):
    """The last contact number issued each year: allocated inside the contact's transaction."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class OpenCase(Base):
    """A child known to children's social care, from the case-management system's export."""

    __tablename__ = "open_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nhs_number: Mapped[str | None] = mapped_column(String(10), index=True)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(400), index=True)
    date_of_birth: Mapped[str | None] = mapped_column(String(10))
    unit: Mapped[str] = mapped_column(String(200))
    unit_email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16))
    closed_on: Mapped[str | None] = mapped_column(String(10))
    imported_at: Mapped[datetime]


class ContactChild(Base):
    """One child of a contact, indexed for matching later contacts against the history."""

    __tablename__ = "contact_children"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    nhs_number: Mapped[str | None] = mapped_column(String(10), index=True)
    name_key: Mapped[str] = mapped_column(String(400))
    date_of_birth: Mapped[str | None] = mapped_column(String(10), index=True)


class DigestRun(Base):
    """A digest slot taken: the unique (kind, slot) row is what stops a second send."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    slot_at: Mapped[datetime]
    ran_at: Mapped[datetime]
    items: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("kind", "slot_at", name="uq_digest_runs_slot"),)


# The steering group's report: every column its aggregate over checks reads (0016).
CHECKS_REPORT = (
    "requested_at", "agency", "rag", "status", "answered_at", "late", "due_at", "chase_level",
    "out_of_office_at",
)  # fmt: skip


class Check(Base):
    """A MASH check: one agency asked, with a RAG rating, what it knows about a contact."""

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    reference: Mapped[str] = mapped_column(String(32), index=True)
    agency: Mapped[str] = mapped_column(String(64))
    rag: Mapped[str] = mapped_column(String(8))
    # Unguessable: carried in the request's Message-ID, subject tag and Reply-To plus-address.
    token: Mapped[str] = mapped_column(String(16), unique=True)
    context: Mapped[str] = mapped_column(Text)
    questions: Mapped[list[str]] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_at: Mapped[datetime]
    due_at: Mapped[datetime]
    # "pending", "held" (a reply waits for a manager), "answered", "undeliverable",
    # "withdrawn" (the contact's outcome came first)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    answered_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    out_of_office_at: Mapped[datetime | None]
    # The chasing ladder: the next rung (0-based) and when it is due; None when no more.
    chase_level: Mapped[int] = mapped_column(Integer, default=0)
    next_chase_at: Mapped[datetime | None] = mapped_column(index=True)
    request_message_id: Mapped[str | None] = mapped_column(String(998), index=True)

    __table_args__ = (
        Index("ix_checks_status_due", "status", "due_at"),
        Index("ix_checks_report", *CHECKS_REPORT),
    )


class CheckReply(Base):
    """A partner's answer to a check: the new text apart from the quoted history."""

    __tablename__ = "check_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    received_at: Mapped[datetime]
    sender: Mapped[str] = mapped_column(String(320))
    matched_by: Mapped[str] = mapped_column(String(32))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    increased_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)


class ReplyAttachment(Base):
    __tablename__ = "reply_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("check_replies.id"), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SeenSignature(Base):
    """Signed payloads already accepted: the same signed message sent again is a replay."""

    __tablename__ = "seen_signatures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payload_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    seen_at: Mapped[datetime]
    # What it was first bound to (a check, or a manager's command's contact): the same payload
    # bound anywhere else is a replay.
    check_id: Mapped[int | None] = mapped_column(Integer)
    subject_ref: Mapped[str | None] = mapped_column(String(32))


class Decision(Base):
    """A manager's screening decision (A-D) or outcome on a contact, with who and why."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(String(16))  # "decision" or "outcome"
    code: Mapped[str] = mapped_column(String(32))  # A-D, or an outcome's name
    section: Mapped[str | None] = mapped_column(String(4))  # "17" or "47"
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(320))
    decided_at: Mapped[datetime] = mapped_column()
    # After C or D: when the clock it started falls due (the report's timeliness figures).
    due_at: Mapped[datetime | None]
    # The outcome letter: "sent", "withheld" (with the reason) or None (no letter for it).
    letter: Mapped[str | None] = mapped_column(String(16))
    letter_withheld_reason: Mapped[str | None] = mapped_column(Text)
    # Why, as one of gateway.domain.decisions.WITHHELD (free text stays in the reason).
    letter_withheld_category: Mapped[str | None] = mapped_column(String(32))


# The indexes the steering group's report reads from (and that serve these foreign keys).
from gateway.store import report_indexes  # noqa: E402, F401
