"""The managers' digest: what needs a person's attention, at set times on working days.

Each configured time is a slot; the (kind, slot) row in `digest_runs` is taken in the same
transaction that queues the mail, so two instances, or a sweep run twice, send it once. Only
the latest slot counts: slots missed while the gateway was down collapse into one digest.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.clock import Clock
from gateway.config import Config
from gateway.crypto.keyring import Keyring, key_problems
from gateway.domain.checks.request import OPEN_STATES, RAGS
from gateway.domain.sharing import reviews_due
from gateway.durations import due, in_words
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.outbound.outbox import enqueue
from gateway.reports.attention import (
    failed_lines,
    undeliverable_lines,
    urgent_contacts,
    urgent_lines,
)
from gateway.reports.sections import Section
from gateway.reports.voice import disagreement_sections, referrer_sections
from gateway.store import counts, ledger
from gateway.store.db import Database
from gateway.store.models import AuditEvent, Check, Contact, DigestRun, Message
from gateway.timescales import BusinessCalendar

log = logging.getLogger(__name__)

SLOT_LOOKBACK_DAYS = 14


def latest_slot(
    now: datetime,
    config: Config,
    calendar: BusinessCalendar,
    times: tuple[time, ...] | None = None,
    working_days_only: bool | None = None,
) -> datetime | None:
    """The newest configured time at or before NOW (on a working day if so set)."""
    times = config.digest.times if times is None else times
    if working_days_only is None:
        working_days_only = config.digest.working_days_only
    local_now = calendar.local(now)
    for days_back in range(SLOT_LOOKBACK_DAYS):
        day = local_now.date() - timedelta(days=days_back)
        if working_days_only and not calendar.is_working_day(day):
            continue
        for at in sorted(times, reverse=True):
            slot = datetime.combine(day, at, tzinfo=calendar.zone)
            if slot <= local_now:
                return slot
    return None


def _ago(now: datetime, then: datetime) -> str:
    """How long ago, in words a manager reads ("22 hours"), never minutes in four digits."""
    return in_words(max(now - then, timedelta(0)))


def gather(
    session: Session,
    config: Config,
    calendar: BusinessCalendar,
    now: datetime,
    keyring: Keyring | None = None,
) -> list[Section]:
    """The digest's non-empty sections. References only: the detail is in `contacts show`."""
    sections: list[Section] = []
    # Urgent contacts first, under their own heading (the alert went at once; this is the
    # reminder that a person must act on each).
    urgent = urgent_contacts(session, now)
    if urgent:
        sections.append(Section("URGENT contacts", urgent_lines(session, urgent, now)))

    sections.extend(_check_sections(session, calendar, now))
    lines = undeliverable_lines(session, now)
    if lines:
        sections.append(Section("Checks that could not be delivered", lines))

    screening = session.execute(
        select(Contact)
        .where(
            Contact.decision_due_at.is_not(None),
            Contact.decision_due_at <= now + DECISIONS_AHEAD,
        )
        .order_by(Contact.decision_due_at)
    ).scalars()
    lines = []
    for c in screening:
        assert c.decision_due_at is not None
        what = (
            "statutory-response decision" if c.status == "csc-screening" else "early help outcome"
        )
        when = calendar.local(c.decision_due_at).strftime("%a %d %b %H:%M")
        if c.decision_due_at <= now:
            lines.append(f"{c.reference}: {what} overdue by {_ago(now, c.decision_due_at)}")
        else:
            lines.append(f"{c.reference}: {what} {due(now, c.decision_due_at)} ({when})")
    if lines:
        sections.append(Section("Decisions due or overdue", lines))

    # Until a manager records a decision, a contact stays open (protocol 4: within 24 hours).
    waiting = session.execute(
        select(Contact)
        .where(Contact.status == "open", Contact.channel != "rfi", Contact.urgent.is_(False))
        .order_by(Contact.received_at)
    ).scalars()
    lines = [
        f"{c.reference} ({c.source}, received {_ago(now, c.received_at)} ago)" for c in waiting
    ]
    if lines:
        sections.append(Section("Contacts waiting for a decision", lines))

    incomplete = session.execute(
        select(Contact)
        .where(Contact.incomplete.is_(True), Contact.status == "open")
        .order_by(Contact.received_at)
    ).scalars()
    lines = [
        f"{c.reference} (received {_ago(now, c.received_at)} ago): missing {', '.join(c.missing)}"
        for c in incomplete
    ]
    if lines:
        sections.append(Section("Incomplete referrals", lines))

    horizon = calendar.add_working_days(now, config.digest.rfi_due_within_days)
    rfis = session.execute(
        select(Contact)
        .where(
            Contact.channel == "rfi",
            Contact.status == "open",
            Contact.due_at.is_not(None),
            Contact.due_at <= horizon,
        )
        .order_by(Contact.due_at)
    ).scalars()
    lines = []
    for rfi in rfis:
        assert rfi.due_at is not None
        when = calendar.local(rfi.due_at).strftime("%a %d %b %H:%M")
        if rfi.due_at <= now:
            lines.append(f"{rfi.reference}: overdue by {_ago(now, rfi.due_at)} (was due {when})")
        else:
            lines.append(f"{rfi.reference}: answer {due(now, rfi.due_at)} ({when})")
    if lines:
        sections.append(Section("Information requests due", lines))

    previous = session.execute(
        select(DigestRun.ran_at)
        .where(DigestRun.kind == "managers")
        .order_by(DigestRun.ran_at.desc())
        .limit(1)
    ).scalar()
    replies = select(AuditEvent.subject_ref, AuditEvent.at).where(
        AuditEvent.action == "correspondence"
    )
    # The first digest looks back as far as a missed slot can be, not over the whole ledger.
    since = previous or now - timedelta(days=SLOT_LOOKBACK_DAYS)
    replies = replies.where(AuditEvent.at > since)
    lines = [
        f"{reference}: a message arrived {_ago(now, at)} ago"
        for reference, at in session.execute(replies.order_by(AuditEvent.id)).all()
    ]
    if lines:
        sections.append(Section("New correspondence on contacts", lines))

    lines = failed_lines(session, now)
    if lines:
        sections.append(Section("Messages that could not be delivered", lines))

    sections.extend(_quarantine_section(session, now))

    if keyring is not None:
        lines = [
            f"{p.owner}: key {p.fingerprint} {p.problem}"
            for p in key_problems(config, keyring, now)
        ]
        if lines:
            sections.append(Section("OpenPGP keys to renew or replace", lines))
    lines = reviews_due(config, calendar.local(now).date())
    if lines:
        sections.append(Section("Data-sharing agreements to review", lines))
    sections.extend(disagreement_sections(session, now))
    sections.extend(referrer_sections(session, now))
    return sections


QUARANTINE_LISTED = 10


def _quarantine_section(session: Session, now: datetime) -> list[Section]:
    """A count (kept by the database, gateway/store/counts.py) and the oldest few (indexed on
    state): quarantined mail that nobody releases piles up over the years, and the digest must
    not read all of it at every slot."""
    oldest = session.execute(
        select(Message.id, Message.quarantine_reason, Message.received_at)
        .where(Message.state == "quarantined")
        .order_by(Message.id)
        .limit(QUARANTINE_LISTED)
    ).all()
    if not oldest:
        return []
    # Whether there is any is read from the rows themselves: a count gone wrong can only
    # misstate how many, never hide them.
    counted = counts.by_state(counts.current(session), "messages").get("quarantined", 0)
    waiting = max(counted, len(oldest))
    lines = [
        f"message {mid}: {reason} (received {_ago(now, received)} ago)"
        for mid, reason, received in oldest
    ]
    title = "Quarantined messages waiting for a person"
    if waiting > len(lines):
        title += f": {waiting} in all, the oldest {len(lines)} listed"
    return [Section(title, lines)]


DUE_SOON = timedelta(hours=2)
DECISIONS_AHEAD = timedelta(hours=24)


def _check_sections(session: Session, calendar: BusinessCalendar, now: datetime) -> list[Section]:
    awaiting = (
        session.execute(
            select(Check)
            .where(Check.status.in_(OPEN_STATES), Check.due_at <= now + DUE_SOON)
            .order_by(Check.due_at)
        )
        .scalars()
        .all()
    )
    overdue: dict[tuple[int, str, str], list[str]] = {}
    soon: list[str] = []
    for check in awaiting:
        if check.due_at <= now:
            key = (RAGS.index(check.rag), check.rag.upper(), check.agency)
            overdue.setdefault(key, []).append(
                f"{check.reference} overdue by {_ago(now, check.due_at)}"
            )
        else:
            when = calendar.local(check.due_at).strftime("%H:%M")
            soon.append(
                f"{check.rag.upper()} {check.agency} {check.reference} "
                f"{due(now, check.due_at)} (at {when})"
            )
    sections = []
    if overdue:
        lines = [
            f"{rag} {agency}: {'; '.join(items)}"
            for (_order, rag, agency), items in sorted(overdue.items())
        ]
        sections.append(Section("Overdue checks", lines))
    if soon:
        sections.append(Section("Checks due in the next 2 hours", soon))
    return sections


def send_sections(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    *,
    kind: str,
    slot: datetime,
    sections: list[Section],
    items: int,
    template: str,
    recipients: tuple[str, ...],
    purpose: str,
    action: str,
    keys: dict[str, str] | None = None,
) -> int:
    """Take the slot and, unless there is nothing to say, queue the mail and record it.
    With KEYS (address to fingerprint), one message per recipient, sealed where it has one."""
    session.add(
        DigestRun(kind=kind, slot_at=slot, ran_at=now, items=items, owner=config.gateway.instance)
    )
    session.flush()  # a concurrent instance's row makes this raise, before any mail
    if items == 0:
        return 0
    mail = OutgoingMail(
        template=template,
        values={
            "slot": slot.strftime("%A %d %B %Y %H:%M"),
            "sections": [s.as_json() for s in sections],
            "items": items,
        },
        recipients=recipients,
        purpose=purpose,
    )
    if keys is None:
        enqueue(session, config, letters, mail, now)
    else:
        for address in recipients:
            key = keys.get(address.lower())
            enqueue(
                session,
                config,
                letters,
                replace(
                    mail,
                    recipients=(address,),
                    sign=key is not None,
                    encrypt_to=(key,) if key else (),
                    outer_subject=purpose if key else None,
                ),
                now,
            )
    ledger.append(
        session,
        now,
        ledger.Event(
            action=action,
            detail={
                "slot": slot.isoformat(),
                "items": items,
                "sections": {s.title: len(s.lines) for s in sections},
            },
        ),
    )
    log.info("%s for %s queued: %d item(s)", purpose, slot.isoformat(), items)
    return items


def send_digest(db: Database, config: Config, clock: Clock, letters: Letters) -> int | None:
    """Queue the current slot's digest if no instance has yet. The item count, or None."""
    if not config.manager:
        return None
    now = clock.now()
    calendar = BusinessCalendar.from_config(config)
    slot = latest_slot(now, config, calendar)
    if slot is None:
        return None
    try:
        with db.transaction() as session:
            taken = session.execute(
                select(DigestRun.id).where(DigestRun.kind == "managers", DigestRun.slot_at == slot)
            ).first()
            if taken is not None:
                return None
            sections = gather(session, config, calendar, now, letters.keyring)
            return send_sections(
                session,
                config,
                letters,
                now,
                kind="managers",
                slot=slot,
                sections=sections,
                items=sum(len(s.lines) for s in sections),
                template="digest",
                recipients=config.manager_addresses,
                purpose="managers' digest",
                action="digest",
            )
    except IntegrityError:
        return None  # another instance took this slot first
