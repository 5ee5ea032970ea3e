"""The audit ledger: append-only, each row carrying the hash of the one before it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gateway.store.models import AuditEvent, LedgerHead
from gateway.store.operations import LedgerCheckpoint
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


def chain_hash(row_id: int, at: datetime, event: Event, detail_json: str, prev_hash: str) -> str:
    """A row's hash, as `append` computes it (for bulk builders such as bench/scale.py)."""
    return _digest(row_id, at, event, detail_json, prev_hash)


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


def lock(session: Session) -> None:
    """Take the ledger's head lock now, ahead of any other lock the transaction will take:
    writers that also lock another row (a reference counter) must all take the two in one
    order, or two of them (one processing a batch whose first message appends to the ledger,
    one whose first message makes a contact) wait for each other until one is killed."""
    _locked_head(session)


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


@dataclass(frozen=True)
class Verified:
    problems: list[Problem]
    rows: int  # rows walked in this run
    last_id: int
    last_hash: str
    from_id: int  # the run started after this row (0: from the beginning)


def _row_problems(row: AuditEvent, expected_id: int, expected_prev: str) -> list[Problem]:
    problems = []
    if row.id != expected_id:
        problems.append(Problem(row.id, f"expected row {expected_id}: rows missing or added"))
    if row.prev_hash != expected_prev:
        problems.append(Problem(row.id, "previous-hash link broken: a row before it changed"))
    if not _matches(row):
        problems.append(Problem(row.id, "contents do not match the row's hash: row edited"))
    return problems


def _matches(row: AuditEvent) -> bool:
    event = Event(
        action=row.action,
        actor=row.actor,
        subject_ref=row.subject_ref,
        recipient=row.recipient,
        purpose=row.purpose,
    )
    return _digest(row.id, row.at, event, row.detail, row.prev_hash) == row.hash


def verify(session: Session) -> list[Problem]:
    """Walk the whole chain; any edited, inserted, deleted or cut-off row shows as a problem."""
    return verify_from(session, None).problems


def verify_from(
    session: Session,
    checkpoint: LedgerCheckpoint | None,
    progress: Callable[[int], None] | None = None,
) -> Verified:
    """Walk the chain from a checkpoint (None: from the first row), and check the head.

    Starting from a checkpoint costs what was appended since; the checkpoint's own row must
    still carry the hash recorded then, so an edit before it that rewrote the chain up to the
    checkpoint is still caught, and `--full` walks everything."""
    problems: list[Problem] = []
    expected_prev, after = GENESIS, 0
    if checkpoint is not None:
        expected_prev, after = checkpoint.hash, checkpoint.last_id
        row = session.get(AuditEvent, after)
        if row is None or row.hash != checkpoint.hash or not _matches(row):
            problems.append(Problem(after, "the row at the last checkpoint changed since"))
    expected_id = after + 1
    walked = 0
    for row in _rows(session, after):
        problems.extend(_row_problems(row, expected_id, expected_prev))
        expected_prev = row.hash
        expected_id = row.id + 1
        walked += 1
        if progress is not None and walked % 1000 == 0:
            progress(1000)
    if progress is not None:
        progress(walked % 1000)
    head = session.get(LedgerHead, 1)
    last_id = expected_id - 1
    if head is not None and (head.last_id != last_id or head.hash != expected_prev):
        problems.append(Problem(head.last_id, "ledger head does not match the last row: tail cut"))
    if head is None and last_id:
        problems.append(Problem(0, "ledger head missing"))
    return Verified(problems, walked, last_id, expected_prev, after)


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    return session.execute(
        select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(1)
    ).scalar_one_or_none()


def verify_rows(session: Session, rows: list[AuditEvent]) -> list[Problem]:
    """Check just these rows (one contact's): each matches its own hash and links to the row
    before it. Costs the rows shown, not the whole chain."""
    before = {r.id - 1 for r in rows if r.id > 1}
    # Plain rows, not .tuples(): deprecated in SQLAlchemy 2.1, an error under the tests.
    query = select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(before))
    hashes: dict[int, str] = {row_id: value for row_id, value in session.execute(query).all()}
    problems = []
    for row in rows:
        expected_prev = GENESIS if row.id == 1 else hashes.get(row.id - 1)
        if expected_prev is None:
            problems.append(Problem(row.id, "the row before it is missing"))
        elif row.prev_hash != expected_prev:
            problems.append(Problem(row.id, "previous-hash link broken: a row before it changed"))
        if not _matches(row):
            problems.append(Problem(row.id, "contents do not match the row's hash: row edited"))
    return problems


def _rows(session: Session, after: int = 0) -> Iterator[AuditEvent]:
    """Plain rows (attribute access like an AuditEvent), 5,000 at a time: no ORM identity map
    to fill and empty, so a full walk costs the hashing rather than object bookkeeping."""
    table = AuditEvent.__table__
    last = after
    while True:
        batch = session.execute(
            select(*table.columns).where(table.c.id > last).order_by(table.c.id).limit(5000)
        ).all()
        if not batch:
            return
        yield from batch  # type: ignore[misc]
        last = batch[-1].id


def count_query() -> Select[int]:
    return select(func.count()).select_from(AuditEvent)
