"""Contact records: allocate the reference and store the contact inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.consent import child_from_form, consent_of, status_from_form
from gateway.domain.formats import name_key
from gateway.store import ledger
from gateway.store.alert_models import UrgentReason
from gateway.store.models import Contact, ContactChild, ReferenceCounter

# A contact the MASH has finished with: no checks, no decision, and retention counts from then.
CLOSED = ("closed", "forwarded")


@dataclass(frozen=True)
class ContactDraft:
    """What a handler decided to record; the reference is allocated when it is stored."""

    received_at: datetime
    channel: str
    source: str
    referral: dict[str, Any]
    missing: tuple[str, ...]
    out_of_hours: bool
    immediate_risk: bool
    reply_address: str | None
    # "open", or "forwarded" to the case-holding unit of an open case (the MASH plays no
    # further part). A child a unit closed within three months is offered back to that unit
    # by decision B, not before any decision (protocol 4). ("routed-back" in older rows.)
    status: str = "open"
    due_at: datetime | None = None
    daily_meeting: bool = False
    # Who gets the letters (gateway/domain/referrer.py): public, professional or family.
    referrer_kind: str = "public"
    referrer_unsure: bool = False
    referrer_reasons: tuple[str, ...] = ()


def allocate_reference(session: Session, year: int) -> str:
    """`MASH-YYYY-NNNNNN`, unique: the counter row is locked until the transaction ends.
    The ledger's head first (its contact-created event will need it anyway): one lock order."""
    ledger.lock(session)
    counter = session.execute(
        select(ReferenceCounter).where(ReferenceCounter.year == year).with_for_update()
    ).scalar_one_or_none()
    if counter is None:
        counter = ReferenceCounter(year=year, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return f"MASH-{year}-{counter.last:06d}"


FUZZY_NAME = 90  # rapidfuzz token_sort_ratio on normalised names, same date of birth
RE_REFERRAL = timedelta(days=365)


def _children(draft: ContactDraft) -> list[tuple[str | None, str, str | None]]:
    """(valid NHS number, name key, date of birth) for each child in the draft."""
    out = []
    for child in draft.referral.get("children") or []:
        nhs = child.get("nhs_number") if child.get("nhs_number_valid") else None
        out.append(
            (
                nhs,
                name_key(child.get("given_name"), child.get("family_name")),
                child.get("date_of_birth"),
            )
        )
    return out


def history(session: Session, draft: ContactDraft) -> list[Contact]:
    """Earlier contacts about any of the draft's children, oldest first."""
    found: dict[int, Contact] = {}
    for nhs, key, dob in _children(draft):
        ids: set[int] = set()
        if nhs:
            ids |= set(
                session.execute(
                    select(ContactChild.contact_id).where(ContactChild.nhs_number == nhs)
                ).scalars()
            )
        if dob and key:
            for contact_id, other in session.execute(
                select(ContactChild.contact_id, ContactChild.name_key).where(
                    ContactChild.date_of_birth == dob
                )
            ).all():
                if fuzz.token_sort_ratio(key, other) >= FUZZY_NAME:
                    ids.add(contact_id)
        for contact_id in ids - found.keys():
            contact = session.get(Contact, contact_id)
            if contact is not None and contact.received_at <= draft.received_at:
                found[contact_id] = contact
    return sorted(found.values(), key=lambda c: c.received_at)


def store(
    session: Session, draft: ContactDraft, now: datetime, message_id: int | None, local_year: int
) -> Contact:
    contact = Contact(
        reference=allocate_reference(session, local_year),
        received_at=draft.received_at,
        created_at=now,
        channel=draft.channel,
        source=draft.source,
        status=draft.status,
        incomplete=bool(draft.missing),
        missing=list(draft.missing),
        out_of_hours=draft.out_of_hours,
        immediate_risk=draft.immediate_risk,
        # Immediate risk is urgent; the reasons are added by whoever raised its alert.
        urgent=draft.immediate_risk,
        referral=draft.referral,
        reply_address=draft.reply_address,
        message_id=message_id,
        due_at=draft.due_at,
        daily_meeting=draft.daily_meeting,
        consent_status=status_from_form(draft.referral),
        consent_child=child_from_form(draft.referral),
        closed_at=now if draft.status in CLOSED else None,
        routed_at_door=draft.status if draft.status in ("forwarded", "routed-back") else None,
        referrer_kind=draft.referrer_kind,
        referrer_unsure=draft.referrer_unsure,
        referrer_reasons=list(draft.referrer_reasons),
    )
    earlier = history(session, draft)
    contact.linked = [c.reference for c in earlier]
    contact.re_referral = any(draft.received_at - c.received_at <= RE_REFERRAL for c in earlier)
    session.add(contact)
    session.flush()
    for nhs, key, dob in _children(draft):
        session.add(
            ContactChild(contact_id=contact.id, nhs_number=nhs, name_key=key, date_of_birth=dob)
        )
    return contact


def urgent_reasons(session: Session, contact_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each contact's urgent reasons: the signal, the matched text and the source message."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not contact_ids:
        return found
    rows = session.execute(
        select(UrgentReason)
        .where(UrgentReason.contact_id.in_(contact_ids))
        .order_by(UrgentReason.id)
    ).scalars()
    for r in rows:
        found.setdefault(r.contact_id, []).append(
            {
                "message": r.message_id,
                "matched": r.matched,
                "signal": r.signal,
                "why": r.why,
                "found_at": r.found_at.isoformat(),
            }
        )
    return found


def summary(contact: Contact, reasons: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    referral = contact.referral or {}
    referrer = referral.get("referrer") or {}
    return {
        "reference": contact.reference,
        "received_at": contact.received_at.isoformat(),
        "source": contact.source,
        "channel": contact.channel,
        "status": contact.status,
        "incomplete": contact.incomplete,
        "missing": list(contact.missing or []),
        "out_of_hours": contact.out_of_hours,
        "immediate_risk": contact.immediate_risk,
        "urgent": contact.urgent,
        "urgent_reasons": list(reasons or []),
        "received_by_unit_at": contact.received_by_unit_at.isoformat()
        if contact.received_by_unit_at
        else None,
        "received_by_unit": contact.received_by_unit,
        "due_at": contact.due_at.isoformat() if contact.due_at else None,
        "daily_meeting": contact.daily_meeting,
        "linked": list(contact.linked or []),
        "re_referral": contact.re_referral,
        "consent": consent_of(contact).as_json(),
        "children": [
            {
                key: child.get(key)
                for key in ("given_name", "family_name", "date_of_birth", "nhs_number")
            }
            for child in referral.get("children") or []
        ],
        "referrer": {
            "name": referrer.get("name"),
            "agency": referrer.get("agency"),
            "email": referrer.get("email") or contact.reply_address,
            "kind": contact.referrer_kind,
            "unsure": contact.referrer_unsure,
            "reasons": list(contact.referrer_reasons or []),
        },
    }


def listing(
    session: Session,
    *,
    incomplete: bool = False,
    since: date | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    query = select(Contact).order_by(Contact.id).offset(offset).limit(limit)
    if incomplete:
        query = query.where(Contact.incomplete.is_(True))
    if since is not None:
        # In the database (indexed), not in Python: from the start of that day, UTC.
        query = query.where(Contact.received_at >= datetime.combine(since, time(), UTC))
    rows = list(session.execute(query).scalars())
    reasons = urgent_reasons(session, [c.id for c in rows])
    return [summary(c, reasons.get(c.id)) for c in rows]
