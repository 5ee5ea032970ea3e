"""Professional disagreement (protocol section 5): recorded, sent on, answered, resolved.

A professional who disagrees with a MASH decision talks to a MASH manager first, then the
service manager or head of service, then the partnership's escalation policy. The gateway
makes the first step impossible to lose: the disagreement is on the contact and in the
ledger with its words, the managers and the service manager have it at once, the
professional is told the route and when to expect an answer, and it stays in the digest
until a manager resolves it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.referrer import agency_of, professional_domain
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.outbound.letter_values import letter_values
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.disagreements import Disagreement
from gateway.store.models import Contact
from gateway.timescales import BusinessCalendar

OUTCOMES = ("upheld", "not-upheld", "escalated")
TEXT_LIMIT = 20_000


class DisagreementError(ValueError):
    """A disagreement that cannot be resolved as asked, with the reason."""


def _when(config: Config, at: datetime) -> str:
    return BusinessCalendar.from_config(config).local(at).strftime("%A %d %B %Y")


def is_professional(config: Config, contact: Contact, sender: str) -> bool:
    """A professional's voice: an agency's or professional domain's address, or the
    contact's own referrer once known (or confirmed by a manager) to be a professional."""
    if agency_of(config, sender) or professional_domain(config, sender):
        return True
    own = (contact.reply_address or "").lower() == sender.lower()
    return own and contact.referrer_kind == "professional"


def raise_disagreement(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    *,
    reference: str,
    sender: str,
    text: str,
    found: str,
    message_id: int | None = None,
    in_reply_to: str | None = None,
) -> Disagreement | None:
    """Record it and send it on, inside the caller's transaction. None when the sender is not
    a professional: a member of the public's complaint route is the complaints team, and
    their message stays correspondence for the digest."""
    contact = session.execute(
        select(Contact).where(Contact.reference == reference)
    ).scalar_one_or_none()
    if contact is None or not is_professional(config, contact, sender):
        return None
    calendar = BusinessCalendar.from_config(config)
    text = text.strip()[:TEXT_LIMIT]
    row = Disagreement(
        contact_id=contact.id,
        raised_by=sender,
        raised_at=now,
        text=text,
        message_id=message_id,
        respond_by=calendar.add_working_days(now, config.disagreement.respond_within_days),
        status="open",
    )
    session.add(row)
    session.flush()
    ledger.append(
        session,
        now,
        ledger.Event(
            action="disagreement-raised",
            actor=sender,
            subject_ref=contact.reference,
            purpose="a professional disagrees with the MASH decision (protocol section 5)",
            detail={"disagreement": row.id, "found": found, "text": text, "message": message_id},
        ),
    )
    common = letter_values(config)
    reviewers = tuple(
        dict.fromkeys(
            [*config.manager_addresses, *filter(None, [config.disagreement.service_manager])]
        )
    )
    if reviewers:
        enqueue(
            session,
            config,
            letters,
            OutgoingMail(
                template="disagreement_raised",
                values={
                    **common,
                    "reference": contact.reference,
                    "raised_by": sender,
                    "text": text,
                    "respond_by": _when(config, row.respond_by),
                    "disagreement_id": row.id,
                },
                recipients=reviewers,
                purpose="professional disagreement: to the managers and the service manager",
                subject_ref=contact.reference,
            ),
            now,
            source_message_id=message_id,
        )
    headers = {"In-Reply-To": in_reply_to, "References": in_reply_to} if in_reply_to else {}
    enqueue(
        session,
        config,
        letters,
        OutgoingMail(
            template="disagreement_ack",
            values={
                **common,
                "reference": contact.reference,
                "respond_by": _when(config, row.respond_by),
            },
            recipients=(sender,),
            purpose="professional disagreement acknowledged",
            subject_ref=contact.reference,
            extra_headers=headers,
        ),
        now,
        source_message_id=message_id,
    )
    return row


def resolve(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    *,
    reference: str,
    outcome: str,
    reason: str,
    by: str,
) -> list[str]:
    """Close the contact's open disagreement(s) and tell the professional; line by line."""
    if outcome not in OUTCOMES:
        raise DisagreementError(f"--outcome is one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if not reason.strip():
        raise DisagreementError("a resolution needs its reason (--reason)")
    ledger.lock(session)  # before the rows: the order every writer keeps
    contact = session.execute(
        select(Contact).where(Contact.reference == reference)
    ).scalar_one_or_none()
    if contact is None:
        raise DisagreementError(f"no contact {reference}")
    rows = (
        session.execute(
            select(Disagreement)
            .where(Disagreement.contact_id == contact.id, Disagreement.status == "open")
            .order_by(Disagreement.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    if not rows:
        raise DisagreementError(f"{reference} has no open disagreement")
    done = []
    for row in rows:
        row.status = "resolved"
        row.outcome, row.reason, row.resolved_by, row.resolved_at = (
            outcome,
            reason.strip(),
            by,
            now,
        )
        ledger.append(
            session,
            now,
            ledger.Event(
                action="disagreement-resolved",
                actor=by,
                subject_ref=reference,
                recipient=row.raised_by,
                purpose=reason.strip()[:500],
                detail={"disagreement": row.id, "outcome": outcome},
            ),
        )
        enqueue(
            session,
            config,
            letters,
            OutgoingMail(
                template="disagreement_resolved",
                values={
                    **letter_values(config),
                    "reference": reference,
                    "outcome": outcome,
                    "reason": reason.strip(),
                    "resolved_by": by,
                },
                recipients=(row.raised_by,),
                purpose=f"professional disagreement resolved: {outcome}",
                subject_ref=reference,
            ),
            now,
        )
        done.append(f"disagreement {row.id} from {row.raised_by}: {outcome}; they were told")
    return done


def summary(row: Disagreement, reference: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "reference": reference,
        "raised_by": row.raised_by,
        "raised_at": row.raised_at.isoformat(),
        "respond_by": row.respond_by.isoformat(),
        "status": row.status,
        "outcome": row.outcome,
        "reason": row.reason,
        "resolved_by": row.resolved_by,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "text": row.text,
    }


def listing(session: Session, *, open_only: bool = False) -> list[dict[str, Any]]:
    query = select(Disagreement, Contact.reference).join(
        Contact, Contact.id == Disagreement.contact_id
    )
    if open_only:
        query = query.where(Disagreement.status == "open")
    return [summary(row, ref) for row, ref in session.execute(query.order_by(Disagreement.id))]
