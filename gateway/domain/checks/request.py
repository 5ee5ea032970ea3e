"""MASH checks (protocol section 5): a RAG-rated request to each partner, and its clock.

A request carries only what the partner needs (the children's and the household's identifying
details, why the information is needed, the questions), never the whole referral, and states
the consent it relies on, the lawful basis and the data-sharing agreement. It goes only to an
agency that signed the agreement, about an open contact whose consent is given or overridden.
Each has an unguessable token, carried in its Message-ID, its subject tag and its Reply-To
plus-address.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import AgencySection, Config
from gateway.domain.consent import (
    PROTOCOL_TEST,
    ConsentError,
    Position,
    consent_of,
    position_for_share,
)
from gateway.domain.contacts import CLOSED
from gateway.domain.household import household
from gateway.domain.managers import manager_by_address
from gateway.domain.sharing import request_block, require_agreement, share_detail
from gateway.mail.addresses import plus_address
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.models import AuditEvent, Check, CheckReply, Contact, ReplyAttachment
from gateway.timescales import BusinessCalendar, deadline

RAGS = ("red", "amber", "green")
# A check still waiting for an answer; "held": a reply came but waits for a manager (wrong
# sender, unverified), so chasing goes on: a spoofed reply must not silence the chase.
OPEN_STATES = ("pending", "held")
# Crockford's base32: no I, L, O or U to misread. 8 characters are 40 bits; a reply also has to
# come from the agency's own address before it counts.
TOKEN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # noqa: S105 - an alphabet, not a secret
TOKEN_LENGTH = 8
TOKEN = re.compile(rf"\[#([{TOKEN_ALPHABET}]{{{TOKEN_LENGTH}}})\]", re.I)
BARE_TOKEN = re.compile(rf"(?<![A-Za-z0-9])#?([{TOKEN_ALPHABET}]{{{TOKEN_LENGTH}}})(?![A-Za-z0-9])")


class CheckError(ValueError):
    """A request that cannot be made, with the reason a manager can act on."""


def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def subject_tag(token: str) -> str:
    return f"[#{token}]"


@dataclass(frozen=True)
class Request:
    reference: str
    agencies: tuple[str, ...]
    rag: str
    context: str
    questions: tuple[str, ...] = ()
    requested_by: str = "manager"
    # A manager's reason to share although consent is not given (protocol section 7).
    consent_override: str | None = None


def _children(contact: Contact) -> list[dict[str, Any]]:
    """Identifying details only: what a partner needs to find its own records."""
    keep = ("given_name", "family_name", "date_of_birth", "expected_date", "unborn")
    out = []
    for child in (contact.referral or {}).get("children") or []:
        item = {key: child.get(key) for key in keep}
        item["nhs_number"] = child.get("nhs_number") if child.get("nhs_number_valid") else None
        item["address"] = child.get("address")
        out.append(item)
    return out


def request_checks(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    request: Request,
) -> list[Check]:
    """Record and queue one check per agency, inside the caller's transaction."""
    rag = request.rag.lower()
    if rag not in RAGS:
        raise CheckError(f"RAG must be red, amber or green, not {request.rag!r}")
    context = request.context.strip()
    if not context:
        raise CheckError("a check must say why the information is needed (--context)")
    if not request.agencies:
        raise CheckError("name at least one agency")
    contact = session.execute(
        select(Contact).where(Contact.reference == request.reference)
    ).scalar_one_or_none()
    if contact is None:
        raise CheckError(f"no contact {request.reference}")
    if contact.status in CLOSED:
        raise CheckError(
            f"{contact.reference} is {contact.status}: no checks on a closed contact"
        )
    known = {a.id: a for a in config.agency}
    unknown = [a for a in request.agencies if a not in known]
    if unknown:
        raise CheckError(
            f"unknown agency {', '.join(unknown)}; configured: {', '.join(sorted(known)) or 'none'}"
        )
    # Every refusal comes before anything is recorded: an emailed command that is refused
    # leaves no half-made request behind in the message's transaction.
    for agency_id in dict.fromkeys(request.agencies):
        require_agreement(known[agency_id], f"a check request to {agency_id}")
    if request.consent_override is not None and not _is_manager(config, request.requested_by):
        raise ConsentError("only a configured [[manager]] can override consent")
    consent = position_for_share(
        session,
        contact,
        override_reason=request.consent_override,
        manager=request.requested_by,
        now=now,
    )
    calendar = BusinessCalendar.from_config(config)
    policy = config.rag.of(rag)
    due_at = deadline(now, policy.reply_within, policy.counting, calendar)
    first_chase = due_at + policy.offset(policy.ladder[0]) if policy.ladder else None
    checks = []
    for agency_id in dict.fromkeys(request.agencies):
        agency = known[agency_id]
        token = new_token()
        check = Check(
            contact_id=contact.id,
            reference=contact.reference,
            agency=agency_id,
            rag=rag,
            token=token,
            context=context,
            questions=list(request.questions),
            requested_by=request.requested_by,
            requested_at=now,
            due_at=due_at,
            status="pending",
            late=False,
            replies=0,
            chase_level=0,
            next_chase_at=first_chase,
        )
        session.add(check)
        session.flush()
        mail = OutgoingMail(
            template="check_request",
            values={
                "reference": contact.reference,
                "rag": rag.upper(),
                "tag": subject_tag(token),
                "agency": agency.name,
                "children": _children(contact),
                "household": household(contact.referral),
                "sharing": request_block(config, agency, consent),
                "context": context,
                "questions": list(request.questions),
                "due": calendar.local(due_at).strftime("%A %d %B %Y %H:%M"),
                "reply_within": policy.reply_within,
            },
            recipients=(agency.check_address,),
            purpose=f"{rag.upper()} check request to {agency_id}: {context[:200]}",
            subject_ref=contact.reference,
            automatic=False,
            extra_headers={"Reply-To": plus_address(config.gateway.mash_address, token)},
            message_id_tag=token,
            sign=True,
            encrypt_to=(agency.key,) if agency.security == "pgp" and agency.key else (),
            # Outside the encryption only the reference, the RAG and the token show.
            outer_subject=f"[{rag.upper()}] MASH check {contact.reference} {subject_tag(token)}",
            share=_share(config, agency, consent, context),
        )
        row = enqueue(session, config, letters, mail, now)
        check.request_message_id = row.header_message_id
        ledger.append(
            session,
            now,
            ledger.Event(
                action="check-requested",
                actor=request.requested_by,
                subject_ref=contact.reference,
                recipient=agency.check_address,
                purpose=context[:500],
                detail={
                    "check": check.id,
                    "agency": agency_id,
                    "rag": rag,
                    "due_at": due_at.isoformat(),
                    "questions": list(request.questions),
                    **_share(config, agency, consent, context),
                },
            ),
        )
        checks.append(check)
    return checks


def sharing_lines(config: Config, contact: Contact) -> list[str]:
    """What the manager is told about the consent and the lawful basis a request relied on;
    an override quotes the protocol's test for one."""
    record = consent_of(contact)
    lines = []
    if record.status == "given":
        lines.append("consent: given")
    elif record.override is not None:
        override = record.override
        lines.append(
            f"consent {record.status}: overridden by {override.by} at {override.at}, because: "
            f"{override.reason}"
        )
        lines.append(f"The protocol's test for an override: {PROTOCOL_TEST}")
    lines.append(f"lawful basis: {config.sharing.lawful_basis}")
    return lines


def _is_manager(config: Config, who: str) -> bool:
    """`Name <address>` (the command line), or a manager's address (a command email)."""
    address = who.rpartition("<")[2].rstrip(">").strip()
    return manager_by_address(config, address) is not None


def _share(
    config: Config, agency: AgencySection, consent: Position, context: str
) -> dict[str, Any]:
    return share_detail(
        config, agency=agency, consent=consent, purpose=f"MASH check: {context}"
    )


def follow_up_mail(
    config: Config,
    check: Check,
    agency: AgencySection,
    *,
    template: str,
    values: dict[str, Any],
    purpose: str,
    outer_subject: str,
    cc: tuple[str, ...] = (),
) -> OutgoingMail:
    """A later mail about a check (a reminder, a withdrawal): in the request's thread, with its
    token, sealed as the request was."""
    thread = (
        {"In-Reply-To": check.request_message_id, "References": check.request_message_id}
        if check.request_message_id
        else {}
    )
    return OutgoingMail(
        template=template,
        values=values,
        recipients=(agency.check_address,),
        cc=cc,
        purpose=purpose,
        subject_ref=check.reference,
        extra_headers={
            "Reply-To": plus_address(config.gateway.mash_address, check.token),
            **thread,
        },
        message_id_tag=check.token,
        sign=True,
        encrypt_to=(agency.key,) if agency.security == "pgp" and agency.key else (),
        outer_subject=outer_subject,
    )


def check_status(check: Check, now: datetime) -> str:
    """pending, overdue, held, answered, undeliverable or withdrawn, as the operator sees it."""
    if check.status == "pending" and check.due_at <= now:
        return "overdue"
    return check.status


def check_summary(check: Check, now: datetime) -> dict[str, Any]:
    return {
        "id": check.id,
        "contact": check.reference,
        "reference": check.reference,
        "agency": check.agency,
        "rag": check.rag,
        "status": check_status(check, now),
        "requested_at": check.requested_at.isoformat(),
        "requested_by": check.requested_by,
        "due_at": check.due_at.isoformat(),
        "overdue": check.status in OPEN_STATES and check.due_at <= now,
        "answered_at": check.answered_at.isoformat() if check.answered_at else None,
        "late": check.late,
        "replies": check.replies,
        "chases": check.chase_level,
        "context": check.context,
    }


def check_detail(session: Session, check_id: int, now: datetime) -> dict[str, Any] | None:
    check = session.get(Check, check_id)
    if check is None:
        return None
    data = check_summary(check, now)
    data["questions"] = list(check.questions)
    data["out_of_office_at"] = (
        check.out_of_office_at.isoformat() if check.out_of_office_at else None
    )
    data["replies"] = []
    for reply in session.execute(
        select(CheckReply).where(CheckReply.check_id == check.id).order_by(CheckReply.id)
    ).scalars():
        attachments = session.execute(
            select(ReplyAttachment.filename, ReplyAttachment.size, ReplyAttachment.sha256).where(
                ReplyAttachment.reply_id == reply.id
            )
        ).all()
        data["replies"].append(
            {
                "id": reply.id,
                "received_at": reply.received_at.isoformat(),
                "sender": reply.sender,
                "matched_by": reply.matched_by,
                "late": reply.late,
                "verified": reply.verified,
                "increased_risk": reply.increased_risk,
                "text": reply.text,
                "attachments": [
                    {"filename": f, "size": size, "sha256": digest}
                    for f, size, digest in attachments
                ],
            }
        )
    events = session.execute(
        select(AuditEvent).where(AuditEvent.subject_ref == check.reference).order_by(AuditEvent.id)
    ).scalars()
    data["timeline"] = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "recipient": e.recipient,
        }
        for e in events
        if json.loads(e.detail or "{}").get("check") == check.id
    ]
    return data
