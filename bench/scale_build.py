"""A synthetic history in the gateway's own schema, by bulk inserts that match it exactly.

SCALE borough-years of history end the day before NOW: per borough-year 15,000 contacts (about
18,000 children), 75,000 checks (five a contact) with their replies and chases, outcome letters,
about 88,000 inbound messages (small raw bodies) and 440,000 ledger events, hash-chained with
the gateway's own digest (gateway.store.ledger.chain_hash), so `audit verify` finds it intact.
Today's live work is one borough's, whatever the scale: a few dozen open contacts, a few
pending checks (three of them due a chase), three overdue decision clocks. So the
measurements show what history costs, not what a busier day costs.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, text

from gateway.domain.formats import name_key
from gateway.store import counts, ledger
from gateway.store.base import UTCDateTime
from gateway.store.db import Database
from gateway.store.models import (
    AuditEvent,
    Check,
    CheckReply,
    Contact,
    ContactChild,
    Decision,
    LedgerHead,
    Message,
    MessageSource,
    OutboxRow,
    ReferenceCounter,
)
from gateway.store.operations import LedgerCheckpoint

CONTACTS_PER_YEAR = 15_000
CHECKS_PER_CONTACT = 5
AGENCIES = ("police", "health", "education", "probation", "housing")
GIVEN = ["Amira", "Kofi", "Tomasz", "Leila", "Ravi", "Chloe", "Musa", "Ines", "Oskar", "Zoe"]
FAMILY = ["Okafor", "Mensah", "Nowak", "Haddad", "Patel", "Brown", "Diallo", "Silva", "Khan"]
CHUNK = 500  # contacts per insert batch: bounded memory at any scale
LIVE_OPEN = 40
BUILD_CACHE_KB = 2_000_000  # SQLite's page cache while building: index upkeep stays in memory
# What the history's maker hands back to finish().
STATE = ("ids", "ledger_id", "ledger_hash", "counters", "contact_id", "last_day_events")
# A ledger event before it is chained: (at, action, recipient, purpose, detail).
Ev = tuple[datetime, str, str | None, str | None, dict[str, Any]]
# Driver statements with their rows' values, one a table.
Batch = list[tuple[str, list[tuple[Any, ...]]]]


def nhs_number(n: int) -> str:
    """A valid (mod 11) NHS number from N."""
    while True:
        digits = [int(d) for d in f"{(n * 7919 + 400_000_000) % 1_000_000_000:09d}"]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)
        n += 1_000_003


def raw_mail(subject: str, sender: str, body: str, n: int) -> bytes:
    return (
        f"From: {sender}\r\nTo: mash@hackney.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <synthetic-{n}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"\r\n{body}\r\n"
    ).encode()


FILLER = "The family is known to the school; attendance is 81% this term. " * 12


class Builder:
    def __init__(
        self, db: Database, scale: int, now: datetime, per_year: int = CONTACTS_PER_YEAR
    ) -> None:
        self.db, self.scale, self.now = db, scale, now
        self.rng = random.Random(18)
        self.ids = {"message": 0, "source": 0, "check": 0, "reply": 0, "outbox": 0, "decision": 0}
        self.ledger_id, self.ledger_hash = 0, ledger.GENESIS
        self.counters: dict[int, int] = {}
        self.contact_id = 0
        self.total = per_year * scale
        self.last_day_events = 0
        self.sample_reference = ""

    def _next(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    # --- one contact's whole life ---------------------------------------------------------
    def _contact(self, rows: dict[str, list[dict[str, Any]]], received: datetime) -> None:
        self.contact_id += 1
        cid = self.contact_id
        year = received.year
        self.counters[year] = self.counters.get(year, 0) + 1
        reference = f"MASH-{year}-{self.counters[year]:06d}"
        children = []
        for k in range(2 if cid % 5 == 0 else 1):
            given = GIVEN[(cid + k) % len(GIVEN)]
            family = f"{FAMILY[(cid * 3 + k) % len(FAMILY)]}{(cid + k) % 997}"
            dob = (received - timedelta(days=200 + (cid * 37 + k) % 6000)).date().isoformat()
            child = {"given_name": given, "family_name": family, "date_of_birth": dob,
                     "nhs_number": nhs_number(cid * 2 + k), "nhs_number_valid": True}
            children.append(child)
            rows["children"].append({"contact_id": cid, "nhs_number": child["nhs_number"],
                                     "name_key": name_key(given, family), "date_of_birth": dob})
        referrer = f"referrer{cid % 4000}@school{cid % 90}.example"
        mid = self._message(rows, received, "front-door", "processed", "referral", referrer,
                            f"MASH referral - {children[0]['given_name']}")
        decided = received + timedelta(hours=3)
        rows["contacts"].append({
            "id": cid, "reference": reference, "received_at": received, "created_at": received,
            "channel": "email", "source": "professional", "status": "closed",
            "incomplete": cid % 9 == 0, "missing": ["consent"] if cid % 9 == 0 else [],
            "out_of_hours": cid % 4 == 0, "immediate_risk": cid % 25 == 0,
            "referral": {"children": children, "concern": "Hungry at school most days.",
                         "referrer": {"email": referrer}},
            "reply_address": referrer, "message_id": mid, "due_at": None,
            "daily_meeting": False, "linked": [], "re_referral": False,
            "decision_due_at": None, "decision_alerted_at": None,
        })
        events: list[Ev] = [
            (received, "message-received", None, None, {"message": mid}),
            (received, "contact-created", None, None, {"message": mid}),
        ]
        events += self._sent(rows, received, reference, referrer, "referral acknowledgement", mid)
        for code, at in (("B", decided), ("closed-nfa", decided + timedelta(days=6))):
            did = self._next("decision")
            kind = "decision" if code == "B" else "outcome"
            rows["decisions"].append({
                "id": did, "contact_id": cid, "kind": kind, "code": code, "section": None,
                "reason": "Threshold not met; universal services.", "decided_by":
                "duty.manager@hackney.example", "decided_at": at,
                "letter": "sent" if kind == "outcome" else None, "letter_withheld_reason": None,
            })
            events.append((at, f"{kind}-recorded", None, None, {"code": code}))
        events += self._sent(rows, decided + timedelta(days=6), reference, referrer,
                             "outcome letter", mid)
        for k, agency in enumerate(AGENCIES[:CHECKS_PER_CONTACT]):
            events += self._check(rows, cid, reference, agency, decided + timedelta(minutes=k))
        for at, action, recipient, purpose, detail in sorted(events, key=lambda e: e[0]):
            self._event(rows, at, action, reference, recipient, purpose, detail)

    def _check(self, rows: dict[str, list[dict[str, Any]]], cid: int, reference: str,
               agency: str, at: datetime) -> list[Ev]:
        chk = self._next("check")
        address = f"mash-checks@{agency}.example"
        answered = chk % 10 != 0
        due = at + timedelta(hours=24)
        replied = due - timedelta(hours=2) if chk % 4 else due + timedelta(hours=20)
        rows["checks"].append({
            "id": chk, "contact_id": cid, "reference": reference, "agency": agency,
            "rag": "amber", "token": f"{chk:016x}", "context": "Screening a referral.",
            "questions": ["What do you know of the family?"], "requested_by": "screener",
            "requested_at": at, "due_at": due,
            "status": "answered" if answered else "withdrawn",
            "answered_at": replied if answered else None, "late": answered and chk % 4 == 0,
            "replies": 1 if answered else 0, "out_of_office_at": None,
            "chase_level": 1 if chk % 4 == 0 else 0, "next_chase_at": None,
            "request_message_id": f"<check-{chk:016x}@hackney.example>",
        })
        events: list[Ev] = [
            (at, "check-requested", address, None, {"check": chk, "agency": agency})
        ]
        events += self._sent(rows, at, reference, address, "check request", None)
        if chk % 4 == 0:
            events += self._sent(rows, due, reference, address, "check reminder", None)
        if answered:
            mid = self._message(rows, replied, f"{agency}-checks", "processed", "check_reply",
                                address, f"Re: [MASH check {chk:016x}]")
            rid = self._next("reply")
            rows["replies"].append({
                "id": rid, "check_id": chk, "message_id": mid, "received_at": replied,
                "sender": address, "matched_by": "token", "late": chk % 4 == 0,
                "verified": False, "increased_risk": False,
                "text": "Known to us: one contact in 2024, no concerns since.",
            })
            events.append((replied, "check-reply", address, None, {"check": chk, "reply": rid}))
        return events

    def _message(self, rows: dict[str, list[dict[str, Any]]], at: datetime, mailbox: str,
                 state: str, kind: str, sender: str, subject: str) -> int:
        mid = self._next("message")
        raw = raw_mail(subject, sender, FILLER[: 300 + mid % 500], mid)
        rows["messages"].append({
            "id": mid, "sha256": hashlib.sha256(raw).hexdigest(), "raw": raw, "size": len(raw),
            "channel": "imap", "mailbox": mailbox, "role": "front-door", "received_at": at,
            "ingested_at": at, "state": state, "attempts": 1, "next_attempt_at": None,
            "lease_until": None, "lease_owner": None, "lease_token": 1, "processed_at": at,
            "kind": kind, "auto_reply": kind == "auto_reply",
            "quarantine_reason": "unrecognised sender" if state == "quarantined" else None,
            "quarantine_detail": None, "last_error": None, "steps": ["classified", "handled"],
            "header_message_id": f"<synthetic-{mid}@example.org>",
        })
        sid = self._next("source")
        rows["sources"].append({
            "id": sid, "message_id": mid, "source_key": f"imap:{mailbox}:INBOX:1:{sid}",
            "channel": "imap", "mailbox": mailbox, "folder": "INBOX", "uidvalidity": 1,
            "uid": sid, "server_state": "moved", "seen_at": at,
        })
        return mid

    def _sent(self, rows: dict[str, list[dict[str, Any]]], at: datetime, reference: str,
              recipient: str, purpose: str, source: int | None
              ) -> list[Ev]:
        oid = self._next("outbox")
        header = f"<out-{oid}@hackney.example>"
        rows["outbox"].append({
            "id": oid, "header_message_id": header,
            "envelope_from": f"mash+bounce-{oid}@hackney.example", "recipients": [recipient],
            "raw": raw_mail(f"[{reference}] {purpose}", "mash@hackney.example",
                            FILLER[:400], 10**9 + oid),
            "purpose": purpose, "sealing": None, "subject_ref": reference, "automatic": True,
            "state": "sent", "attempts": 1, "next_attempt_at": at, "lease_until": None,
            "lease_owner": None, "lease_token": 1, "created_at": at, "sent_at": at,
            "last_error": None, "source_message_id": source,
        })
        detail = {"outbox": oid, "message_id": header}
        return [(at, "mail-queued", recipient, purpose, detail),
                (at + timedelta(seconds=2), "mail-sent", recipient, purpose, detail)]

    def _event(self, rows: dict[str, list[dict[str, Any]]], at: datetime, action: str,
               reference: str | None, recipient: str | None, purpose: str | None,
               detail: dict[str, Any]) -> None:
        self.ledger_id += 1
        detail_json = json.dumps(detail, sort_keys=True, default=str)
        event = ledger.Event(action=action, subject_ref=reference, recipient=recipient,
                             purpose=purpose, detail=detail)
        digest = ledger.chain_hash(self.ledger_id, at, event, detail_json, self.ledger_hash)
        rows["ledger"].append({
            "id": self.ledger_id, "at": at, "actor": "gateway", "action": action,
            "subject_ref": reference, "recipient": recipient, "purpose": purpose,
            "detail": detail_json, "prev_hash": self.ledger_hash, "hash": digest,
        })
        self.ledger_hash = digest
        if at >= self.now - timedelta(days=1):
            self.last_day_events += 1

    def _noise(self, rows: dict[str, list[dict[str, Any]]], at: datetime) -> None:
        """Mail that makes no contact: automatic replies, and some quarantined for a person."""
        state = "quarantined" if self.rng.random() < 0.1 else "processed"
        mid = self._message(rows, at, "front-door", state,
                            "auto_reply" if state == "processed" else "unknown",
                            "someone@example.org", "Automatic reply")
        self._event(rows, at, "message-received", None, None, None, {"message": mid})

    # --- the whole history ----------------------------------------------------------------
    def history(self) -> Iterator[tuple[int, Batch]]:
        """Each chunk of contacts as driver statements and values, with how many are done."""
        span = timedelta(days=365 * self.scale)
        start = self.now - timedelta(days=1) - span
        step = span / self.total
        for first in range(0, self.total, CHUNK):
            rows: dict[str, list[dict[str, Any]]] = {k: [] for k in TABLES}
            for n in range(first, min(self.total, first + CHUNK)):
                received = start + step * n
                self._contact(rows, received)
                self._noise(rows, received + timedelta(minutes=5))
            yield min(self.total, first + CHUNK), self._statements(rows)

    def _statements(self, rows: dict[str, list[dict[str, Any]]]) -> Batch:
        return [driver_rows(TABLES[key].__table__, rows[key], self.db.is_sqlite)
                for key in TABLES if rows[key]]

    def _insert(self, batch: Batch) -> None:
        """Straight to the driver, past SQLAlchemy (its per-row parameter processing costs
        three times the insert; the builder's text needs no cleaning), and by COPY on
        PostgreSQL."""
        raw = self.db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.db.is_sqlite:
                # The build's own connection only: what is measured afterwards opens its own.
                cursor.execute(f"PRAGMA cache_size=-{BUILD_CACHE_KB}")
                cursor.execute("BEGIN IMMEDIATE")  # the driver is in autocommit mode
                for sql, values in batch:
                    cursor.executemany(sql, values)
                cursor.execute("COMMIT")
            else:
                for sql, values in batch:
                    with cursor.copy(sql) as copy:
                        for value in values:
                            copy.write_row(value)
                raw.commit()
        finally:
            raw.close()
        # The daemon's fold-counts sweep runs every tick through the year: fold as it would.
        with self.db.transaction() as session:
            counts.fold(session)

    def state(self) -> dict[str, Any]:
        """What finish() needs from the builder that made the history (in another process)."""
        return {k: getattr(self, k) for k in STATE}

    def finish(self) -> None:
        """Today's live work, the reference counters, the ledger head and a checkpoint a day
        back (where yesterday's `audit verify` stopped)."""
        rows: dict[str, list[dict[str, Any]]] = {k: [] for k in TABLES}
        today = self.now - timedelta(hours=20)
        first_live = self.contact_id + 1
        for n in range(LIVE_OPEN):
            self._contact(rows, today + timedelta(minutes=20 * n))
        for contact in rows["contacts"]:
            contact["status"] = "open"
        for n, contact in enumerate(rows["contacts"][:3]):
            contact["status"] = "csc-screening"
            contact["decision_due_at"] = self.now - timedelta(hours=1 + n)
        for check in rows["checks"]:
            if check["contact_id"] >= first_live + LIVE_OPEN - 4:
                check.update(status="pending", answered_at=None, replies=0)
                check["next_chase_at"] = None
        for check in [c for c in rows["checks"] if c["status"] == "pending"][:3]:
            check["due_at"] = self.now - timedelta(hours=2)
            check["next_chase_at"] = self.now - timedelta(minutes=30)
        # Checkpoint before today's events: `audit verify` then walks about one day's events.
        checkpoint_id, checkpoint_hash = self.ledger_id, self.ledger_hash
        self._insert(self._statements(rows))
        self.sample_reference = rows["contacts"][0]["reference"]
        with self.db.transaction() as session:
            for year, last in self.counters.items():
                session.add(ReferenceCounter(year=year, last=last))
            session.add(LedgerHead(id=1, last_id=self.ledger_id, hash=self.ledger_hash))
            session.add(LedgerCheckpoint(last_id=checkpoint_id, hash=checkpoint_hash,
                                         verified_at=self.now - timedelta(days=1), full=True))
        if not self.db.is_sqlite:
            # Rows came with their ids: move each id sequence past them, as inserts would have.
            with self.db.engine.begin() as connection:
                for model in TABLES.values():
                    name = model.__table__.name
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    ))
            # Autovacuum would have analysed tables this size long before a year was over.
            with self.db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE")
                )


def _converter(column: Any, sqlite: bool) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        if sqlite:  # SQLAlchemy's SQLite DATETIME: naive UTC, always with microseconds
            return lambda v: None if v is None else v.astimezone(UTC).replace(
                tzinfo=None).isoformat(" ", "microseconds")
        return lambda v: v
    if isinstance(kind, JSON):
        return lambda v: None if v is None else json.dumps(v)
    if isinstance(kind, Boolean) and sqlite:
        return lambda v: None if v is None else int(v)
    return lambda v: v


def driver_rows(
    table: Any, rows: list[dict[str, Any]], sqlite: bool
) -> tuple[str, list[tuple[Any, ...]]]:
    """An INSERT for SQLite's executemany, a COPY for PostgreSQL, and the rows' values."""
    # Every column the builder gives (all but an autoincrement id): no defaults to apply.
    columns = [c for c in table.columns if c.name in rows[0]]
    names = [c.name for c in columns]
    converters = [_converter(c, sqlite) for c in columns]
    if sqlite:
        sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
               f"VALUES ({', '.join('?' for _ in names)})")
    else:
        sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    pairs = list(zip(names, converters, strict=True))
    values = [tuple(convert(row.get(name)) for name, convert in pairs) for row in rows]
    return sql, values


TABLES: dict[str, Any] = {
    "messages": Message, "sources": MessageSource, "contacts": Contact,
    "children": ContactChild, "decisions": Decision, "outbox": OutboxRow, "checks": Check,
    "replies": CheckReply, "ledger": AuditEvent,
}


def _produce(builder: Builder, queue: Any) -> None:
    for done, batch in builder.history():
        queue.put((done, batch))
    queue.put((None, builder.state()))


def build(db: Database, scale: int, now: datetime, per_year: int = CONTACTS_PER_YEAR) -> Builder:
    """Made in a second process while this one inserts: on two cores, making the rows and
    storing them take about as long as each other."""
    builder = Builder(db, scale, now, per_year)
    started = time.monotonic()
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=4)
    maker = context.Process(target=_produce, args=(builder, queue), daemon=True)
    maker.start()
    while True:
        done, item = queue.get()
        if done is None:
            break
        builder._insert(item)
        elapsed = time.monotonic() - started
        print(f"\r  building {scale}x: {done:,}/{builder.total:,} contacts, "
              f"{elapsed:.0f} s", end="", file=sys.stderr)
    maker.join()
    if maker.exitcode != 0:
        raise RuntimeError(f"the history's maker failed: exit {maker.exitcode}")
    for key, value in item.items():
        setattr(builder, key, value)
    builder.finish()
    print(file=sys.stderr)
    return builder
