"""The audit ledger: append-only, each row carrying the hash of the one before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gateway.store.models import AuditEvent, LedgerHead
from gateway.store.storable import clean

GENESIS = "0" * 64


@dataclass(frozen=True)
class Event:
    """What a handler wants recorded: who did what, to which contact, for whom, and why."""

    action: str
    actor: str = "gateway"
    subject_ref: str | None = None
    recipient: str | None = None
    purpose: str | None = None
    detail: dict[str, Any] | None = None


def _digest(row_id: int, at: datetime, event: Event, detail_json: str, prev_hash: str) -> str:
    payload = json.dumps(
        [
            row_id,
            at.isoformat(timespec="microseconds"),
            event.actor,
            event.action,
            event.subject_ref,
            event.recipient,
            event.purpose,
            detail_json,
            prev_hash,
        ],
        ensure_ascii=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def _locked_head(session: Session) -> LedgerHead:
    """The head row, locked once per transaction and then reused from the session."""
    head = session.info.get("ledger_head")
    if isinstance(head, LedgerHead) and head in session:
        return head
    head = session.execute(
        select(LedgerHead).where(LedgerHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = LedgerHead(id=1, last_id=0, hash=GENESIS)
        session.add(head)
    session.info["ledger_head"] = head
    return head


def append(session: Session, at: datetime, event: Event) -> AuditEvent:
    """Append inside the caller's transaction; the head row lock serialises writers."""
    head = _locked_head(session)
    row_id = head.last_id + 1
    # Hash what will be stored: the database would otherwise store a cleaned text that no
    # longer matches its hash (a recipient or purpose can carry a NUL from a message).
    event = replace(
        event,
        action=clean(event.action),
        actor=clean(event.actor),
        subject_ref=clean(event.subject_ref),
        recipient=clean(event.recipient),
        purpose=clean(event.purpose),
    )
    detail_json = json.dumps(event.detail or {}, sort_keys=True, default=str)
    digest = _digest(row_id, at, event, detail_json, head.hash)
    row = AuditEvent(
        id=row_id,
        at=at,
        actor=event.actor,
        action=event.action,
        subject_ref=event.subject_ref,
        recipient=event.recipient,
        purpose=event.purpose,
        detail=detail_json,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(row)
    head.last_id = row_id
    head.hash = digest
    return row


@dataclass(frozen=True)
class Problem:
    row_id: int
    problem: str


def verify(session: Session) -> list[Problem]:
    """Walk the chain; any edited, inserted, deleted or cut-off row shows as a problem."""
    problems: list[Problem] = []
    expected_prev = GENESIS
    expected_id = 1
    for row in _rows(session):
        if row.id != expected_id:
            problems.append(Problem(row.id, f"expected row {expected_id}: rows missing or added"))
        if row.prev_hash != expected_prev:
            problems.append(Problem(row.id, "previous-hash link broken: a row before it changed"))
        event = Event(
            action=row.action,
            actor=row.actor,
            subject_ref=row.subject_ref,
            recipient=row.recipient,
            purpose=row.purpose,
        )
        if _digest(row.id, row.at, event, row.detail, row.prev_hash) != row.hash:
            problems.append(Problem(row.id, "contents do not match the row's hash: row edited"))
        expected_prev = row.hash
        expected_id = row.id + 1
    head = session.get(LedgerHead, 1)
    last_id = expected_id - 1
    if head is not None and (head.last_id != last_id or head.hash != expected_prev):
        problems.append(Problem(head.last_id, "ledger head does not match the last row: tail cut"))
    if head is None and last_id:
        problems.append(Problem(0, "ledger head missing"))
    return problems


def _rows(session: Session) -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = (
            session.execute(
                select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(1000)
            )
            .scalars()
            .all()
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].id
        session.expunge_all()


def count_query() -> Select[int]:
    return select(func.count()).select_from(AuditEvent)
