"""Applying what a handler decided about a check, inside the message's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.checks.request import (
    OPEN_STATES,
    CheckError,
    Request,
    request_checks,
    sharing_lines,
)
from gateway.domain.consent import ConsentError
from gateway.domain.decisions import DecisionError, DecisionRequest, record
from gateway.domain.effects import CheckReplyDraft, CheckUpdate
from gateway.domain.sharing import NoAgreement
from gateway.outbound.alerts import manager_alert
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.store import ledger
from gateway.store.models import Check, CheckReply, Contact, Message, OutboxRow, ReplyAttachment
from gateway.timescales import BusinessCalendar


def record_reply(
    session: Session, config: Config, now: datetime, message: Message, draft: CheckReplyDraft
) -> list[OutgoingMail]:
    """Store the reply (several may answer one check) and close the check on the first; when
    that answers the contact's last open check, tell the managers."""
    check = session.get(Check, draft.check_id)
    assert check is not None
    reply = CheckReply(
        check_id=check.id,
        message_id=message.id,
        received_at=message.received_at,
        sender=draft.sender,
        matched_by=draft.matched_by,
        late=draft.late,
        verified=draft.verified,
        increased_risk=draft.increased_risk is not None,
        text=draft.text,
    )
    session.add(reply)
    session.flush()
    for item in draft.attachments:
        session.add(
            ReplyAttachment(
                reply_id=reply.id,
                filename=item.filename,
                content_type=item.content_type,
                size=len(item.data),
                sha256=item.sha256,
                data=item.data,
            )
        )
    check.replies += 1
    if check.status not in OPEN_STATES:
        return []
    check.status = "answered"
    check.answered_at = message.received_at
    check.late = draft.late
    check.next_chase_at = None
    waiting = session.execute(
        select(Check.id).where(
            Check.contact_id == check.contact_id,
            Check.status.in_(OPEN_STATES),
            Check.id != check.id,
        )
    ).first()
    if waiting is not None:
        return []
    answers = session.execute(
        select(Check.agency, Check.rag, Check.late, Check.status)
        .where(Check.contact_id == check.contact_id)
        .order_by(Check.id)
    ).all()
    alert = manager_alert(
        config,
        now,
        title=f"checks complete for {check.reference}",
        lines=[
            f"{rag.upper()} {agency}: {COMPLETE_WORDS.get(status, status)}"
            + (" (late)" if late and status == "answered" else "")
            for agency, rag, late, status in answers
        ],
        action="Read the answers and decide: reply to this email with DECISION or OUTCOME "
        "and a Reason: paragraph.",
        cli=f"mash-gateway checks list --reference {check.reference}",
        reference=check.reference,
        purpose="checks-complete",
    )
    return [alert] if alert else []


# What "checks complete" says of each check: every one is accounted for, not only answers.
COMPLETE_WORDS = {
    "answered": "answered",
    "undeliverable": "UNDELIVERABLE: the request never arrived; no answer will come",
    "withdrawn": "withdrawn (no longer needed)",
}


def resend_undeliverable(session: Session, request_message_id: str, now: datetime, by: str) -> bool:
    """A manager sent an undeliverable check's request again (`outbox retry`): the check waits
    for its answer once more, and leaves the digest's undeliverable list."""
    check = session.execute(
        select(Check).where(Check.request_message_id == request_message_id)
    ).scalar_one_or_none()
    if check is None or check.status != "undeliverable":
        return False
    check.status = "pending"
    ledger.append(
        session,
        now,
        ledger.Event(
            action="check-resent",
            actor=by,
            subject_ref=check.reference,
            detail={"check": check.id, "agency": check.agency},
        ),
    )
    return True


def request_refused(session: Session, row: OutboxRow, now: datetime) -> None:
    """A check request the partner's server refused outright (5xx): as a bounce would, it
    makes the check undeliverable (no more chasing; the digest lists it for a manager)."""
    check = session.execute(
        select(Check).where(Check.request_message_id == row.header_message_id)
    ).scalar_one_or_none()
    if check is None or check.status not in OPEN_STATES:
        return
    check.status = "undeliverable"
    check.next_chase_at = None
    ledger.append(
        session,
        now,
        ledger.Event(
            action="check-undeliverable",
            subject_ref=check.reference,
            detail={"check": check.id, "agency": check.agency, "outbox_id": row.id},
        ),
    )


def record_update(session: Session, now: datetime, update: CheckUpdate) -> None:
    check = session.get(Check, update.check_id)
    if check is None:
        return
    if update.out_of_office and check.out_of_office_at is None:
        check.out_of_office_at = now
    if update.held and check.status == "pending":
        check.status = "held"
    if update.undeliverable and check.status in OPEN_STATES:
        check.status = "undeliverable"
        check.next_chase_at = None


def command_result(
    to: str, reference: str | None, accepted: bool, lines: list[str], command: str
) -> OutgoingMail:
    """The answer to a manager's command email, whether it was carried out or not."""
    return OutgoingMail(
        template="command_result",
        values={"reference": reference, "accepted": accepted, "lines": lines, "command": command},
        recipients=(to,),
        purpose=f"command {'confirmed' if accepted else 'refused'}",
        subject_ref=reference,
    )


def carry_out_decision(
    session: Session, config: Config, letters: Letters, now: datetime, request: DecisionRequest
) -> OutgoingMail:
    """A manager's emailed decision: recorded, and the manager told either way."""
    what = request.decision or request.outcome or ""
    summary = f"{'DECISION' if request.decision else 'OUTCOME'} {what}"
    manager = request.decided_by.rpartition("<")[2].rstrip(">")
    try:
        done = record(session, config, letters, now, request)
    except (DecisionError, NoAgreement) as exc:
        return command_result(manager, request.reference, False, [str(exc)], summary)
    return command_result(manager, request.reference, True, done, summary)


def carry_out_request(
    session: Session, config: Config, letters: Letters, now: datetime, request: Request
) -> list[OutgoingMail]:
    """A manager's emailed command: the checks requested, and the manager told either way."""
    summary = f"CHECKS {request.rag.upper()} {' '.join(request.agencies)}"
    try:
        made = request_checks(session, config, letters, now, request)
    except (CheckError, ConsentError, NoAgreement) as exc:
        return [command_result(request.requested_by, request.reference, False, [str(exc)], summary)]
    calendar = BusinessCalendar.from_config(config)
    lines = [
        f"{c.rag.upper()} check to {c.agency}, due "
        f"{calendar.local(c.due_at).strftime('%A %d %B %H:%M')}"
        for c in made
    ]
    contact = session.get(Contact, made[0].contact_id)
    if contact is not None:
        lines.extend(sharing_lines(config, contact))
    return [command_result(request.requested_by, request.reference, True, lines, summary)]
