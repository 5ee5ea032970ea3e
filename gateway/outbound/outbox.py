"""The durable outbox: rows written in the handler's transaction, claimed and sent later."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from gateway import ledger
from gateway.config import Config
from gateway.models import OutboxRow
from gateway.outbound.compose import Letters, OutgoingMail, build_mime, new_message_id
from gateway.outbound.verp import verp_address


def enqueue(
    session: Session,
    config: Config,
    letters: Letters,
    mail: OutgoingMail,
    now: datetime,
    *,
    source_message_id: int | None = None,
) -> OutboxRow:
    """Build the bytes now (fixed Message-ID) and queue them, with the ledger event."""
    message_id = new_message_id(config.gateway.mash_address, mail.message_id_tag)
    raw = build_mime(
        letters,
        mail,
        mash_address=config.gateway.mash_address,
        instance=config.gateway.instance,
        message_id=message_id,
        now=now,
    )
    row = OutboxRow(
        header_message_id=message_id,
        envelope_from="",
        recipients=[*mail.recipients, *mail.cc],
        raw=raw,
        purpose=mail.purpose,
        subject_ref=mail.subject_ref,
        automatic=mail.automatic,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        source_message_id=source_message_id,
    )
    session.add(row)
    session.flush()
    row.envelope_from = verp_address(config.gateway.mash_address, row.id, message_id)
    ledger.append(
        session,
        now,
        ledger.Event(
            action="mail-queued",
            subject_ref=mail.subject_ref,
            recipient=", ".join([*mail.recipients, *mail.cc]),
            purpose=mail.purpose,
            detail={"outbox_id": row.id, "message_id": message_id, "template": mail.template},
        ),
    )
    return row


def claim_due(
    session: Session, now: datetime, owner: str, lease: timedelta, limit: int, skip_locked: bool
) -> list[OutboxRow]:
    """Lease due rows to `owner`. Expired leases (a crashed sender) are claimable again."""
    query = (
        select(OutboxRow)
        .where(
            OutboxRow.state.in_(("pending", "sending")),
            OutboxRow.next_attempt_at <= now,
            or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now),
        )
        .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    rows = list(session.execute(query).scalars())
    for row in rows:
        row.state = "sending"
        row.lease_until = now + lease
        row.lease_owner = owner
    return rows


def release_own_leases(session: Session, owner: str) -> int:
    """At start-up an instance takes back what it held when it last stopped or crashed."""
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.state == "sending", OutboxRow.lease_owner == owner)
        .values(lease_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
