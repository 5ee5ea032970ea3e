"""Withdrawing a contact's open checks once its outcome is settled.

The checks exist to inform the MASH's decision (protocol section 5). Once an outcome that ends
the MASH's part is recorded (not a statutory assessment: see decisions.KEEPS_CHECKS_OPEN),
chasing a partner for an answer nobody needs wastes their time and asks for information that
is no longer necessary (Caldicott). Each open check is withdrawn, its chasing stops, the agency
is told in the request's thread, and any of its mail still held for want of a key is
cancelled. A reply that comes later is still stored against the check, and one reporting
increased risk still alerts the managers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.checks.request import OPEN_STATES, follow_up_mail, subject_tag
from gateway.outbound.compose import Letters, message_id_prefix
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.models import Check, Contact, OutboxRow


def withdraw_open_checks(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    contact: Contact,
    *,
    by: str,
    outcome: str,
) -> list[str]:
    """Inside the caller's transaction; what was done, line by line."""
    ledger.lock(session)  # before the checks: a batch recording a reply holds the head
    done = []
    agencies = {a.id: a for a in config.agency}
    # An undeliverable check is settled by the outcome too: nothing to tell (it never got
    # there), and it leaves the digest's list (which lists only contacts with no outcome). It
    # stays "undeliverable": that is what happened to it, and what the steering group counts.
    for check in session.execute(
        select(Check).where(Check.contact_id == contact.id, Check.status == "undeliverable")
    ).scalars():
        ledger.append(
            session,
            now,
            ledger.Event(
                action="check-settled",
                actor=by,
                subject_ref=check.reference,
                purpose=f"outcome recorded ({outcome}): the undeliverable check is settled",
                detail={"check": check.id, "agency": check.agency, "undeliverable": True},
            ),
        )
        done.append(f"{check.rag.upper()} check to {check.agency} (undeliverable) settled")
    for check in _open(session, contact):
        check.status = "withdrawn"
        check.next_chase_at = None
        cancelled = _cancel_held_mail(session, check)
        never_sent = check.request_message_id in cancelled.values()
        agency = agencies.get(check.agency)
        if agency is not None and not never_sent:
            enqueue(
                session,
                config,
                letters,
                follow_up_mail(
                    config,
                    check,
                    agency,
                    template="check_withdrawn",
                    values={
                        "reference": check.reference,
                        "rag": check.rag.upper(),
                        "tag": subject_tag(check.token),
                    },
                    purpose=f"{check.rag.upper()} check to {agency.id} withdrawn",
                    outer_subject=f"[{check.rag.upper()}] MASH check no longer needed "
                    f"{check.reference} {subject_tag(check.token)}",
                ),
                now,
            )
        ledger.append(
            session,
            now,
            ledger.Event(
                action="check-withdrawn",
                actor=by,
                subject_ref=check.reference,
                recipient=agency.check_address if agency and not never_sent else None,
                purpose=f"outcome recorded ({outcome}): the check is no longer needed",
                detail={
                    "check": check.id,
                    "agency": check.agency,
                    "cancelled_mail": sorted(cancelled),
                },
            ),
        )
        if never_sent:
            told = "its request was still held for want of a key, and is cancelled"
        elif agency is None:
            told = "the agency is no longer configured"
        else:
            told = "the agency was told"
        held = f"; {len(cancelled)} held message(s) cancelled" if cancelled else ""
        done.append(f"{check.rag.upper()} check to {check.agency} withdrawn: {told}{held}")
    return done


def open_checks(session: Session, contact: Contact) -> list[str]:
    """The agencies whose checks on the contact are still open."""
    return [check.agency for check in _open(session, contact)]


def _open(session: Session, contact: Contact) -> list[Check]:
    return list(
        session.execute(
            select(Check)
            .where(Check.contact_id == contact.id, Check.status.in_(OPEN_STATES))
            .order_by(Check.id)
        ).scalars()
    )


def _cancel_held_mail(session: Session, check: Check) -> dict[int, str]:
    """The check's request or reminders still held for want of a usable key: never sent now.
    Their outbox ids and Message-IDs."""
    rows = session.execute(
        select(OutboxRow).where(
            OutboxRow.state == "held",
            OutboxRow.header_message_id.like(message_id_prefix(check.token) + "%"),
        )
    ).scalars()
    cancelled = {}
    for row in rows:
        row.state = "cancelled"
        row.last_error = "cancelled: the check was withdrawn"
        cancelled[row.id] = row.header_message_id
    return cancelled
