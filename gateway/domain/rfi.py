"""Answering an information request (protocol section 4.6): within 10 working days, in the
request's own thread, to the agency that asked, sealed where it has a key.

The data-sharing rules apply as to any share: the answer goes only to a professional
requester (a configured agency's address or a professional domain), never to an address
nothing vouches for, and the outbox seals it for an agency with a key (or holds it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.referrer import agency_of, professional_domain
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.outbound.letter_values import letter_values
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.models import Contact, Message

ANSWER_LIMIT = 100_000


class RfiError(ValueError):
    """An answer that cannot be sent, with the reason."""


def answer(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    *,
    reference: str,
    text: str,
    by: str,
) -> list[str]:
    """Queue the answer and stop the request's clock, inside the caller's transaction."""
    text = text.strip()
    if not text:
        raise RfiError("the answer is empty")
    if len(text) > ANSWER_LIMIT:
        raise RfiError(f"the answer is over {ANSWER_LIMIT} characters: attach it by hand")
    ledger.lock(session)  # before the contact: the order every writer keeps
    contact = session.execute(
        select(Contact).where(Contact.reference == reference).with_for_update()
    ).scalar_one_or_none()
    if contact is None:
        raise RfiError(f"no contact {reference}")
    if contact.channel != "rfi":
        raise RfiError(f"{reference} is not an information request")
    if contact.rfi_answered_at is not None:
        raise RfiError(f"{reference} was already answered")
    if contact.status != "open":
        raise RfiError(f"{reference} is {contact.status}: its case-holding unit answers it")
    requester = contact.reply_address
    if requester is None:
        raise RfiError(f"{reference} has no address to answer")
    agency = agency_of(config, requester)
    if agency is None and professional_domain(config, requester) is None:
        raise RfiError(
            f"{requester} is neither a configured agency's address nor in a professional "
            "domain: information is shared only with a professional whose address we can "
            "vouch for (check who asked, and answer by hand)"
        )
    original = session.get(Message, contact.message_id) if contact.message_id else None
    thread = original.header_message_id if original is not None else None
    headers = {"In-Reply-To": thread, "References": thread} if thread else {}
    enqueue(
        session,
        config,
        letters,
        OutgoingMail(
            template="rfi_answer",
            values={
                **letter_values(config),
                "reference": reference,
                "answer": text,
                "answered_by": by,
            },
            recipients=(requester,),
            purpose="information request answered (protocol 4.6)",
            subject_ref=reference,
            extra_headers=headers,
            automatic=False,
        ),
        now,
        source_message_id=contact.message_id,
    )
    contact.rfi_answered_at = now
    contact.status = "answered"
    late = contact.due_at is not None and now > contact.due_at
    ledger.append(
        session,
        now,
        ledger.Event(
            action="rfi-answered",
            actor=by,
            subject_ref=reference,
            recipient=requester,
            purpose="information request answered (protocol 4.6)",
            detail={"agency": agency, "late": late, "characters": len(text)},
        ),
    )
    return [
        f"answer queued to {requester}" + (f" (agency {agency})" if agency else ""),
        "the information request's clock is stopped" + (" (it was late)" if late else ""),
    ]
