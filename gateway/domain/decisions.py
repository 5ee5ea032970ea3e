"""The manager's call on a contact (protocol sections 4 and 5): screening decisions A-D and
outcomes, their clocks, the referrer's outcome letter, and all of it on the record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import Config
from gateway.domain.checks.withdraw import open_checks, withdraw_open_checks
from gateway.domain.contacts import CLOSED
from gateway.domain.decision_shares import SETTLES, check_agreements, known_unit
from gateway.domain.sharing import share_for
from gateway.domain.withheld import WITHHELD
from gateway.outbound.compose import Letters, OutgoingMail
from gateway.outbound.letter_values import child_names, letter_values
from gateway.outbound.outbox import enqueue
from gateway.store import ledger
from gateway.store.models import Contact, Decision, Message
from gateway.timescales import BusinessCalendar, deadline

log = logging.getLogger(__name__)

DECISIONS = {
    "A": "no further action",
    "B": "progress to a Section 17 or Section 47 child and family assessment",
    "C": "children's social care screening in the MASH",
    "D": "early help screening",
}
OUTCOMES = {
    "advice-and-guidance": "advice and guidance",
    "community-service": "referral to a community or voluntary service",
    "early-help": "early help assessment",
    "statutory-assessment": "statutory assessment (Section 17 or Section 47)",
    "no-further-action": "no further action",
    "forwarded-to-unit": "forwarded to the case-holding unit",
}
SCREENING = {"C": "csc-screening", "D": "early-help-screening"}
# Outcomes that hand the child on to social work: partners' answers still matter to the
# assessment, so open checks stay open and chased. Any other outcome withdraws them.
KEEPS_CHECKS_OPEN = ("statutory-assessment", "forwarded-to-unit")


class DecisionError(ValueError):
    """A decision that cannot be recorded, with the reason a manager can act on."""


@dataclass(frozen=True)
class DecisionRequest:
    reference: str
    reason: str
    decided_by: str
    decision: str | None = None  # A, B, C or D
    outcome: str | None = None  # one of OUTCOMES
    section: str | None = None  # "17" or "47", with B or a statutory assessment
    letter: bool = True
    letter_withheld_reason: str | None = None
    letter_withheld_category: str | None = None  # one of withheld.WITHHELD


def _validate(request: DecisionRequest) -> None:
    if request.decision is None and request.outcome is None:
        raise DecisionError("give a decision (A, B, C or D), an outcome, or both")
    settled = SETTLES.get(request.decision or "")
    if settled is not None and request.outcome not in (None, settled):
        raise DecisionError(
            f"decision {request.decision} settles the outcome as {settled}: give no other outcome"
        )
    if request.decision is not None and request.decision not in DECISIONS:
        raise DecisionError(f"decision must be A, B, C or D, not {request.decision!r}")
    if request.outcome is not None and request.outcome not in OUTCOMES:
        raise DecisionError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if not request.reason.strip():
        raise DecisionError("a decision needs its reason (--reason)")
    if request.section not in (None, "17", "47"):
        raise DecisionError("section must be 17 or 47")
    statutory = request.decision == "B" or request.outcome == "statutory-assessment"
    if request.section and not statutory:
        raise DecisionError(
            "a section (17 or 47) goes only with decision B or a statutory assessment"
        )
    if not request.letter and not (request.letter_withheld_reason or "").strip():
        raise DecisionError("withholding the letter needs its reason")
    if request.letter_withheld_category not in (None, *WITHHELD):
        raise DecisionError(f"a withheld letter's category is one of {', '.join(WITHHELD)}")


def record(
    session: Session, config: Config, letters: Letters, now: datetime, request: DecisionRequest
) -> list[str]:
    """Record the decision inside the caller's transaction; what was done, line by line."""
    _validate(request)
    # The ledger's head before the contact: a processing batch updating it holds the head.
    ledger.lock(session)
    contact = session.execute(
        select(Contact).where(Contact.reference == request.reference).with_for_update()
    ).scalar_one_or_none()
    if contact is None:
        raise DecisionError(f"no contact {request.reference}")
    if contact.status in CLOSED and _has_outcome(session, contact):
        raise DecisionError(f"{contact.reference} is already {contact.status}: nothing to decide")
    unscreened = contact.channel == "rfi" or contact.status in ("forwarded", "routed-back")
    if request.decision is None and not unscreened and not _has_decision(session, contact):
        # The screening decision starts the clocks (C: 24 hours, D: 72 hours) and records who
        # screened the contact; an outcome never comes first. Information requests and
        # contacts sent on to the case-holding unit are not screened (protocol 4.2, 4.5, 4.6).
        raise DecisionError(
            f"{contact.reference} has no screening decision yet: record one first (--decision "
            "A, B, C or D), or give --decision with --outcome in the same command"
        )
    check_agreements(session, config, contact, request, now)
    done: list[str] = []
    calendar = BusinessCalendar.from_config(config)
    if request.decision is not None:
        code = request.decision
        row = _store(session, contact, "decision", code, request, now, letter=None)
        done.append(f"decision {code}: {DECISIONS[code]}")
        if code in SCREENING:
            clocks = config.clocks
            within, counting = (
                (clocks.csc_screening, clocks.csc_screening_counting)
                if code == "C"
                else (clocks.early_help_screening, clocks.early_help_screening_counting)
            )
            contact.status = SCREENING[code]
            contact.decision_due_at = deadline(now, within, counting, calendar)
            # Kept on the decision: the outcome clears the contact's, the report needs it.
            row.due_at = contact.decision_due_at
            contact.decision_alerted_at = None
            what = "a decision on a statutory response" if code == "C" else "an outcome"
            done.append(
                f"{what} is due by "
                f"{calendar.local(contact.decision_due_at).strftime('%A %d %B %H:%M')}"
            )
        if code == "B":
            done.extend(_statutory(session, config, letters, now, contact, request))
        if code not in SETTLES and request.outcome is None:
            return done
    outcome = request.outcome or SETTLES[request.decision or ""]
    contact.status = "forwarded" if outcome == "forwarded-to-unit" else "closed"
    contact.decision_due_at = None
    contact.closed_at = now
    done.extend(_outcome(session, config, letters, now, contact, outcome, request))
    if outcome in KEEPS_CHECKS_OPEN:
        still = open_checks(session, contact)
        if still:
            done.append(
                f"{len(still)} check(s) still open and chased ({', '.join(still)}): "
                "their answers are for the assessment"
            )
    else:
        done.extend(
            withdraw_open_checks(
                session, config, letters, now, contact, by=request.decided_by, outcome=outcome
            )
        )
    return done


def _has_outcome(session: Session, contact: Contact) -> bool:
    """A forwarded contact has none yet: a manager may still record the unit's answer."""
    query = select(Decision.id).where(Decision.contact_id == contact.id, Decision.kind == "outcome")
    return contact.status == "closed" or session.execute(query).first() is not None


def _store(
    session: Session,
    contact: Contact,
    kind: str,
    code: str,
    request: DecisionRequest,
    now: datetime,
    *,
    letter: str | None,
) -> Decision:
    row = Decision(
        contact_id=contact.id,
        kind=kind,
        code=code,
        section=request.section,
        reason=request.reason.strip(),
        decided_by=request.decided_by,
        decided_at=now,
        letter=letter,
        letter_withheld_reason=request.letter_withheld_reason if letter == "withheld" else None,
        letter_withheld_category=request.letter_withheld_category if letter == "withheld" else None,
    )
    session.add(row)
    ledger.append(
        session,
        now,
        ledger.Event(
            action=f"{kind}-recorded",
            actor=request.decided_by,
            subject_ref=contact.reference,
            purpose=request.reason.strip()[:500],
            detail={
                kind: code,
                "meaning": (DECISIONS if kind == "decision" else OUTCOMES)[code],
                "section": request.section,
            },
        ),
    )
    return row


def _statutory(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    contact: Contact,
    request: DecisionRequest,
) -> list[str]:
    """B: back to a unit that closed the child within 3 months; Section 47 to the social work
    unit at once."""
    done = []
    raw = _original(session, contact)
    case = known_unit(session, config, contact, now)
    if case is not None:
        purpose = "decision B: re-referred to the unit that knew the child in the last 3 months"
        enqueue(
            session,
            config,
            letters,
            OutgoingMail(
                template="forward_to_unit",
                values={
                    "reference": contact.reference,
                    "unit": case.unit,
                    "open": case.status == "open",
                    "closed_on": case.closed_on,
                    "matched_by": case.matched_by,
                },
                recipients=(case.unit_email,),
                purpose=purpose,
                subject_ref=contact.reference,
                attached_messages=(raw,) if raw else (),
                share=share_for(config, contact, case.unit_email, purpose),
            ),
            now,
            source_message_id=contact.message_id,
        )
        done.append(f"re-referred to {case.unit} ({case.unit_email})")
    if request.section == "47":
        address = config.clocks.section47_address
        if address is None:
            done.append("Section 47: no [clocks] section47_address is configured; send it by hand")
        else:
            enqueue(
                session,
                config,
                letters,
                OutgoingMail(
                    template="section47_referral",
                    values={
                        **letter_values(config),
                        "reference": contact.reference,
                        "reason": request.reason.strip(),
                    },
                    recipients=(address,),
                    purpose="Section 47: the contact sent to the social work unit at once",
                    subject_ref=contact.reference,
                    attached_messages=(raw,) if raw else (),
                    share=share_for(config, contact, address, "Section 47 enquiry"),
                ),
                now,
                source_message_id=contact.message_id,
            )
            done.append(f"Section 47: the contact was sent to {address}")
    return done


def _has_decision(session: Session, contact: Contact) -> bool:
    found = session.execute(
        select(Decision.id).where(Decision.contact_id == contact.id, Decision.kind == "decision")
    ).first()
    return found is not None


def _original(session: Session, contact: Contact) -> bytes | None:
    if contact.message_id is None:
        return None
    message = session.get(Message, contact.message_id)
    return message.raw if message is not None else None


def _outcome(
    session: Session,
    config: Config,
    letters: Letters,
    now: datetime,
    contact: Contact,
    outcome: str,
    request: DecisionRequest,
) -> list[str]:
    done = [f"outcome: {OUTCOMES[outcome]}"]
    if not request.letter:
        _store(session, contact, "outcome", outcome, request, now, letter="withheld")
        ledger.append(
            session,
            now,
            ledger.Event(
                action="letter-withheld",
                actor=request.decided_by,
                subject_ref=contact.reference,
                recipient=contact.reply_address,
                purpose=(request.letter_withheld_reason or "").strip()[:500],
                detail={"category": request.letter_withheld_category},
            ),
        )
        done.append(f"letter withheld: {request.letter_withheld_reason}")
        return done
    if contact.reply_address is None:
        _store(session, contact, "outcome", outcome, request, now, letter=None)
        done.append("no letter: the referrer left no address")
        return done
    _store(session, contact, "outcome", outcome, request, now, letter="sent")
    public = contact.referrer_kind != "professional"  # family too: the safer letter
    children = (contact.referral or {}).get("children") or []
    names = [] if public else [c.get("given_name") for c in children if c.get("given_name")]
    enqueue(
        session,
        config,
        letters,
        OutgoingMail(
            template=f"outcome_{outcome.replace('-', '_')}",
            values={
                **letter_values(config),
                "reference": contact.reference,
                "public": public,
                # A member of the public's letter names no one: no third-party information.
                "children": names,
                "child_names": child_names(names),
                "section": request.section,
                # Only what was recorded: the letter never claims the family was advised.
                "family_advised": False,
            },
            recipients=(contact.reply_address,),
            purpose=f"outcome letter: {OUTCOMES[outcome]}",
            subject_ref=contact.reference,
            share=share_for(
                config,
                contact,
                contact.reply_address,
                f"telling the referrer the outcome ({OUTCOMES[outcome]})",
            ),
        ),
        now,
    )
    done.append(f"outcome letter sent to {contact.reply_address}")
    return done
